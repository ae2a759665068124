// Exact DBSCAN's passes on a CUDA device: per-row arrays on the device, rows resident or streamed
// in chunks of whole tiles, tile pairs classified on the device and computed in batches (cuBLAS
// batched SGEMM, then the pass kernel).
#include "cuda/cuda_dbscan.h"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

#include "cuda/cuda_resources.h"
#include "cuda/gpu_resources.h"
#include "cuda/shrinking.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"
#include "kernels/dbscan_kernels.cuh"

namespace embcluster {
namespace {

constexpr int64_t kTile = kern::kDbscanGpuTile;
static_assert(kTile == kDbscanTileRows, "device tiles are DbscanTiles' tiles");
constexpr int64_t kTileBytes = kTile * kTile * sizeof(float);
constexpr int64_t kMaxBatch = 8192;                   // tile pairs per batched SGEMM
constexpr int64_t kMaxCandidates = int64_t(1) << 22;  // tile pairs classified at a time
constexpr int64_t kStageFloats = int64_t(4) << 20;    // per pinned staging buffer (16 MiB)

// Consecutive tiles [t0, t1) of one host block: rows at global positions [p0, p1).
struct Chunk {
  int64_t block = 0;
  int64_t t0 = 0, t1 = 0;
  int64_t p0 = 0, p1 = 0;
  int64_t rows() const { return p1 - p0; }
};

// A chunk's rows on the device, followed by one tile of zero padding (the SGEMM reads whole
// 256-row tiles).
struct Slot {
  explicit Slot(Workspace& ws) { ws.adopt(x, norms); }
  DeviceBuffer<float> x, norms;
  int64_t chunk = -1;
};

const char* pass_name(DbscanPass p) {
  return p == DbscanPass::count ? "count" : p == DbscanPass::union_core ? "union" : "border";
}

}  // namespace

struct CudaDbscanPasses::Impl {
  Impl(DbscanTiles& r, DbscanState& s, int dev, int th, int64_t device_budget)
      : rows(r),
        st(s),
        device(dev),
        threads(th),
        n(r.rows()),
        d(r.dims()),
        T(r.tile_total()),
        res(gpu_resources(dev)),
        ws(dev, res.budget(device_budget)) {
    ws.adopt(ids, counts, parent, border, core, tile_begin, tile_rows, tile_core, centres, radius,
             max_norm, pairs, counters, g, a_ptr, b_ptr, c_ptr);
  }

  DbscanTiles& rows;
  DbscanState& st;
  int device;
  int threads;
  int64_t n, d, T;
  GpuResources& res;
  Workspace ws;  // before the buffers: they are freed through it
  int64_t budget = 0;

  // Stream 0 of the device's pool and its cuBLAS handle: copies, kernels and GEMMs in order.
  cudaStream_t stream = nullptr;
  cublasHandle_t handle = nullptr;
  // Per row (source order) and per tile.
  DeviceBuffer<int32_t> ids, counts, parent, border;
  DeviceBuffer<uint8_t> core;
  DeviceBuffer<int32_t> tile_begin, tile_rows, tile_core;
  DeviceBuffer<double> centres, radius, max_norm;
  // Work space: classified pairs, counters, dot-product tiles and their SGEMM pointers.
  DeviceBuffer<int2> pairs;
  DeviceBuffer<unsigned long long> counters;
  DeviceBuffer<float> g;
  DeviceBuffer<const float*> a_ptr, b_ptr;
  DeviceBuffer<float*> c_ptr;
  PinnedBuffer<unsigned long long> host_counters;
  PinnedBuffer<float> stage[2];
  std::unique_ptr<Event> staged[2];
  int next_stage = 0;

  std::vector<Chunk> chunks;
  bool resident = true;
  int64_t chunk_rows = 0, batch = 0, candidates = 0;
  // Resident: one slot per chunk. Streamed: slot 0 for the outer chunk, 1 and 2 for inner ones.
  std::vector<std::unique_ptr<Slot>> slots;
  int next_inner = 0;
  std::shared_ptr<const LoadedBlock> host_block[2];
  bool core_uploaded = false;

