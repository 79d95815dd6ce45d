// A bounded queue of independent tasks run by a few named worker threads: the place for
// CPU work that must not run on an I/O thread (tokenizing, rendering templates) and must
// not pile up without limit either. A full queue refuses the task at once, so the caller
// can answer "busy, retry" instead of waiting.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lantern {

class TaskQueue {
 public:
  // `num_threads` workers named "<name>-<i>"; at most `max_pending` tasks wait (tasks being
  // run do not count).
  TaskQueue(int num_threads, size_t max_pending, std::string name);
  // Runs what is still queued, then joins the workers.
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Queues `task`; false (and `task` dropped) when max_pending tasks already wait. A task
  // must not throw: an escaping exception is logged and swallowed.
  bool TrySubmit(std::function<void()> task);

  size_t pending() const;
  size_t max_pending() const { return max_pending_; }

 private:
  void WorkerLoop();

  const size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace lantern
