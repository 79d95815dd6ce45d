// Download progress for people: on a terminal, a live bar per file being fetched and one
// for the whole download (bytes, rate, ETA), redrawn at most ten times a second; otherwise
// (logs, CI) one line per file as it completes. Thread-safe: downloads run in parallel.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lantern::hub {

class Progress {
 public:
  // `terminal`: draw bars on stderr; else log one line per completed file.
  explicit Progress(bool terminal);

  // Adds to the files and bytes the overall bar counts to (called once per batch).
  void Expect(int files, int64_t bytes);
  // `done` bytes of `path` are on disk (a resumed file starts above 0).
  void Update(const std::string& path, int64_t done, int64_t size);
  void Done(const std::string& path, int64_t size);
  void Finish();

  // "12.3 MB"
  static std::string Bytes(double bytes);

 private:
  struct File {
    int64_t done = 0;
    int64_t size = 0;
    int64_t first = -1;  // `done` when first seen: resumed bytes are not counted in the rate
    std::chrono::steady_clock::time_point start;
  };
  void Draw(bool force);
  std::string Bar(const std::string& label, int64_t done, int64_t size, double rate) const;

  std::mutex mu_;
  const bool terminal_;
  int files_ = 0;
  int files_done_ = 0;
  int64_t total_ = 0;
  int64_t total_done_ = 0;  // completed files + the current bytes of the active ones
  int64_t fetched_ = 0;     // bytes fetched in this run (for the overall rate)
  std::map<std::string, File> active_;
  std::vector<std::string> finished_lines_;  // printed above the bars at the next draw
  int drawn_lines_ = 0;
  std::chrono::steady_clock::time_point begin_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace lantern::hub
