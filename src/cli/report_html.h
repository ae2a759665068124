#pragma once
// report.html and its figures for an output directory: drawn by python/embcluster_report.py
// (matplotlib), for `embcluster report DIR` and for `--report` on every command that writes one.
//
// report.html and figures/ are a view of the report.json (or sweep.json) beside them, not outputs
// of their own: they are not in the manifest, and a run that replaces a previous run's manifest
// removes the previous view with it, so that a page never describes other results than its json.
#include <string>

namespace embcluster::cli {

// Before any work of a run with --report: the script and a python3 with numpy and matplotlib are
// there, and DIR/report.html may be written (absent, or force). Throws Error otherwise.
void check_report_ready(const std::string& dir, bool force);

// Draws DIR's figures and writes DIR/report.html. Throws Error with the script's one-line reason
// when it fails. quiet: the script's success line is left out.
void write_report_html(const std::string& dir, bool quiet);

// Removes DIR/report.html and the figures the script drew in DIR/figures (the directory too when
// nothing else is left there).
void remove_report_view(const std::string& dir);

}  // namespace embcluster::cli
