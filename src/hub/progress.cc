#include "hub/progress.h"

#include <algorithm>
#include <cstdio>

#include "base/log.h"

namespace lantern::hub {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Eta(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600) return "--:--";
  int s = static_cast<int>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof(text), "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return text;
}

}  // namespace

Progress::Progress(bool terminal) : terminal_(terminal), begin_(Clock::now()) {}

std::string Progress::Bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

void Progress::Expect(int files, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  files_ += files;
  total_ += bytes;
}

void Progress::Update(const std::string& path, int64_t done, int64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  File& file = active_[path];
  if (file.first < 0) {
    file.first = done;
    file.start = Clock::now();
  }
  if (done < file.first) file.first = done;  // restarted from the beginning
  int64_t delta = done - file.done;
  total_done_ += delta;
  if (delta > 0) fetched_ += delta;
  file.done = done;
  file.size = size;
  Draw(false);
}

void Progress::Done(const std::string& path, int64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  File file = active_[path];
  active_.erase(path);
  total_done_ += size - file.done;
  ++files_done_;
  double seconds = file.first < 0 ? 0 : Seconds(file.start);
  double rate =
      seconds > 0 ? static_cast<double>(size - std::max<int64_t>(file.first, 0)) / seconds : 0;
  char line[512];
  std::snprintf(line, sizeof(line), "downloaded %s (%s in %.1f s, %s/s)", path.c_str(),
                Bytes(static_cast<double>(size)).c_str(), seconds, Bytes(rate).c_str());
  if (terminal_) {
    finished_lines_.push_back(line);
    Draw(true);
  } else {
    LANTERN_LOG(kInfo, "hub") << line;
  }
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  active_.clear();
  if (terminal_) Draw(true);
}

std::string Progress::Bar(const std::string& label, int64_t done, int64_t size, double rate) const {
  constexpr int kWidth = 24;
  double fraction =
      size > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(size), 0.0, 1.0) : 0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string name = label.size() > 32 ? "..." + label.substr(label.size() - 29) : label;
  double eta = rate > 0 ? static_cast<double>(size - done) / rate : -1;
  char line[256];
  std::snprintf(line, sizeof(line), "%-32s [%s] %3.0f%% %9s / %-9s %9s/s ETA %s", name.c_str(),
                bar.c_str(), fraction * 100, Bytes(static_cast<double>(done)).c_str(),
                Bytes(static_cast<double>(size)).c_str(), Bytes(rate).c_str(), Eta(eta).c_str());
  return line;
}

void Progress::Draw(bool force) {
  if (!terminal_) return;
  auto now = Clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string out;
  for (int i = 0; i < drawn_lines_; ++i) out += "\x1b[1A\x1b[2K";  // up one line, clear it
  out += "\r";
  for (const auto& line : finished_lines_) out += line + "\n";
  finished_lines_.clear();
  drawn_lines_ = 0;
  if (!active_.empty()) {
    for (const auto& [path, file] : active_) {
      double seconds = Seconds(file.start);
      double rate = seconds > 0 ? static_cast<double>(file.done - file.first) / seconds : 0;
      out += Bar(path, file.done, file.size, rate) + "\n";
      ++drawn_lines_;
    }
    double seconds = Seconds(begin_);
    double rate = seconds > 0 ? static_cast<double>(fetched_) / seconds : 0;
    out += Bar("total (" + std::to_string(files_done_) + "/" + std::to_string(files_) + " files)",
               total_done_, total_, rate) +
           "\n";
    ++drawn_lines_;
  }
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace lantern::hub
