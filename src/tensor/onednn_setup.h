// What every oneDNN call of tensor/ does first (internal): hold oneDNN to this process's
// kernel level (LANTERN_CPU_ISA) and to the calling thread (no OpenMP team of its own).
#pragma once

namespace lantern::tensor {

#if defined(LANTERN_HAVE_ONEDNN)
void PrepareOneDnnOnCallingThread();
#endif

}  // namespace lantern::tensor
