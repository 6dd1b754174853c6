// LD_PRELOAD library for memory tests: counts the bytes a process holds from malloc and its
// relatives (operator new and LibTorch's CPU allocator both end here) and writes the peak to
// the file named by LUMEN_HEAP_PEAK_FILE when the process exits. Unlike the peak resident set,
// the peak of live bytes does not depend on how glibc's arenas fragment, which varies with
// thread timing and so with whatever else the machine runs: it measures what the code keeps.
#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<long long> g_live{0}, g_peak{0};

void added(void* p) {
  if (!p) return;
  const long long now = g_live.fetch_add(static_cast<long long>(malloc_usable_size(p))) +
                        static_cast<long long>(malloc_usable_size(p));
  long long peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}
void removed(void* p) {
  if (p) g_live.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
}

struct Report {
  ~Report() {
    const char* path = std::getenv("LUMEN_HEAP_PEAK_FILE");
    if (!path) return;
    if (FILE* f = std::fopen(path, "w")) {
      std::fprintf(f, "%lld\n", g_peak.load());
      std::fclose(f);
    }
  }
} g_report;
}  // namespace

extern "C" {
void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  added(p);
  return p;
}
void free(void* p) {
  removed(p);
  __libc_free(p);
}
void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  added(p);
  return p;
}
void* realloc(void* old, size_t n) {
  const long long before = old ? static_cast<long long>(malloc_usable_size(old)) : 0;
  void* p = __libc_realloc(old, n);
  if (p || n == 0) g_live.fetch_sub(before);
  added(p);
  return p;
}
void* memalign(size_t alignment, size_t n) {
  void* p = __libc_memalign(alignment, n);
  added(p);
  return p;
}
void* aligned_alloc(size_t alignment, size_t n) { return memalign(alignment, n); }
int posix_memalign(void** out, size_t alignment, size_t n) {
  void* p = memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}