  void init();
  void plan(int64_t rest);
  void upload_fixed();
  const LoadedBlock& host(int64_t b);
  void copy_to_device(float* dst, const float* src, int64_t count);
  void upload(void* dst, const void* src, size_t bytes);
  Slot& slot_for(int64_t c, bool outer);
  void upload_core();
  void chunk_pair(DbscanPass pass, int64_t i, int64_t j, DBSCANPassStats& stats,
                  const std::function<void(int64_t)>& examined);
  void run_batch(DbscanPass pass, const Slot& a, const Slot& b, const Chunk& ca, const Chunk& cb,
                 int64_t first, int64_t count);
  kern::DbscanTileSet tile_set() const;
};

void CudaDbscanPasses::Impl::init() {
  budget = ws.budget();
  stream = res.stream(0);
  handle = res.blas(0);
  for (auto& e : staged) e = std::make_unique<Event>();
  host_counters.resize(3);

  const int64_t per_row = n * (4 * 4 + 1);
  const int64_t per_tiles = T * (3 * 4 + 2 * 8 + 8 * d);
  const int64_t fixed = per_row + per_tiles;
  if (fixed >= budget)
    throw DeviceOutOfMemory("device memory budget " + format_bytes(budget) + " cannot hold the " +
                            format_bytes(fixed) + " of per-row and per-tile arrays for " +
                            std::to_string(n) +
                            " rows: raise the device memory budget or use --device cpu");
  ids.resize(static_cast<size_t>(n));
  counts.resize(static_cast<size_t>(n));
  parent.resize(static_cast<size_t>(n));
  border.resize(static_cast<size_t>(n));
  core.resize(static_cast<size_t>(n));
  tile_begin.resize(static_cast<size_t>(T));
  tile_rows.resize(static_cast<size_t>(T));
  tile_core.resize(static_cast<size_t>(T));
  centres.resize(static_cast<size_t>(T * d));
  radius.resize(static_cast<size_t>(T));
  max_norm.resize(static_cast<size_t>(T));
  counters.resize(3);
  upload_fixed();

  // The rest of the budget: work space and rows. When the device runs out of memory (other users
  // of the device, fragmentation) what is asked for halves, down to about what one batch and three
  // chunks of one tile need.
  int64_t rest = budget - fixed;
  const int64_t least = 4 * (kTileBytes + 24) + 3 * 2 * kTile * (d * 4 + 4);
  with_shrinking(rest, std::min(rest, least), [&](int64_t r) { plan(r); });
}

// Sizes the work space and the row chunks from `rest` bytes and allocates them.
void CudaDbscanPasses::Impl::plan(int64_t rest) {
  const int64_t row_bytes = d * 4 + 4;
  batch = std::clamp<int64_t>(rest / 4 / (kTileBytes + 24), 1, kMaxBatch);
  // At least one full row of tile pairs per classification (T pairs).
  candidates = std::max<int64_t>(std::min<int64_t>(kMaxCandidates, rest / 16 / 8), T);
  const int64_t work = batch * (kTileBytes + 24) + candidates * 8;
  const int64_t data = rest - work;
  std::vector<int64_t> block_rows;
  int64_t total = 0;
  for (int64_t b = 0; b < rows.block_count(); ++b) {
    const int64_t r = rows.tile(rows.first_tile(b) + rows.tile_count(b) - 1).end -
                      rows.tile(rows.first_tile(b)).begin;
    block_rows.push_back(r);
    total += (r + kTile) * row_bytes;
  }
  resident = total <= data;
  if (resident) {
    chunk_rows = *std::max_element(block_rows.begin(), block_rows.end());
  } else {
    // Three chunks on the device: the outer one and two inner ones (one being refilled).
    chunk_rows = data / 3 / row_bytes - kTile;
    if (chunk_rows < kTile)
      throw DeviceOutOfMemory("device memory budget " + format_bytes(budget) +
                              " cannot hold three chunks of " + std::to_string(kTile) +
                              " rows besides the work space: raise the device memory budget or "
                              "use --device cpu");
  }
  chunks.clear();
  for (int64_t b = 0; b < rows.block_count(); ++b) {
    const int64_t first = rows.first_tile(b), last = first + rows.tile_count(b);
    for (int64_t t = first; t < last;) {
      Chunk c;
      c.block = b;
      c.t0 = t;
      c.p0 = rows.tile(t).begin;
      while (t < last && rows.tile(t).end - c.p0 <= chunk_rows) ++t;
      c.t1 = t;
      c.p1 = rows.tile(t - 1).end;
      chunks.push_back(c);
    }
  }

  slots.clear();
  g.release();
  pairs.resize(static_cast<size_t>(candidates));
  g.resize(static_cast<size_t>(batch * kTile * kTile));
  a_ptr.resize(static_cast<size_t>(batch));
  b_ptr.resize(static_cast<size_t>(batch));
  c_ptr.resize(static_cast<size_t>(batch));
  const size_t nslots = resident ? chunks.size() : 3;
  for (size_t k = 0; k < nslots; ++k) {
    auto s = std::make_unique<Slot>(ws);
    const int64_t r = (resident ? chunks[k].rows() : chunk_rows) + kTile;
    s->x.resize(static_cast<size_t>(r * d));
    s->norms.resize(static_cast<size_t>(r));
    EMB_CUDA(cudaMemsetAsync(s->x.get(), 0, s->x.bytes(), stream));
    EMB_CUDA(cudaMemsetAsync(s->norms.get(), 0, s->norms.bytes(), stream));
    slots.push_back(std::move(s));
  }
  const int64_t stage_floats = std::min<int64_t>(kStageFloats, chunk_rows * d + kTile);
  for (auto& s : stage) s.resize(static_cast<size_t>(stage_floats));
  sync_stream(stream);
}

void CudaDbscanPasses::Impl::upload_fixed() {
  std::vector<int32_t> ids32(static_cast<size_t>(n));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t p = 0; p < n; ++p) ids32[p] = static_cast<int32_t>(rows.ids()[p]);
  upload(ids.get(), ids32.data(), ids.bytes());
  std::vector<int32_t> begin(static_cast<size_t>(T)), count(static_cast<size_t>(T));
  std::vector<double> c(static_cast<size_t>(T * d)), r(static_cast<size_t>(T)),
      m(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    const TileInfo& ti = rows.tile(t);
    EMBCLUSTER_ASSERT(ti.rows() >= 1 && ti.rows() <= kTile, "tile ", t, " has ", ti.rows(),
                      " rows");
    begin[t] = static_cast<int32_t>(ti.begin);
    count[t] = static_cast<int32_t>(ti.rows());
    std::memcpy(c.data() + t * d, rows.centre(t), sizeof(double) * d);
    r[t] = ti.radius;
    m[t] = ti.max_sq_norm;
  }
  upload(tile_begin.get(), begin.data(), tile_begin.bytes());
  upload(tile_rows.get(), count.data(), tile_rows.bytes());
  upload(centres.get(), c.data(), centres.bytes());
  upload(radius.get(), r.data(), radius.bytes());
  upload(max_norm.get(), m.data(), max_norm.bytes());
  sync_stream(stream);  // the host vectors go out of scope
}

