// DBSCAN with neighbourhoods from FAISS indexes: IndexFlatL2 (exact), IndexIVFFlat and
// IndexHNSWFlat (approximate). The three passes are those of the exact driver over pairs of rows
// within eps: from range_search (flat) or a k-NN search whose results are kept within eps (hnsw,
// which has no range search), the queries being the rows read again in blocks and the results
// consumed batch by batch, never kept; for ivf, list by list from the index's own rows in sgemm
// tiles (ivf_range_search.h).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "algo/dbscan/dbscan_internal.h"
#include "algo/dbscan/ivf_range_search.h"
#include "algo/kmeans/kmeans_init.h"
#include "core/rng.h"
#include "core/thread_guard.h"
#include "cpu/nearest_centres.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "io/row_blocks.h"

namespace embcluster {
namespace {

using idx_t = faiss::Index::idx_t;

struct Resolved {
  int64_t nlist = 0, nprobe = 0, hnsw_k = 0;
  int ef_search = 0;
};

Resolved resolve(const DBSCANParams& p, int64_t n) {
  Resolved r;
  const int64_t auto_nlist = std::llround(std::sqrt(static_cast<double>(n)));
  r.nlist =
      p.nlist > 0 ? p.nlist : std::clamp<int64_t>(auto_nlist, 1, std::max<int64_t>(1, n / 39));
  r.nprobe = std::min(p.nprobe > 0 ? p.nprobe : 8, r.nlist);
  r.hnsw_k = p.hnsw_k > 0 ? p.hnsw_k : std::max<int64_t>(32, 2 * p.min_samples);
  r.hnsw_k = std::min(r.hnsw_k, n);
  r.ef_search = p.ef_search > 0 ? p.ef_search : static_cast<int>(std::max<int64_t>(64, r.hnsw_k));
  return r;
}

int64_t index_bytes(const DBSCANParams& p, const Resolved& r, int64_t n, int64_t d) {
  const int64_t rows = n * d * 4;
  if (p.index == DBSCANIndex::Flat) return rows;
  if (p.index == DBSCANIndex::Ivf)
    return rows + n * 8 + r.nlist * d * 4 + IvfRangeSearch::extra_bytes(n, r.nprobe);
  return rows + n * ((2 * int64_t(p.hnsw_m) + 2) * 4 + 16);  // level 0 links and upper levels
}

// Neighbours within eps of the rows x (m x d): fn(i, ids, count) for each row, ids excluding
// nothing (the caller skips the row itself). k is used by hnsw only.
class Neighbours {
 public:
  Neighbours(faiss::Index& index, bool knn, float eps2) : index_(index), knn_(knn), eps2_(eps2) {}

  template <class Fn>
  void run(const float* x, int64_t m, int64_t k, Fn&& fn) {
    if (knn_) {
      k = std::min<int64_t>(k, index_.ntotal);
      dist_.resize(static_cast<size_t>(m * k));
      ids_.resize(static_cast<size_t>(m * k));
      index_.search(m, x, k, dist_.data(), ids_.data());
      for (int64_t i = 0; i < m; ++i) {
        int64_t c = 0;
        for (int64_t j = 0; j < k; ++j)  // results are sorted by distance
          if (ids_[i * k + j] >= 0 && dist_[i * k + j] <= eps2_)
            ids_[i * k + c++] = ids_[i * k + j];
        fn(i, ids_.data() + i * k, c);
      }
      return;
    }
    faiss::RangeSearchResult res(m);
    // FAISS keeps distances strictly below the radius.
    index_.range_search(m, x, std::nextafter(eps2_, 2 * eps2_ + 1), &res);
    for (int64_t i = 0; i < m; ++i)
      fn(i, res.labels + res.lims[i], static_cast<int64_t>(res.lims[i + 1] - res.lims[i]));
    last_results_ = static_cast<int64_t>(res.lims[m]);
  }
  int64_t last_results() const { return last_results_; }

