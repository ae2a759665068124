#pragma once
// DBSCAN's passes with neighbourhoods from FAISS indexes: IndexFlatL2 (exact), IndexIVFFlat and
// IndexHNSWFlat (approximate), behind the DbscanPasses interface. The pairs within eps come from
// range_search (flat) or a k-NN search whose results are kept within eps (hnsw, which has no range
// search), the queries being the rows read again in blocks and the results consumed batch by batch,
// never kept; for ivf, list by list from the index's own rows in sgemm tiles (ivf_range_search.h).
// What a pass does with a pair follows kernels/dbscan_rules.cuh.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algo/dbscan/dbscan_state.h"
#include "algo/spatial/dbscan_tiles.h"
#include "backend/dbscan_passes.h"

namespace embcluster {

// The rows of the sampled check: source rows ascending, their prepared rows (rows x d) and the
// preparation.
struct DbscanCheckSample {
  std::vector<int64_t> rows;
  std::vector<float> x;
  RowPrep prep;
};

// Reads the check sample into *check (and the IVF training sample) in one pass over the source,
// builds the index (params.index) and adds every row, for passes into st (rows of the source, no
// tiles). Appends the timings prepare, index_train, index_add (and index_probe for ivf). The
// passes run on the CPU ("cpu (N threads)"), without tile statistics (empty pass names); their
// notes are the index's resolved parameters (nlist and nprobe, or hnsw's) and index_bytes.
// Throws Error when the index does not fit the memory budget or FAISS fails.
std::unique_ptr<DbscanPasses> make_faiss_dbscan_passes(
    Source& source, const DBSCANParams& params, int threads, int64_t budget, DbscanState& st,
    const PhaseProgress& progress, std::vector<std::pair<std::string, double>>* timings,
    DbscanCheckSample* check);

}  // namespace embcluster
