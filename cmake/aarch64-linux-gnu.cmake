# Cross-compiling for aarch64 Linux with Debian's cross toolchain (g++-aarch64-linux-gnu),
# running the results under qemu-user with the cross libraries as the guest's root
# (scripts/cross-tests). Target libraries live in /usr/aarch64-linux-gnu (no sysroot: the
# Debian cross compiler finds its own headers and libraries there).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# add_test and gtest_discover_tests run target executables through this.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64 -L /usr/aarch64-linux-gnu)

# Programs (code generators, python) come from the host; libraries, headers and packages
# only from the target tree, so nothing of the host architecture is ever linked.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Header-only packages are architecture-independent: taken from the host.
set(nlohmann_json_DIR /usr/share/cmake/nlohmann_json CACHE PATH "nlohmann_json (header-only, host)")
