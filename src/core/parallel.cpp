#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace lumen {

namespace {
thread_local bool t_in_region = false;
struct RegionFlag {
  bool saved = t_in_region;
  RegionFlag() { t_in_region = true; }
  ~RegionFlag() { t_in_region = saved; }
};
}  // namespace

bool in_parallel_region() { return t_in_region; }

namespace {
int machine_cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }
std::atomic<int> g_cores{0};
}  // namespace

void set_cores(int n) { g_cores = n <= 0 ? machine_cores() : std::min(n, machine_cores()); }

int cores() {
  const int c = g_cores.load();
  return c > 0 ? c : machine_cores();
}

void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (t_in_region) {
    fn(0, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(cores(), std::max<int64_t>(1, n / std::max<int64_t>(grain, 1)));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  const int64_t size = (n + chunks - 1) / chunks;
  std::vector<std::exception_ptr> errors(chunks);
  std::vector<std::thread> workers;
  for (int64_t c = 1; c < chunks; ++c) {
    workers.emplace_back([&, c] {
      RegionFlag region;
      try {
        fn(c * size, std::min(n, (c + 1) * size));
      } catch (...) {
        errors[c] = std::current_exception();
      }
    });
  }
  try {
    RegionFlag region;
    fn(0, std::min(n, size));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace lumen
