// Splits [0, n) into one contiguous chunk per core and runs them on plain threads. Lumen keeps
// LibTorch's OpenMP pool at one thread by default (core/runtime.h), so its own memory-bound
// loops use this instead. Work below `grain` items per chunk runs on the calling thread.
#pragma once
#include <cstdint>
#include <functional>

namespace lumen {

void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace lumen
