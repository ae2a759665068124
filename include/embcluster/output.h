#pragma once
// Writing results: arrays as HDF5 datasets, .npy or .csv, and text files (report.json),
// staged under temporary names and renamed into place only when everything is complete.
#include <cstdint>
#include <string>
#include <vector>

namespace embcluster {

// Element types the writers accept.
enum class ElemType { f32, i32, i64 };

// Writes a rows x cols array (1-D when cols == 0) to path. The format follows the extension:
// ".h5"/".hdf5" (dataset `dataset`, created along with its groups), ".npy", ".csv" (one row per
// line, header `header` when not empty). The file is written in place: OutputDir stages it.
void write_array(const std::string& path, const std::string& dataset, ElemType type,
                 const void* data, int64_t rows, int64_t cols,
                 const std::string& header = "");

// An output directory whose files appear all at once.
// - The constructor creates the directory if needed and checks that it can be written.
// - stage() names a final file and returns the temporary path to write it to; it throws Error if
//   the final file exists and force is false (before any work is done, when called up front).
// - commit() renames every staged file into place. Without commit() (an error on the way), the
//   destructor removes the temporary files, and the directory if this object created it.
//   One OutputDir at a time holds a directory (an exclusive flock for its lifetime): a second
//   run writing to the same directory is refused with an Error instead of replacing the first
//   one's results. Holding the lock, the constructor removes the temporary files that runs which
//   died (kill -9, power loss) left there.
// - retire() names a previous run's output (from its report's manifest): commit() removes it
//   unless this run writes the same name, so that --force replaces a run's outputs as a set.
class OutputDir {
 public:
  OutputDir(const std::string& dir, bool force);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  // Reserves file name `name` inside the directory; returns the temporary path to write.
  std::string stage(const std::string& name);
  // Writes text content (report.json, ...) to a staged file.
  void write_text(const std::string& name, const std::string& content);
  // A previous run's output file `name`, removed by commit() unless this run stages it too.
  void retire(const std::string& name);
  void commit();
  const std::string& dir() const { return dir_; }
  // The final names of the files staged so far, in staging order (the run's manifest).
  std::vector<std::string> files() const;

 private:
  std::string dir_;
  bool force_;
  bool created_ = false;
  bool committed_ = false;
  int lock_fd_ = -1;  // the directory, flock'ed for this object's lifetime
  std::vector<std::pair<std::string, std::string>> staged_;  // (temporary, final)
  std::vector<std::string> retired_;                         // final paths
};

}  // namespace embcluster
