// Linked into the unit tests that run once per CPU level (LANTERN_CPU_ISA, set by CTest):
// where this CPU lacks the level a run names, every test of that run is skipped with the
// reason, instead of the kernels ending the process.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tensor/cpu_isa.h"

namespace lantern::tensor {
namespace {

class CpuIsaEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    const auto isa = ActiveCpuIsa();
    if (!isa.ok()) GTEST_SKIP() << isa.status().message();
  }
};

[[maybe_unused]] testing::Environment* const kEnvironment =
    testing::AddGlobalTestEnvironment(new CpuIsaEnvironment);

}  // namespace
}  // namespace lantern::tensor