 private:
  faiss::Index& index_;
  bool knn_;
  float eps2_;
  std::vector<float> dist_;
  std::vector<idx_t> ids_;
  int64_t last_results_ = 0;
};

}  // namespace

void dbscan_faiss(Source& source, const DBSCANParams& p, const ExecutionContext& ctx,
                  int threads, int64_t budget, DbscanState& st, DBSCANResult* res,
                  const PhaseProgress& progress, std::vector<int64_t>* check_rows,
                  std::vector<float>* check_x, RowPrep* prep) {
  const int64_t n = source.rows(), d = source.cols();
  const Resolved r = resolve(p, n);
  const int64_t ib = index_bytes(p, r, n, d);
  require(ib <= budget, "index=", to_string(p.index), " keeps every row in memory (about ",
          format_bytes(ib), "), more than the memory budget (", format_bytes(budget),
          "): raise --memory or use index=exact, which streams");
  const int64_t rest = std::max<int64_t>(budget - ib, int64_t(16) << 20);
  // FAISS parallelises with OpenMP's default team, which the entry point's ThreadGuard set to
  // `threads`. BLAS stays single-threaded (its spinning threads would compete with OpenMP's)
  // except where FAISS calls it from one thread on big blocks: k-means training and flat searches.
  const bool cosine = p.metric == Metric::Cosine;

  // One read: the IVF training sample and the check sample.
  double t0 = dbscan_now_s();
  Rng train_rng(p.seed, 0x1f5), check_rng(p.seed, 0xc4ec);
  std::vector<int64_t> train;
  if (p.index == DBSCANIndex::Ivf) train = sample_rows(n, std::min(n, 64 * r.nlist), train_rng);
  *check_rows = sample_rows(n, std::min(n, p.check_sample), check_rng);
  std::vector<int64_t> picks(train);
  picks.insert(picks.end(), check_rows->begin(), check_rows->end());
  std::sort(picks.begin(), picks.end());
  picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
  std::vector<float> picked;
  prep->normalise = cosine;
  read_rows(source, *prep, picks, rest, threads, &picked);
  auto gather = [&](const std::vector<int64_t>& rows, std::vector<float>* out) {
    out->resize(rows.size() * d);
    for (size_t i = 0; i < rows.size(); ++i) {
      const size_t at = std::lower_bound(picks.begin(), picks.end(), rows[i]) - picks.begin();
      std::copy(picked.begin() + at * d, picked.begin() + (at + 1) * d, out->begin() + i * d);
    }
  };
  gather(*check_rows, check_x);
  res->timings.emplace_back("prepare", dbscan_now_s() - t0);

  try {
    t0 = dbscan_now_s();
    std::unique_ptr<faiss::Index> index;
    if (p.index == DBSCANIndex::Flat) {
      index = std::make_unique<faiss::IndexFlatL2>(d);
    } else if (p.index == DBSCANIndex::Ivf) {
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(new faiss::IndexFlatL2(d), d, r.nlist);
      ivf->own_fields = true;
      ivf->cp.seed = static_cast<int>(p.seed & 0x7fffffff);
      ivf->verbose = false;
      std::vector<float> tx;
      gather(train, &tx);
      {
        const ThreadGuard blas_threads(0, threads);
        ivf->train(static_cast<idx_t>(train.size()), tx.data());
      }
      ivf->nprobe = static_cast<size_t>(r.nprobe);
      index = std::move(ivf);
    } else {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), p.hnsw_m);
      hnsw->hnsw.efConstruction = p.ef_construction;
      hnsw->hnsw.efSearch = r.ef_search;
      index = std::move(hnsw);
    }
    res->timings.emplace_back("index_train", dbscan_now_s() - t0);

    t0 = dbscan_now_s();
    RowBlocks blocks(source, rest, 4096, int64_t(1) << 16);
    std::vector<float> buf;
    // IVF: each row's nprobe nearest cells in sgemm tiles (FAISS's assignment ranks one
    // centroid at a time); the nearest is where the row is added.
    auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(index.get());
    std::vector<int64_t> probes;
    if (ivf) probes.resize(static_cast<size_t>(n * r.nprobe));
    const float* centroids =
        ivf ? dynamic_cast<const faiss::IndexFlat&>(*ivf->quantizer).get_xb() : nullptr;
    std::vector<idx_t> cell, row_ids;
    blocks.for_each([&](const Block& b) {
      buf.assign(b.data, b.data + b.rows * d);
      prep->apply(buf.data(), b.rows, d, threads);
      if (ivf) {
        int64_t* pr = probes.data() + b.start * r.nprobe;
        nearest_centres(buf.data(), b.rows, centroids, r.nlist, d, r.nprobe, threads, pr);
        cell.resize(static_cast<size_t>(b.rows));
        row_ids.resize(static_cast<size_t>(b.rows));
        for (int64_t i = 0; i < b.rows; ++i) {
          cell[i] = pr[i * r.nprobe];
          row_ids[i] = b.start + i;
        }
        ivf->add_core(b.rows, buf.data(), row_ids.data(), cell.data());
      } else {
        index->add(b.rows, buf.data());
      }
      if (progress) progress("index", double(b.start + b.rows) / n);
    });
    res->timings.emplace_back("index_add", dbscan_now_s() - t0);

