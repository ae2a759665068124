// DBSCAN with neighbourhoods from FAISS indexes (dbscan_faiss.h): the index built and filled once,
// then each pass asks it for the pairs within eps of the rows the pass needs.
#include "algo/dbscan/dbscan_faiss.h"

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
#include "kernels/dbscan_rules.cuh"

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

// Runs f, turning a FAISS exception into an Error naming the index.
template <class F>
void faiss_call(DBSCANIndex index, F&& f) {
  try {
    f();
  } catch (const faiss::FaissException& e) {
    throw_error("index=", to_string(index), ": FAISS failed: ", e.what());
  }
}

// The index's bytes, checked against the memory budget.
int64_t checked_index_bytes(const DBSCANParams& p, const Resolved& r, int64_t n, int64_t d,
                            int64_t budget) {
  const int64_t ib = index_bytes(p, r, n, d);
  require(ib <= budget, "index=", to_string(p.index), " keeps every row in memory (about ",
          format_bytes(ib), "), more than the memory budget (", format_bytes(budget),
          "): raise --memory or use index=exact, which streams");
  return ib;
}

// A FAISS index over every row of the source and the pairs within eps it yields.
struct FaissIndex {
  FaissIndex(Source& s, const DBSCANParams& params, int th, int64_t budget, DbscanState& state)
      : source(s),
        p(params),
        threads(th),
        st(state),
        n(s.rows()),
        d(s.cols()),
        r(resolve(params, n)),
        ib(checked_index_bytes(params, r, n, d, budget)),
        rest(std::max<int64_t>(budget - ib, int64_t(16) << 20)),
        thread_guard(th, 1) {
    prep.normalise = p.metric == Metric::Cosine;
  }

  void open(const PhaseProgress& progress, std::vector<std::pair<std::string, double>>* timings,
            DbscanCheckSample* check);
  void read_samples(DbscanCheckSample* check, std::vector<int64_t>* train,
                    std::vector<float>* train_x);
  void build_index(const std::vector<int64_t>& train, const std::vector<float>& train_x);
  void fill_index(const PhaseProgress& progress);
  template <class Fn>
  void for_prepared(Fn&& fn);
  template <class Want, class Fn>
  void for_batches(const char* phase, Want&& want, Fn&& fn, const PhaseProgress& progress);
  template <class Want, class Pair>
  void for_pairs(const char* phase, int64_t k, Want&& want, Pair&& pair,
                 const PhaseProgress& progress);

  Source& source;
  const DBSCANParams& p;
  int threads;
  DbscanState& st;
  int64_t n, d;
  Resolved r;
  int64_t ib, rest;
  // FAISS parallelises with OpenMP's default team: `threads` for the index's lifetime. BLAS stays
  // single-threaded (its spinning threads would compete with OpenMP's) except where FAISS calls it
  // from one thread on big blocks: k-means training and flat searches (flat_blas).
  ThreadGuard thread_guard;
  std::unique_ptr<ThreadGuard> flat_blas;
  RowPrep prep;
  std::unique_ptr<faiss::Index> index;
  faiss::IndexIVFFlat* ivf = nullptr;
  std::unique_ptr<IvfRangeSearch> ivf_search;
  std::unique_ptr<Neighbours> nb;
  std::unique_ptr<RowBlocks> blocks;
  std::vector<float> buf;
  std::vector<int64_t> probes;  // ivf: each row's nprobe nearest lists, until the search has them
};

// The passes over the pairs of a FaissIndex, by the rules of kernels/dbscan_rules.cuh.
class FaissDbscanPasses final : public DbscanPasses {
 public:
  FaissDbscanPasses(Source& source, const DBSCANParams& params, int threads, int64_t budget,
                    DbscanState& st, const PhaseProgress& progress,
                    std::vector<std::pair<std::string, double>>* timings, DbscanCheckSample* check);
  DBSCANPassStats run(DbscanPass pass, const PhaseProgress& progress) override;
  std::string device_name() const override {
    return "cpu (" + std::to_string(faiss_.threads) + " threads)";
  }
  std::vector<std::pair<std::string, std::string>> notes() const override;

 private:
  FaissIndex faiss_;
};

// One read: the IVF training sample and the check sample, prepared.
void FaissIndex::read_samples(DbscanCheckSample* check, std::vector<int64_t>* train,
                              std::vector<float>* train_x) {
  Rng train_rng(p.seed, 0x1f5), check_rng(p.seed, 0xc4ec);
  if (p.index == DBSCANIndex::Ivf) *train = sample_rows(n, std::min(n, 64 * r.nlist), train_rng);
  check->rows = sample_rows(n, std::min(n, p.check_sample), check_rng);
  check->prep = prep;
  std::vector<int64_t> picks(*train);
  picks.insert(picks.end(), check->rows.begin(), check->rows.end());
  std::sort(picks.begin(), picks.end());
  picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
  std::vector<float> picked;
  read_rows(source, prep, picks, rest, threads, &picked);
  auto gather = [&](const std::vector<int64_t>& rows, std::vector<float>* out) {
    out->resize(rows.size() * d);
    for (size_t i = 0; i < rows.size(); ++i) {
      const size_t at = std::lower_bound(picks.begin(), picks.end(), rows[i]) - picks.begin();
      std::copy(picked.begin() + at * d, picked.begin() + (at + 1) * d, out->begin() + i * d);
    }
  };
  gather(check->rows, &check->x);
  gather(*train, train_x);
}