// Copies host memory to the device on the passes' stream. A plain cudaMemcpy runs on the legacy
// default stream, which the non-blocking stream does not wait for: a kernel could read the
// destination before the copy lands.
void CudaDbscanPasses::Impl::upload(void* dst, const void* src, size_t bytes) {
  EMB_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
}

kern::DbscanTileSet CudaDbscanPasses::Impl::tile_set() const {
  kern::DbscanTileSet s;
  s.begin = tile_begin.get();
  s.rows = tile_rows.get();
  s.core = tile_core.get();
  s.centre = centres.get();
  s.radius = radius.get();
  s.max_norm = max_norm.get();
  return s;
}

// The prepared rows of host block b (the last two blocks read are kept).
const LoadedBlock& CudaDbscanPasses::Impl::host(int64_t b) {
  for (const auto& h : host_block)
    if (h && h->index == b) return *h;
  host_block[1] = std::move(host_block[0]);
  host_block[0] = rows.load(b);
  return *host_block[0];
}

// Copies count floats from pageable host memory to the device through the two pinned staging
// buffers: filling one while the other is being copied.
void CudaDbscanPasses::Impl::copy_to_device(float* dst, const float* src, int64_t count) {
  const int64_t piece = static_cast<int64_t>(stage[0].size());
  for (int64_t off = 0; off < count; off += piece) {
    const int k = next_stage;
    next_stage ^= 1;
    const int64_t len = std::min(piece, count - off);
    EMB_CUDA(cudaEventSynchronize(staged[k]->get()));  // its previous copy is done
    std::memcpy(stage[k].get(), src + off, sizeof(float) * len);
    EMB_CUDA(cudaMemcpyAsync(dst + off, stage[k].get(), sizeof(float) * len, cudaMemcpyHostToDevice,
                             stream));
    staged[k]->record(stream);
  }
}

