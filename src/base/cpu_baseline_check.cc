// Refuses, in one line, to run on an x86-64 CPU below the baseline the program is built for
// (x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B), instead of dying later with
// an illegal instruction. Built for plain x86-64 and run as the first constructor of the
// executable, before any code that may use the baseline's instructions.
#if defined(__x86_64__)

#include <cpuid.h>
#include <unistd.h>

#include <cstring>

namespace {

void Write(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

__attribute__((constructor(101))) void CheckCpuBaseline() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return;  // cannot tell: let it run
  struct Feature {
    int bit;
    const char* name;
  };
  static const Feature kRequired[] = {{0, " SSE3"},    {9, " SSSE3"},   {13, " CMPXCHG16B"},
                                      {19, " SSE4.1"}, {20, " SSE4.2"}, {23, " POPCNT"}};
  bool missing = false;
  for (const Feature& f : kRequired) missing |= ((ecx >> f.bit) & 1u) == 0;
  if (!missing) return;
  Write("lantern: this CPU lacks");
  for (const Feature& f : kRequired) {
    if (((ecx >> f.bit) & 1u) == 0) Write(f.name);
  }
  Write("; lantern needs an x86-64-v2 CPU (any x86-64 server CPU since 2009)\n");
  _exit(1);
}

}  // namespace

#endif