void FaissIndex::build_index(const std::vector<int64_t>& train, const std::vector<float>& train_x) {
  if (p.index == DBSCANIndex::Flat) {
    index = std::make_unique<faiss::IndexFlatL2>(d);
  } else if (p.index == DBSCANIndex::Ivf) {
    auto ivf_index = std::make_unique<faiss::IndexIVFFlat>(new faiss::IndexFlatL2(d), d, r.nlist);
    ivf_index->own_fields = true;
    ivf_index->cp.seed = static_cast<int>(p.seed & 0x7fffffff);
    ivf_index->verbose = false;
    {
      const ThreadGuard blas_threads(0, threads);
      ivf_index->train(static_cast<idx_t>(train.size()), train_x.data());
    }
    ivf_index->nprobe = static_cast<size_t>(r.nprobe);
    ivf = ivf_index.get();
    index = std::move(ivf_index);
  } else {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), p.hnsw_m);
    hnsw->hnsw.efConstruction = p.ef_construction;
    hnsw->hnsw.efSearch = r.ef_search;
    index = std::move(hnsw);
  }
}

// Calls fn(block, x) for every block of the source, x its rows prepared.
template <class Fn>
void FaissIndex::for_prepared(Fn&& fn) {
  blocks->for_each([&](const Block& b) {
    buf.assign(b.data, b.data + b.rows * d);
    prep.apply(buf.data(), b.rows, d, threads);
    fn(b, buf.data());
  });
}

// Adds every row. IVF: each row's nprobe nearest cells in sgemm tiles (FAISS's assignment ranks one
// centroid at a time); the nearest is where the row is added.
void FaissIndex::fill_index(const PhaseProgress& progress) {
  if (ivf) probes.resize(static_cast<size_t>(n * r.nprobe));
  const float* centroids =
      ivf ? dynamic_cast<const faiss::IndexFlat&>(*ivf->quantizer).get_xb() : nullptr;
  std::vector<idx_t> cell, row_ids;
  for_prepared([&](const Block& b, const float* x) {
    if (ivf) {
      int64_t* pr = probes.data() + b.start * r.nprobe;
      nearest_centres(x, b.rows, centroids, r.nlist, d, r.nprobe, threads, pr);
      cell.resize(static_cast<size_t>(b.rows));
      row_ids.resize(static_cast<size_t>(b.rows));
      for (int64_t i = 0; i < b.rows; ++i) {
        cell[i] = pr[i * r.nprobe];
        row_ids[i] = b.start + i;
      }
      ivf->add_core(b.rows, x, row_ids.data(), cell.data());
    } else {
      index->add(b.rows, x);
    }
    if (progress) progress("index", double(b.start + b.rows) / n);
  });
}

// Calls fn(ids, x) for prepared batches of the rows that want(row) selects, sized so that range
// results stay within a part of the memory budget.
template <class Want, class Fn>
void FaissIndex::for_batches(const char* phase, Want&& want, Fn&& fn,
                             const PhaseProgress& progress) {
  const int64_t result_budget = std::max<int64_t>(int64_t(64) << 20, rest / 4);
  int64_t batch = 1024;
  std::vector<float> sel;
  std::vector<int64_t> ids;
  for_prepared([&](const Block& b, const float* x) {
    for (int64_t s = 0; s < b.rows;) {
      sel.clear();
      ids.clear();
      for (; s < b.rows && static_cast<int64_t>(ids.size()) < batch; ++s) {
        if (!want(b.start + s)) continue;
        ids.push_back(b.start + s);
        sel.insert(sel.end(), x + s * d, x + (s + 1) * d);
      }
      if (ids.empty()) continue;
      fn(ids, sel.data());
      const double per_row = double(nb->last_results()) / ids.size() + 1;
      batch = std::clamp<int64_t>(static_cast<int64_t>(result_budget / (12 * per_row)), 64, 8192);
    }
    if (progress) progress(phase, double(b.start + b.rows) / n);
  });
}

// Calls pair(q, id) for every row id within eps of a row q that want(q) selects (q itself among
// them), possibly from several threads at once; k: neighbours asked of hnsw.
template <class Want, class Pair>
void FaissIndex::for_pairs(const char* phase, int64_t k, Want&& want, Pair&& pair,
                           const PhaseProgress& progress) {
  if (ivf_search) {
    ivf_search->for_pairs(want, pair, [&](double f) {
      if (progress) progress(phase, f);
    });
    return;
  }
  for_batches(
      phase, want,
      [&](const std::vector<int64_t>& ids, const float* x) {
        nb->run(x, ids.size(), k, [&](int64_t i, const idx_t* nbr, int64_t c) {
          for (int64_t j = 0; j < c; ++j) pair(ids[i], static_cast<int64_t>(nbr[j]));
        });
      },
      progress);
}