// The slot holding chunk c, uploading it when needed. Copies and kernels share one stream, so a
// slot is refilled only after the work queued on its previous chunk.
Slot& CudaDbscanPasses::Impl::slot_for(int64_t c, bool outer) {
  Slot* s = nullptr;
  if (resident) {
    s = slots[c].get();
  } else if (outer) {
    s = slots[0].get();
  } else if (slots[1]->chunk == c || slots[2]->chunk == c) {
    return slots[1]->chunk == c ? *slots[1] : *slots[2];
  } else {
    s = slots[1 + next_inner].get();
    next_inner ^= 1;
  }
  if (s->chunk == c) return *s;
  const Chunk& ch = chunks[c];
  const LoadedBlock& blk = host(ch.block);
  const int64_t local = ch.p0 - blk.pos0;
  copy_to_device(s->x.get(), blk.data.data() + local * d, ch.rows() * d);
  copy_to_device(s->norms.get(), blk.norms.data() + local, ch.rows());
  s->chunk = c;
  return *s;
}

void CudaDbscanPasses::Impl::upload_core() {
  std::vector<int32_t> per_tile(static_cast<size_t>(T), 0);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
  for (int64_t t = 0; t < T; ++t) {
    const TileInfo& ti = rows.tile(t);
    for (int64_t p = ti.begin; p < ti.end; ++p) per_tile[t] += st.core[rows.ids()[p]];
  }
  upload(core.get(), st.core.data(), core.bytes());
  upload(tile_core.get(), per_tile.data(), tile_core.bytes());
  sync_stream(stream);  // per_tile goes out of scope
  core_uploaded = true;
}

