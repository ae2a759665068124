// embcluster dbscan DATA --eps E --min-samples M: exact DBSCAN from GEMM tiles (streamed under
// --memory; on the CPU or a CUDA device, --device), or approximate neighbourhoods from a FAISS
// index.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "embcluster/dbscan.h"
#include "embcluster/error.h"
#include "embcluster/memory.h"

namespace embcluster::cli {

namespace {

struct DBSCANOptions {
  std::string data;
  DBSCANParams params;
  // Parsed into params and the context when the command runs.
  std::string metric = "euclidean", index = "exact", device = "auto";
  DataOptions data_opts;
  OutputOptions out;
  DeviceMemoryOption device_memory;
};

nlohmann::json to_json(const DBSCANResult& r, const DBSCANParams& p, const ExecutionContext& ctx) {
  nlohmann::json j;
  j["parameters"] = {{"eps", p.eps},
                     {"min_samples", p.min_samples},
                     {"metric", to_string(p.metric)},
                     {"index", to_string(p.index)},
                     {"seed", p.seed},
                     {"device", to_string(ctx.device)}};
  for (const auto& [k, v] : r.notes) {
    if (k == "device_note")
      j["device_note"] = v;
    else if (k.rfind("gpu_", 0) == 0)
      j["gpu"][k.substr(4)] = std::stoll(v);  // device memory budget, chunks, ...
    else if (k != "index_bytes")
      j["parameters"][k] = std::stoll(v);
  }
  j["device"] = r.device;
  j["n_clusters"] = r.n_clusters;
  j["n_noise"] = r.n_noise;
  j["n_core"] = r.n_core;
  j["n_border"] = r.rows - r.n_core - r.n_noise;
  j["cluster_sizes"] = r.cluster_sizes;
  j["border_rule"] =
      "a border point joins the lowest-numbered cluster among its core neighbours' "
      "(as scikit-learn); clusters are numbered by their lowest core row";
  if (p.index == DBSCANIndex::Exact) {
    j["streamed"] = r.streamed;
    j["block_rows"] = r.block_rows;
    j["blocks"] = r.blocks;
    j["tiles"] = r.tiles;
    nlohmann::json passes = nlohmann::json::array();
    for (const auto& s : r.passes)
      passes.push_back({{"pass", s.pass},
                        {"tile_pairs", s.tile_pairs},
                        {"far", s.far},
                        {"near", s.near},
                        {"settled", s.settled},
                        {"gemm", s.gemm},
                        {"block_pairs_read", s.block_pairs_read}});
    j["tile_passes"] = passes;
  }
  if (r.checked) {
    const auto& c = r.check;
    j["check"] = {{"sample_rows", c.sample_rows}, {"exact_core", c.exact_core},
                  {"approx_core", c.approx_core}, {"core_found", c.core_found},
                  {"core_recall", c.core_recall}, {"core_precision", c.core_precision},
                  {"split_rows", c.split_rows},   {"clusters_merged", c.clusters_merged},
                  {"seconds", c.seconds}};
  }
  nlohmann::json t;
  for (const auto& [name, s] : r.timings) t[name] = s;
  j["timings_s"] = t;
  for (const auto& [k, v] : r.notes)
    if (k == "index_bytes") j["index_bytes"] = std::stoll(v);
  return j;
}

void print_summary(const DBSCANResult& r, const DBSCANOptions& o) {
  double total = 0;
  for (const auto& [name, s] : r.timings)
    if (name == "total") total = s;
  summary("dbscan: %lld rows x %lld dims, eps %g, min_samples %lld, %s, index %s on %s%s\n",
          static_cast<long long>(r.rows), static_cast<long long>(r.dims), o.params.eps,
          static_cast<long long>(o.params.min_samples), to_string(o.params.metric).c_str(),
          to_string(r.index).c_str(), r.device.c_str(), r.streamed ? " (streamed)" : "");
  summary("  clusters %lld, core %lld, border %lld, noise %lld, time %s\n",
          static_cast<long long>(r.n_clusters), static_cast<long long>(r.n_core),
          static_cast<long long>(r.rows - r.n_core - r.n_noise), static_cast<long long>(r.n_noise),
          human_seconds(total).c_str());
  if (!r.cluster_sizes.empty())
    summary("  cluster sizes (largest first):%s\n", largest_first(r.cluster_sizes).c_str());
  if (r.checked)
    summary(
        "  vs exact on %lld sampled rows: core recall %.4f, split rows %lld, clusters "
        "merged by exact neighbourhoods >= %lld\n",
        static_cast<long long>(r.check.sample_rows), r.check.core_recall,
        static_cast<long long>(r.check.split_rows),
        static_cast<long long>(r.check.clusters_merged));
  if (!o.out.dir.empty())
    summary("  wrote %s/{%s, %s, report.json}\n", o.out.dir.c_str(),
            array_file(o.out, "labels").c_str(), array_file(o.out, "core_samples").c_str());
}

int run_dbscan(DBSCANOptions& o) {
  auto& p = o.params;
  p.metric = parse_metric(o.metric);
  p.index = parse_index(o.index);
  // Bad parameters stop here, before any file is touched.
  const ExecutionContext ctx = command_context(o.device, &o.device_memory);
  check_dbscan_params(p);
  auto source = open_data(o.data, o.data_opts);
  check_dbscan_params(p, source.get());

  std::unique_ptr<OutputDir> out;
  if (!o.out.dir.empty()) {
    out = open_output_dir(o.out);
    out->stage(array_file(o.out, "labels"));  // an existing output stops the run now
    out->stage(array_file(o.out, "core_samples"));
    out->stage("report.json");
  }

  ProgressLine line;
  const auto t0 = std::chrono::steady_clock::now();
  std::string phase;
  double phase_start = 0;
  std::string announced;
  DBSCANResult r = dbscan(*source, p, ctx, [&](const DBSCANProgress& pr) {
    if (pr.phase == "device") {
      if (!pr.note.empty()) ProgressLine::note(announced = pr.note);
      return;
    }
    const bool fresh = pr.phase != phase;
    if (fresh) phase = pr.phase, phase_start = pr.elapsed_s;
    const double spent = pr.elapsed_s - phase_start;
    std::string eta;
    if (pr.fraction > 0.01 && spent > 1)
      eta = "  phase ETA " + human_seconds(spent / pr.fraction * (1 - pr.fraction));
    char buf[200];
    std::snprintf(buf, sizeof buf, "dbscan: %s %5.1f%%  elapsed %s%s", pr.phase.c_str(),
                  100.0 * pr.fraction, human_seconds(pr.elapsed_s).c_str(), eta.c_str());
    line.update(buf, fresh);
  });
  line.finish();
  for (const auto& [k, v] : r.notes)
    if (k == "device_note" && v != announced) ProgressLine::note(v);  // a later fallback

  if (out) {
    auto report = report_header("dbscan", *source);
    report.update(to_json(r, p, ctx));
    write_staged(*out, o.out, "labels", ElemType::i32, r.labels.data(), r.rows, 0);
    std::vector<int64_t> core_rows;  // as scikit-learn's core_sample_indices_
    for (int64_t i = 0; i < r.rows; ++i)
      if (r.core[i]) core_rows.push_back(i);
    write_staged(*out, o.out, "core_samples", ElemType::i64, core_rows.data(),
                 static_cast<int64_t>(core_rows.size()), 0);
    commit_with_report(*out, o.out, report, t0);
  }
  print_summary(r, o);
  return 0;
}

Runner add_dbscan(CLI::App& app) {
  auto o = std::make_shared<DBSCANOptions>();
  auto& p = o->params;
  auto* cmd = app.add_subcommand("dbscan",
                                 "DBSCAN: exact (GEMM tiles, streamed) or with FAISS "
                                 "neighbourhoods (flat, ivf, hnsw)");
  add_data_argument(cmd, o->data);
  cmd->add_option("--eps", p.eps,
                  "Neighbourhood radius (cosine distance 1 - cos for "
                  "--metric cosine)")
      ->required();
  cmd->add_option("--min-samples", p.min_samples,
                  "Rows within eps, the row itself included, "
                  "that make a core point")
      ->required();
  add_metric_option(cmd, o->metric);
  cmd->add_option("--index", o->index,
                  "exact (GEMM tiles), flat (FAISS, exact), ivf or hnsw "
                  "(FAISS, approximate)")
      ->check(CLI::IsMember({"exact", "flat", "ivf", "hnsw"}))
      ->capture_default_str();
  cmd->add_option("--nlist", p.nlist, "ivf: cells (default about sqrt(rows))");
  cmd->add_option("--nprobe", p.nprobe, "ivf: cells searched per query (default min(8, nlist))");
  cmd->add_option("--hnsw-m", p.hnsw_m, "hnsw: links per node")->capture_default_str();
  cmd->add_option("--ef-construction", p.ef_construction, "hnsw: build beam width")
      ->capture_default_str();
  cmd->add_option("--ef-search", p.ef_search, "hnsw: search beam width (default max(64, hnsw-k))");
  cmd->add_option("--hnsw-k", p.hnsw_k,
                  "hnsw: neighbours per core row when joining clusters "
                  "(default max(32, 2 min-samples))");
  cmd->add_option("--check-sample", p.check_sample,
                  "FAISS indexes: rows compared with exact "
                  "neighbourhoods (0 = none)")
      ->capture_default_str();
  cmd->add_option("--seed", p.seed, "Seed of the samples (ivf training, check)")
      ->capture_default_str();
  add_device_options(cmd, o->device, o->device_memory,
                     "exact index: auto (a GPU when present), cpu, cuda or cuda:N; the same "
                     "result on each (FAISS indexes run on the CPU)");
  add_data_options(cmd, o->data_opts);
  add_output_options(cmd, o->out);
  return [o] { return run_dbscan(*o); };
}

const Registration registered(30, "dbscan", add_dbscan);
}  // namespace

}  // namespace embcluster::cli