// Reads the samples, builds the index and adds every row (see make_faiss_dbscan_passes).
void FaissIndex::open(const PhaseProgress& progress,
                      std::vector<std::pair<std::string, double>>* timings,
                      DbscanCheckSample* check) {
  double t0 = dbscan_now_s();
  std::vector<int64_t> train;
  std::vector<float> train_x;
  read_samples(check, &train, &train_x);
  timings->emplace_back("prepare", dbscan_now_s() - t0);
  faiss_call(p.index, [&] {
    t0 = dbscan_now_s();
    build_index(train, train_x);
    timings->emplace_back("index_train", dbscan_now_s() - t0);
    t0 = dbscan_now_s();
    blocks = std::make_unique<RowBlocks>(source, rest, 4096, int64_t(1) << 16);
    fill_index(progress);
    timings->emplace_back("index_add", dbscan_now_s() - t0);
    // FAISS scans an IVF list one vector at a time (without SIMD in a generic build): IVF
    // neighbours come list by list from sgemm tiles instead (ivf_range_search.h).
    if (ivf) {
      t0 = dbscan_now_s();
      ivf_search = std::make_unique<IvfRangeSearch>(*ivf, probes.data(), st.eps2, threads);
      std::vector<int64_t>().swap(probes);
      timings->emplace_back("index_probe", dbscan_now_s() - t0);
    }
    nb = std::make_unique<Neighbours>(*index, p.index == DBSCANIndex::Hnsw, st.eps2);
    if (p.index == DBSCANIndex::Flat) flat_blas = std::make_unique<ThreadGuard>(0, threads);
  });
}

FaissDbscanPasses::FaissDbscanPasses(Source& source, const DBSCANParams& params, int threads,
                                     int64_t budget, DbscanState& st, const PhaseProgress& progress,
                                     std::vector<std::pair<std::string, double>>* timings,
                                     DbscanCheckSample* check)
    : faiss_(source, params, threads, budget, st) {
  faiss_.open(progress, timings, check);
}

DBSCANPassStats FaissDbscanPasses::run(DbscanPass pass, const PhaseProgress& progress) {
  DbscanState& st = faiss_.st;
  const char* phase = dbscan_pass_name(pass);
  constexpr auto kRelaxed = std::memory_order_relaxed;
  faiss_call(faiss_.p.index, [&] {
    if (pass == DbscanPass::count) {
      for (int64_t i = 0; i < faiss_.n; ++i) st.count[i].store(1, kRelaxed);  // the row itself
      faiss_.for_pairs(
          phase, faiss_.p.min_samples, [](int64_t) { return true; },
          [&](int64_t q, int64_t id) {
            if (kern::dbscan_counts(q, id)) st.count[q].fetch_add(1, kRelaxed);
          },
          progress);
    } else if (pass == DbscanPass::union_core) {
      faiss_.for_pairs(
          phase, faiss_.r.hnsw_k, [&](int64_t row) { return st.core[row] != 0; },
          [&](int64_t q, int64_t id) {
            if (kern::dbscan_joins(true, st.core[id])) st.uf.unite(q, id);
          },
          progress);
    } else {
      faiss_.for_pairs(
          phase, faiss_.p.min_samples, [&](int64_t row) { return st.core[row] == 0; },
          [&](int64_t q, int64_t id) {
            if (kern::dbscan_attaches(false, st.core[id])) atomic_min(st.border[q], st.uf.root(id));
          },
          progress);
    }
  });
  return {};
}

std::vector<std::pair<std::string, std::string>> FaissDbscanPasses::notes() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (faiss_.p.index == DBSCANIndex::Ivf) {
    out.emplace_back("nlist", std::to_string(faiss_.r.nlist));
    out.emplace_back("nprobe", std::to_string(faiss_.r.nprobe));
  } else if (faiss_.p.index == DBSCANIndex::Hnsw) {
    out.emplace_back("hnsw_m", std::to_string(faiss_.p.hnsw_m));
    out.emplace_back("ef_construction", std::to_string(faiss_.p.ef_construction));
    out.emplace_back("ef_search", std::to_string(faiss_.r.ef_search));
    out.emplace_back("hnsw_k", std::to_string(faiss_.r.hnsw_k));
  }
  out.emplace_back("index_bytes", std::to_string(faiss_.ib));
  return out;
}

}  // namespace

std::unique_ptr<DbscanPasses> make_faiss_dbscan_passes(
    Source& source, const DBSCANParams& params, int threads, int64_t budget, DbscanState& st,
    const PhaseProgress& progress, std::vector<std::pair<std::string, double>>* timings,
    DbscanCheckSample* check) {
  return std::make_unique<FaissDbscanPasses>(source, params, threads, budget, st, progress, timings,
                                             check);
}

}  // namespace embcluster