void CudaDbscanPasses::Impl::run_batch(DbscanPass pass, const Slot& a, const Slot& b,
                                       const Chunk& ca, const Chunk& cb, int64_t first,
                                       int64_t count) {
  cudaStream_t s = stream;
  kern::DbscanPairBatch pb;
  pb.pairs = pairs.get() + first;
  pb.count = count;
  pb.g = g.get();
  pb.a = {a.x.get(), a.norms.get(), ca.p0};
  pb.b = {b.x.get(), b.norms.get(), cb.p0};
  pb.tile_begin = tile_begin.get();
  pb.tile_rows = tile_rows.get();
  pb.ids = ids.get();
  pb.d = d;
  pb.eps2 = st.eps2;
  pb.scale = static_cast<float>(rounding_scale(d));
  kern::launch_dbscan_gemm_pointers(pb, g.get(), a_ptr.get(), b_ptr.get(), c_ptr.get(), s);
  // Row-major G (rows of s x rows of t) is column-major G^T = Y X^T: the tile pair's dot products.
  // Plain fp32 products (no TF32): the rounding band around eps^2 assumes fp32 arithmetic.
  const float alpha = 1.0f, beta = 0.0f;
  EMB_CUBLAS(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  EMB_CUBLAS(cublasSgemmBatched(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(kTile), int(kTile), int(d),
                                &alpha, a_ptr.get(), int(d), b_ptr.get(), int(d), &beta,
                                c_ptr.get(), int(kTile), int(count)));
  switch (pass) {
    case DbscanPass::count:
      kern::launch_dbscan_count(pb, counts.get(), s);
      break;
    case DbscanPass::union_core:
      kern::launch_dbscan_union(pb, core.get(), parent.get(), s);
      break;
    case DbscanPass::border:
      kern::launch_dbscan_border(pb, core.get(), parent.get(), border.get(), s);
      break;
  }
}

// Every pair of tiles of chunks i and j (i <= j; each unordered pair once when i == j): classified
// in bands of outer tiles, the kept pairs computed in batches. The chunks' rows are uploaded only
// when some pair needs them.
void CudaDbscanPasses::Impl::chunk_pair(DbscanPass pass, int64_t i, int64_t j,
                                        DBSCANPassStats& stats,
                                        const std::function<void(int64_t)>& examined) {
  const Chunk& ca = chunks[i];
  const Chunk& cb = chunks[j];
  const bool same = i == j;
  const int64_t nt = cb.t1 - cb.t0;
  const int64_t band = std::max<int64_t>(1, candidates / nt);
  const int filter = pass == DbscanPass::count        ? kern::kPairsAll
                     : pass == DbscanPass::union_core ? kern::kPairsCore
                                                      : kern::kPairsBorder;
  cudaStream_t s = stream;
  const Slot* a = nullptr;
  const Slot* b = nullptr;
  for (int64_t s0 = ca.t0; s0 < ca.t1; s0 += band) {
    const int64_t s1 = std::min(ca.t1, s0 + band);
    EMB_CUDA(cudaMemsetAsync(counters.get(), 0, counters.bytes(), s));
    kern::launch_dbscan_classify(tile_set(), d, int32_t(s0), int32_t(s1), int32_t(cb.t0),
                                 int32_t(cb.t1), same, st.eps2, rounding_scale(d), filter,
                                 pairs.get(), counters.get(), s);
    EMB_CUDA(cudaMemcpyAsync(host_counters.get(), counters.get(), counters.bytes(),
                             cudaMemcpyDeviceToHost, s));
    sync_stream(stream);
    const int64_t kept = static_cast<int64_t>(host_counters.get()[0]);
    const int64_t far = static_cast<int64_t>(host_counters.get()[1]);
    const int64_t dropped = static_cast<int64_t>(host_counters.get()[2]);
    stats.far += far;
    stats.settled += dropped;
    stats.gemm += kept;
    if (kept == 0) {
      examined(far + dropped);
      continue;
    }
    if (!a) {
      a = &slot_for(i, true);
      b = same ? a : &slot_for(j, false);
      ++stats.block_pairs_read;
    }
    for (int64_t first = 0; first < kept; first += batch)
      run_batch(pass, *a, *b, ca, cb, first, std::min(batch, kept - first));
    examined(kept + far + dropped);
  }
}

CudaDbscanPasses::CudaDbscanPasses(DbscanTiles& rows, DbscanState& st, int device,
                                   int64_t device_budget, int threads)
    : impl_(rows.rows() <= INT32_MAX
                ? std::make_unique<Impl>(rows, st, device, threads, device_budget)
                : throw DeviceUnavailable("DBSCAN on CUDA: at most 2^31 - 1 rows")) {
  DeviceScope scope(device);
  impl_->init();
}

CudaDbscanPasses::~CudaDbscanPasses() = default;

std::string CudaDbscanPasses::device_name() const { return impl_->res.name(); }

std::vector<std::pair<std::string, std::string>> CudaDbscanPasses::notes() const {
  return {{"gpu_memory_budget", std::to_string(impl_->budget)},
          {"gpu_chunk_rows", std::to_string(impl_->chunk_rows)},
          {"gpu_chunks", std::to_string(impl_->chunks.size())},
          {"gpu_streamed", impl_->resident ? "0" : "1"},
          {"gpu_batch_pairs", std::to_string(impl_->batch)}};
}

DBSCANPassStats CudaDbscanPasses::run(DbscanPass pass, const PhaseProgress& progress) {
  Impl& m = *impl_;
  DeviceScope scope(m.device);
  cudaStream_t s = m.stream;
  DBSCANPassStats stats;
  stats.pass = pass_name(pass);
  stats.tile_pairs = m.T * (m.T + 1) / 2;
  DbscanState& st = m.st;
  const int64_t n = m.n;
  if (pass == DbscanPass::count) {
    EMB_CUDA(cudaMemsetAsync(m.counts.get(), 0, m.counts.bytes(), s));
  } else if (pass == DbscanPass::union_core) {
    m.upload_core();
    kern::launch_dbscan_reset(m.parent.get(), m.border.get(), n, s);
  } else {
    EMBCLUSTER_ASSERT(m.core_uploaded,
                      "DBSCAN on CUDA: the border pass runs after the union pass");
  }

  // Progress in tile pairs classified (a band's pairs are reported once they are queued).
  int64_t examined = 0;
  auto tick = [&](int64_t pairs) {
    examined += pairs;
    if (progress) progress(stats.pass, double(examined) / std::max<int64_t>(1, stats.tile_pairs));
  };
  const int64_t nc = static_cast<int64_t>(m.chunks.size());
  for (int64_t i = 0; i < nc; ++i)
    for (int64_t j = i; j < nc; ++j) m.chunk_pair(pass, i, j, stats, tick);

  // Results back into the host state, indexed by source row, once the stream is done.
  auto download = [&](const DeviceBuffer<int32_t>& buf) {
    std::vector<int32_t> h(static_cast<size_t>(n));
    EMB_CUDA(cudaMemcpyAsync(h.data(), buf.get(), buf.bytes(), cudaMemcpyDeviceToHost, s));
    sync_stream(s);
    return h;
  };
  if (pass == DbscanPass::count) {
    const std::vector<int32_t> h = download(m.counts);
#pragma omp parallel for num_threads(m.threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) st.count[i].store(h[i], std::memory_order_relaxed);
  } else if (pass == DbscanPass::union_core) {
    kern::launch_dbscan_flatten(m.parent.get(), n, s);
    const std::vector<int32_t> h = download(m.parent);
    // Each row joins its root (the lowest core row of its set): the host union-find gets the
    // same sets and the same roots.
#pragma omp parallel for num_threads(m.threads) schedule(static)
    for (int64_t i = 0; i < n; ++i)
      if (h[i] != i) st.uf.unite(h[i], i);
  } else {
    const std::vector<int32_t> h = download(m.border);
#pragma omp parallel for num_threads(m.threads) schedule(static)
    for (int64_t i = 0; i < n; ++i)
      if (!st.core[i] && h[i] != INT32_MAX) atomic_min(st.border[i], int64_t(h[i]));
  }
  stats.near = 0;  // pairs entirely within eps are computed like the others on the device
  return stats;
}

std::unique_ptr<DbscanPasses> make_cuda_dbscan_passes(DbscanTiles& rows, DbscanState& st,
                                                      int device, int64_t device_budget,
                                                      int threads) {
  return std::make_unique<CudaDbscanPasses>(rows, st, device, device_budget, threads);
}

}  // namespace embcluster
