#include "base/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>

namespace lantern {
namespace {

// Spinning bridges the gap between two kernels of one forward pass (microseconds)
// without a futex round trip; it is kept short (tens of microseconds) because on a
// shared or oversubscribed machine a spinning thread steals the core that the thread
// it waits for needs. After it, waiting threads sleep on a futex.
constexpr int kSpinIterations = 2000;

// The CPUs this process may run on: taskset, cpusets and container CPU pinning narrow it
// below the machine's count, and a pool larger than it only makes threads wait for each
// other's cores.
int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, std::string name) {
  if (num_threads <= 0) num_threads = UsableCpus();
  workers_.reserve(num_threads - 1);
  for (int i = 1; i < num_threads; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
    std::string thread_name = (name + "-" + std::to_string(i)).substr(0, 15);
    pthread_setname_np(workers_.back().native_handle(), thread_name.c_str());
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint32_t seen = 0;
  while (true) {
    uint32_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      CpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    RunJob(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

void ThreadPool::RunJob(int thread_index) {
  if (job_.thread_fn != nullptr) {
    (*job_.thread_fn)(thread_index);
    return;
  }
  while (true) {
    int64_t begin = next_.fetch_add(job_.grain, std::memory_order_relaxed);
    if (begin >= job_.n) return;
    (*job_.range_fn)(begin, std::min(job_.n, begin + job_.grain));
  }
}

void ThreadPool::Dispatch() {
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  RunJob(0);
  // Workers usually finish their last range at about the same time as the caller; if
  // one was descheduled, sleep instead of burning the core it needs.
  for (int spin = 0; spin < kSpinIterations; ++spin) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    CpuRelax();
  }
  for (int left = pending_.load(std::memory_order_acquire); left != 0;
       left = pending_.load(std::memory_order_acquire)) {
    pending_.wait(left, std::memory_order_acquire);
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain <= 0) grain = (n + num_threads() - 1) / num_threads();
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  job_ = Job{&fn, nullptr, n, grain};
  next_.store(0, std::memory_order_relaxed);
  Dispatch();
}

void ThreadPool::RunOnAllThreads(const std::function<void(int)>& fn) {
  if (workers_.empty()) {
    fn(0);
    return;
  }
  job_ = Job{nullptr, &fn, 0, 1};
  Dispatch();
}

}  // namespace lantern
