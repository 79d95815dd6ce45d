// The RenderBudget of the render running on this thread, as counters the interpreter and its
// builtins charge. Outside a render (parsing, building variables) nothing is charged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tokenizer/jinja.h"
#include "tokenizer/jinja_error.h"

namespace lantern::jinja {

class BudgetCounters {
 public:
  explicit BudgetCounters(const RenderBudget& budget)
      : budget_(budget),
        steps_left_(budget.max_steps),
        bytes_left_(budget.max_allocated_bytes),
        iterations_left_(budget.max_loop_iterations) {}

  void Step(int64_t n = 1) {
    if ((steps_left_ -= n) < 0) Exceeded(budget_.max_steps, "steps");
  }
  void Iteration() {
    if (--iterations_left_ < 0) Exceeded(budget_.max_loop_iterations, "loop iterations");
  }
  // Counts `bytes` as allocated.
  void Allocate(size_t bytes) {
    if ((bytes_left_ -= static_cast<int64_t>(bytes)) < 0) ExceededBytes();
  }
  // Throws, without charging, when `bytes` more would exceed the budget: called before
  // building a large string, whose Value then charges it.
  void CheckAllocation(size_t bytes) const {
    if (static_cast<int64_t>(bytes) > bytes_left_ || bytes > (size_t{1} << 62)) ExceededBytes();
  }
  void CheckOutput(size_t bytes) const {
    if (static_cast<int64_t>(bytes) > budget_.max_output_bytes) {
      Exceeded(budget_.max_output_bytes, "output bytes");
    }
  }
  void Enter() {
    if (depth_ >= budget_.max_depth) {
      Exceeded(budget_.max_depth, "levels of nesting (blocks, expressions and macro calls)");
    }
    ++depth_;
  }
  void Leave() { --depth_; }

 private:
  [[noreturn]] static void Exceeded(int64_t limit, const char* what) {
    throw Error(Error::Kind::kBudget,
                "template exceeded its budget of " + std::to_string(limit) + " " + what);
  }
  [[noreturn]] void ExceededBytes() const {
    Exceeded(budget_.max_allocated_bytes, "bytes allocated");
  }

  const RenderBudget budget_;
  int64_t steps_left_;
  int64_t bytes_left_;
  int64_t iterations_left_;
  int depth_ = 0;
};

// The counters of this thread's render, or nullptr.
inline thread_local BudgetCounters* tls_budget = nullptr;

// Installs `counters` for the current thread for its lifetime.
class ScopedBudget {
 public:
  explicit ScopedBudget(BudgetCounters* counters) : previous_(tls_budget) { tls_budget = counters; }
  ~ScopedBudget() { tls_budget = previous_; }
  ScopedBudget(const ScopedBudget&) = delete;
  ScopedBudget& operator=(const ScopedBudget&) = delete;

 private:
  BudgetCounters* previous_;
};

// Charges for the builtins; no-ops outside a render.
inline void ChargeSteps(int64_t n) {
  if (BudgetCounters* b = tls_budget) b->Step(n);
}
// The work of scanning `bytes` of string: one step per 64 bytes.
inline void ChargeScan(size_t bytes) { ChargeSteps(static_cast<int64_t>(bytes >> 6)); }
inline void ChargeAllocation(size_t bytes) {
  if (BudgetCounters* b = tls_budget) b->Allocate(bytes);
}
inline void CheckAllocation(size_t bytes) {
  if (BudgetCounters* b = tls_budget) b->CheckAllocation(bytes);
}

// A depth guard for the recursive walks over values (printing, comparing, tojson): values
// can nest deeply, or hold themselves through a namespace.
constexpr int kMaxValueDepth = 512;
inline void CheckValueDepth(int depth) {
  if (depth > kMaxValueDepth) ThrowRuntime("value nested too deeply");
}

}  // namespace lantern::jinja
