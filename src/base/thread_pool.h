// A compute pool: a fixed set of named worker threads that run data-parallel loops.
// The calling thread takes part in every loop, so a pool of N threads starts N - 1
// workers. Idle workers spin briefly (a decode step issues many short loops back to
// back) and then sleep on a futex, so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace lantern {

class ThreadPool {
 public:
  // `num_threads` <= 0 means one per CPU the process may run on. Workers are named
  // "<name>-<i>" (visible in top -H), truncated to the 15 characters Linux keeps.
  explicit ThreadPool(int num_threads, std::string name = "compute");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint ranges covering [0, n), each at most `grain`
  // long (grain <= 0: n split evenly across the threads). Ranges are handed out
  // dynamically, so uneven work balances. Returns when all calls have returned.
  // Not reentrant: fn must not call ParallelFor on the same pool.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Calls fn(thread_index) once on each of the num_threads() threads (index 0 is the
  // caller). For work that must be split statically, e.g. one slice per thread.
  void RunOnAllThreads(const std::function<void(int)>& fn);

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* range_fn = nullptr;
    const std::function<void(int)>* thread_fn = nullptr;
    int64_t n = 0;
    int64_t grain = 1;
  };
  void WorkerLoop(int index);
  void RunJob(int thread_index);
  void Dispatch();

  std::vector<std::thread> workers_;
  Job job_;
  std::atomic<int64_t> next_{0};
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace lantern
