// Splits [0, n) into one contiguous chunk per core and runs them on plain threads. Lumen keeps
// LibTorch's OpenMP pool at one thread by default (core/runtime.h), so its own memory-bound
// loops use this instead. Work below `grain` items per chunk runs on the calling thread.
#pragma once
#include <cstdint>
#include <functional>

namespace lumen {

// Inside a chunk (on any of its threads), nested parallel_chunks calls and Lumen's other
// per-core splits run serially, so that nesting never oversubscribes the cores.
void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

// True on a thread that is running a chunk of parallel_chunks.
bool in_parallel_region();

}  // namespace lumen
