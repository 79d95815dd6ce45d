// The kernel tables (internal to tensor/): one small table of function pointers per kernel
// family, filled once per process for the chosen CpuIsa. The public entry points
// (kernels.h, gemv.h, attention.h, rope.h) split the work over the compute pool in
// baseline code and call the table's per-row or per-tile kernel, so the hot loops pay one
// indirect call per row or tile and never test CPU features.
//
// Variants live in their own folders, each compiled with its own target flags:
//   portable/     every entry, plain C++ for the baseline (the reference for the others)
//   x86/avx2/     AVX2 + FMA + F16C
//   x86/avx512/   AVX-512 F/BW/VL/DQ
//   arm/neon/     Advanced SIMD
//   x86/avx512_vnni/  AVX-512 + VNNI, over the avx512 level where the CPU has VNNI
//   x86/avx_vnni/     AVX2 + AVX-VNNI, over the avx2 level where the CPU has AVX-VNNI
// A level installs the tables of every level below it first, then its own entries, so a
// variant may override only the kernels where it pays. Reduced-precision variants (AVX-512
// BF16/VNNI, AVX-VNNI, NEON dot product and BF16) add their entries the same way, keyed on
// CpuInfo::extensions.
#pragma once

#include <cstdint>

#include "tensor/attention.h"
#include "tensor/cpu_isa.h"