    // FAISS scans an IVF list one vector at a time (without SIMD in a generic build): IVF
    // neighbours come list by list from sgemm tiles instead (ivf_range_search.h).
    std::unique_ptr<IvfRangeSearch> ivf_search;
    if (ivf) {
      t0 = dbscan_now_s();
      ivf_search = std::make_unique<IvfRangeSearch>(*ivf, probes.data(), st.eps2, threads);
      std::vector<int64_t>().swap(probes);
      res->timings.emplace_back("index_probe", dbscan_now_s() - t0);
    }
    Neighbours nb(*index, p.index == DBSCANIndex::Hnsw, st.eps2);
    const ThreadGuard flat_blas_threads(0, p.index == DBSCANIndex::Flat ? threads : 0);
    const int64_t result_budget = std::max<int64_t>(int64_t(64) << 20, rest / 4);
    // Calls fn(first row, rows, x) for prepared batches of the rows that want(row) selects,
    // sized so that range results stay within result_budget.
    auto for_batches = [&](const char* phase, auto want, auto fn) {
      int64_t batch = 1024;
      std::vector<float> sel;
      std::vector<int64_t> ids;
      blocks.for_each([&](const Block& b) {
        buf.assign(b.data, b.data + b.rows * d);
        prep->apply(buf.data(), b.rows, d, threads);
        for (int64_t s = 0; s < b.rows;) {
          sel.clear();
          ids.clear();
          for (; s < b.rows && static_cast<int64_t>(ids.size()) < batch; ++s) {
            if (!want(b.start + s)) continue;
            ids.push_back(b.start + s);
            sel.insert(sel.end(), buf.begin() + s * d, buf.begin() + (s + 1) * d);
          }
          if (ids.empty()) continue;
          fn(ids, sel.data());
          const double per_row = double(nb.last_results()) / ids.size() + 1;
          batch =
              std::clamp<int64_t>(static_cast<int64_t>(result_budget / (12 * per_row)), 64, 8192);
        }
        if (progress) progress(phase, double(b.start + b.rows) / n);
      });
    };
    // Calls pair(q, id) for every row id within eps of a row q that want(q) selects (q itself
    // among them), possibly from several threads at once; k: neighbours asked of hnsw.
    auto for_pairs = [&](const char* phase, int64_t k, auto want, auto pair) {
      if (ivf_search) {
        ivf_search->for_pairs(want, pair, [&](double f) {
          if (progress) progress(phase, f);
        });
        return;
      }
      for_batches(phase, want, [&](const std::vector<int64_t>& ids, const float* x) {
        nb.run(x, ids.size(), k, [&](int64_t i, const idx_t* nbr, int64_t c) {
          for (int64_t j = 0; j < c; ++j) pair(ids[i], static_cast<int64_t>(nbr[j]));
        });
      });
    };

    t0 = dbscan_now_s();
    throw_if_cancelled(ctx);
    if (p.min_samples > 1) {
      for (int64_t i = 0; i < n; ++i) st.count[i].store(1, std::memory_order_relaxed);  // itself
      for_pairs(
          "count", p.min_samples, [](int64_t) { return true; },
          [&](int64_t q, int64_t id) {
            if (id != q) st.count[q].fetch_add(1, std::memory_order_relaxed);
          });
    }
    for (int64_t i = 0; i < n; ++i)
      st.core[i] =
          p.min_samples == 1 || st.count[i].load(std::memory_order_relaxed) >= p.min_samples;
    res->timings.emplace_back("count", dbscan_now_s() - t0);

    t0 = dbscan_now_s();
    throw_if_cancelled(ctx);
    for_pairs(
        "union", r.hnsw_k, [&](int64_t row) { return st.core[row] != 0; },
        [&](int64_t q, int64_t id) {
          if (st.core[id]) st.uf.unite(q, id);
        });
    st.uf.flatten();
    res->timings.emplace_back("union", dbscan_now_s() - t0);

    t0 = dbscan_now_s();
    throw_if_cancelled(ctx);
    for_pairs(
        "border", p.min_samples, [&](int64_t row) { return st.core[row] == 0; },
        [&](int64_t q, int64_t id) {
          if (st.core[id]) atomic_min(st.border[q], st.uf.root(id));
        });
    res->timings.emplace_back("border", dbscan_now_s() - t0);
  } catch (const faiss::FaissException& e) {
    throw_error("index=", to_string(p.index), ": FAISS failed: ", e.what());
  }

  res->streamed = false;
  res->block_rows = 0;
  if (p.index == DBSCANIndex::Ivf) {
    res->notes.emplace_back("nlist", std::to_string(r.nlist));
    res->notes.emplace_back("nprobe", std::to_string(r.nprobe));
  } else if (p.index == DBSCANIndex::Hnsw) {
    res->notes.emplace_back("hnsw_m", std::to_string(p.hnsw_m));
    res->notes.emplace_back("ef_construction", std::to_string(p.ef_construction));
    res->notes.emplace_back("ef_search", std::to_string(r.ef_search));
    res->notes.emplace_back("hnsw_k", std::to_string(r.hnsw_k));
  }
  res->notes.emplace_back("index_bytes", std::to_string(ib));
}

}  // namespace embcluster
