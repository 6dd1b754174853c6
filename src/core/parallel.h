// Splits [0, n) into one contiguous chunk per core and runs them on plain threads. Lumen keeps
// LibTorch's OpenMP pool and OpenBLAS at one thread (core/runtime.h), so its own kernels and
// loops use this instead. Work below `grain` items per chunk runs on the calling thread.
#pragma once
#include <cstdint>
#include <functional>

namespace lumen {

// The cores Lumen's kernels split work over (`--threads N`): n <= 0 means every core of the
// machine; n is capped at the machine's cores. Process-wide; set once at start-up.
void set_cores(int n);
// The current setting (>= 1); every core of the machine unless set_cores said otherwise.
int cores();

// Inside a chunk (on any of its threads), nested parallel_chunks calls and Lumen's other
// per-core splits run serially, so that nesting never oversubscribes the cores.
void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// True on a thread that is running a chunk of parallel_chunks.
bool in_parallel_region();

}  // namespace lumen
