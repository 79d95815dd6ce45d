#include "base/task_queue.h"

#include <pthread.h>

#include <algorithm>
#include <exception>

#include "base/log.h"

namespace lantern {

TaskQueue::TaskQueue(int num_threads, size_t max_pending, std::string name)
    : max_pending_(max_pending) {
  for (int i = 0; i < std::max(1, num_threads); ++i) {
    workers_.emplace_back([this, thread_name = name + "-" + std::to_string(i)] {
      pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
      WorkerLoop();
    });
  }
}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

bool TaskQueue::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || tasks_.size() >= max_pending_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

size_t TaskQueue::pending() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void TaskQueue::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      LANTERN_LOG(kError, "tasks") << "a task threw: " << e.what();
    } catch (...) {
      LANTERN_LOG(kError, "tasks") << "a task threw a non-standard exception";
    }
  }
}

}  // namespace lantern