namespace lantern::tensor {

struct ElementwiseKernels {
  // One row each; `out` may equal `x`, and gamma/beta/weight/bias may be null.
  void (*layer_norm_row)(const float* x, int64_t dim, const float* gamma, const float* beta,
                         float eps, float* out);
  void (*rms_norm_row)(const float* x, int64_t dim, const float* weight, float eps, float* out);
  void (*add_bias_row)(float* row, int64_t dim, const float* bias);
  void (*bias_relu_row)(float* row, int64_t dim, const float* bias);
  void (*bias_gelu_tanh_row)(float* row, int64_t dim, const float* bias);
  void (*silu_mul_row)(const float* gate, const float* up, int64_t dim, float* out);
  void (*softmax_row)(float* row, int64_t dim);
  // x[i] += y[i].
  void (*add)(float* x, const float* y, int64_t n);
  // Rotates `heads` vectors of `head_dim` at the start of `row` (see rope.h).
  void (*rope_row)(float* row, int heads, int head_dim, const float* cos, const float* sin,
                   float mul);
  void (*half_to_float)(const uint16_t* in, float* out, int64_t n);
  void (*bfloat16_to_float)(const uint16_t* in, float* out, int64_t n);
};

struct GemvKernels {
  // Columns [n0, n1) of C[M,N] = A[M,K] * B[K,N] (+ C when accumulate), all rows of A.
  void (*columns)(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);
};

struct Gemv16Kernels {
  // As GemvKernels::columns with B in 16-bit floats (bfloat16 or IEEE half), widened to fp32
  // in registers: decoding streams half the bytes, and accumulates in fp32 all the same.
  using Columns = void (*)(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a,
                           int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                           bool accumulate);
  Columns bf16_columns;
  Columns f16_columns;
  // Where the CPU has AVX-512 BF16 (null elsewhere): bfloat16 weights kept pair-interleaved,
  // B[ceil(k/2)][n][2] (gemm16.h), against bfloat16 inputs a[m][lda] (lda even, a zero after
  // an odd k), multiplied with vdpbf16ps; columns [n0, n1) of C as `columns` does.
  void (*bf16_pair_columns)(int64_t m, int64_t n0, int64_t n1, int64_t k, const uint16_t* a,
                            int64_t lda, const uint16_t* b, int64_t n, float* c, int64_t ldc,
                            bool accumulate) = nullptr;
  // Columns [j0, j0 + width) of such a B as a plain bfloat16 matrix out[k][width].
  void (*bf16_pairs_to_rows)(const uint16_t* b, int64_t n, int64_t k, int64_t j0, int64_t width,
                             uint16_t* out) = nullptr;
};

struct Gemv8Kernels {
  // One panel of an int8 product (gemm8.h) for rows [0, m), m <= 4: tile[r][0, 64) += the
  // panel's columns of qa[r] * B, block by block in order, each block's exact integer sum
  // times sa[r][block] * scale[block][column]. qa: [m][lda8] int8 activations (blocks * 32
  // used), sa: [m][blocks]; values and scales: the panel's, as Int8Weights packs them.
  void (*panel)(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
                const int8_t* values, const float* scales, float* tile);
  // Kernels that offset activations to unsigned (qa + 128, for vpdpbusd) and take the offset
  // back per block: with many rows Gemm8 works out each panel's offsets once, -128 x the sum
  // of each block's weights per column ([blocks][64], weight_offsets), and hands them to
  // offset_panel with the activations offset already (qa + 128 as bytes, i.e. qa ^ 0x80);
  // otherwise `panel` offsets and sums for every group of rows. Null where the kernels need
  // no offset.
  void (*weight_offsets)(int64_t blocks, const int8_t* values, int32_t* offsets) = nullptr;
  void (*offset_panel)(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
                       const int8_t* values, const float* scales, const int32_t* offsets,
                       float* tile) = nullptr;
};

// Queries of one (sequence, head) computed together, so each K/V block is loaded once for
// the whole tile.
inline constexpr int kAttentionQueryTile = 16;

struct AttentionTile {
  int32_t head;
  int32_t first;  // index of the tile's first new token in the sequence
  int32_t count;  // at most kAttentionQueryTile
};

struct AttentionKernels {
  // The tile's rows of `out`; `scratch` holds count * head_dim floats (any contents). One
  // entry per KvElement: the 16-bit ones widen K/V in registers and sum in fp32.
  using AttendTile = void (*)(const PagedKvLayer& kv, const AttentionSequence& seq,
                              const AttentionTile& tile, const float* q, int64_t ldq, int num_heads,
                              float* out, int64_t ldo, int window, float* scratch);
  AttendTile attend_tile;
  AttendTile attend_tile_bf16;
  AttendTile attend_tile_f16;
};

struct KernelTables {
  CpuIsa isa = CpuIsa::kPortable;
  ElementwiseKernels elementwise{};
  GemvKernels gemv{};
  Gemv16Kernels gemv16{};
  Gemv8Kernels gemv8{};
  AttentionKernels attention{};
};

// The tables of this process's ActiveCpuIsa(), filled on first use. A bad LANTERN_CPU_ISA
// ends the process here with its message (serve and generate report it earlier).
const KernelTables& Kernels();

// The tables of one level, for tests and benchmarks that compare levels in one process.
// The level must be one DetectCpu() supports.
KernelTables KernelsFor(CpuIsa isa);

// Installers, one per variant folder and family.
namespace portable {
void InstallElementwise(ElementwiseKernels& table);
void InstallGemv(GemvKernels& table);
void InstallGemv16(Gemv16Kernels& table);
void InstallGemv8(Gemv8Kernels& table);
void InstallAttention(AttentionKernels& table);
}  // namespace portable
namespace avx2 {
void InstallElementwise(ElementwiseKernels& table);
void InstallGemv(GemvKernels& table);
void InstallGemv16(Gemv16Kernels& table);
void InstallGemv8(Gemv8Kernels& table);
void InstallAttention(AttentionKernels& table);
}  // namespace avx2
namespace avx512 {
void InstallElementwise(ElementwiseKernels& table);
void InstallGemv(GemvKernels& table);
void InstallGemv16(Gemv16Kernels& table);
void InstallAttention(AttentionKernels& table);
}  // namespace avx512
namespace neon {
void InstallElementwise(ElementwiseKernels& table);
void InstallGemv(GemvKernels& table);
void InstallGemv16(Gemv16Kernels& table);
void InstallAttention(AttentionKernels& table);
}  // namespace neon
// vpdpbusd on zmm (AVX-512 VNNI), installed over avx512's entry where the CPU has it.
namespace avx512_vnni {
void InstallGemv8(Gemv8Kernels& table);
}  // namespace avx512_vnni
// vpdpbusd on ymm (AVX-VNNI), installed over avx2's entry where the CPU has it.
namespace avx_vnni {
void InstallGemv8(Gemv8Kernels& table);
}  // namespace avx_vnni
// sdot (Armv8.2 dot product), installed over neon's entry where the CPU has it.
namespace neon_dotprod {
void InstallGemv8(Gemv8Kernels& table);
}  // namespace neon_dotprod
// vdpbf16ps (AVX-512 BF16) over pair-interleaved bfloat16 weights, installed over avx512's
// table where the CPU has it (x86/avx512/gemv_bf16_pairs.cc).
namespace avx512_bf16 {
void InstallGemv16(Gemv16Kernels& table);
}  // namespace avx512_bf16

}  // namespace lantern::tensor
