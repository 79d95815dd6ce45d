// The int8 panel kernels (tensor/dispatch.h's Gemv8Kernels) on one thread, as prefill drives
// them: one panel of 64 columns and K inputs, M rows in groups of 4, each kernel variant of
// this CPU's level alternated in one run. Reports integer multiply-adds per CPU-second of this
// thread (so other load on the machine moves it less than wall time) and, per group, the
// nanoseconds. Usage: gemm8_panel_bench [K] [rows] [rounds]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/cpu_isa.h"
#include "tensor/dispatch.h"
#include "tensor/gemm8.h"

namespace lt = lantern::tensor;

namespace {

double ThreadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t k = argc > 1 ? std::atoll(argv[1]) : 2048;
  const int64_t m = argc > 2 ? std::atoll(argv[2]) : 512;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  lantern::ThreadPool pool(1);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(k * lt::kInt8PanelColumns);
  for (float& x : w) x = normal(rng);
  const lt::Int8Weights q =
      lt::QuantizeInt8(pool, w.data(), k, lt::kInt8PanelColumns, lt::kInt8PanelColumns);
  const int64_t blocks = q.blocks(), lda8 = blocks * lt::kInt8BlockRows;
  std::vector<int8_t> qa(m * lda8);
  for (int8_t& x : qa) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<int8_t> qa_unsigned(qa.size());  // what offset_panel takes: qa + 128
  for (size_t i = 0; i < qa.size(); ++i) qa_unsigned[i] = static_cast<int8_t>(qa[i] ^ 0x80);
  std::vector<float> sa(m * blocks, 1.0f / 1024);
  std::vector<int32_t> offsets(blocks * lt::kInt8PanelColumns);
  alignas(64) float tile[4 * lt::kInt8PanelColumns] = {};
  const lt::Gemv8Kernels& kernels = lt::Kernels().gemv8;
  const double ops = static_cast<double>(m) * k * lt::kInt8PanelColumns;
  std::printf("int8 panel, K %lld, %lld rows, level %s, one thread\n", static_cast<long long>(k),
              static_cast<long long>(m), std::string(lt::CpuIsaName(lt::Kernels().isa)).c_str());
  for (int round = 0; round < rounds; ++round) {
    for (int variant = 0; variant < 2; ++variant) {
      if (variant == 1 && kernels.offset_panel == nullptr) continue;
      const double t0 = ThreadSeconds();
      if (variant == 1) kernels.weight_offsets(blocks, q.values.data(), offsets.data());
      const std::vector<int8_t>& rows_a = variant == 0 ? qa : qa_unsigned;
      for (int64_t r0 = 0; r0 < m; r0 += 4) {
        const int rows = static_cast<int>(std::min<int64_t>(4, m - r0));
        if (variant == 0) {
          kernels.panel(rows, blocks, rows_a.data() + r0 * lda8, lda8, sa.data() + r0 * blocks,
                        q.values.data(), q.scales.data(), tile);
        } else {
          kernels.offset_panel(rows, blocks, rows_a.data() + r0 * lda8, lda8,
                               sa.data() + r0 * blocks, q.values.data(), q.scales.data(),
                               offsets.data(), tile);
        }
      }
      const double seconds = ThreadSeconds() - t0;
      std::printf("  round %d %-12s %7.1f G int8 multiply-adds/s  %6.1f ns per row group\n", round,
                  variant == 0 ? "panel" : "offset_panel", ops / seconds * 1e-9,
                  seconds * 1e9 / static_cast<double>((m + 3) / 4));
    }
  }
  std::printf("(tile checksum %g)\n", static_cast<double>(tile[0]));
  return 0;
}
