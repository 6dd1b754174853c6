#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "core/parallel.h"

namespace lumen {

BlasInfo blas_info() {
  // One tiny product makes LibTorch resolve its BLAS symbols.
  auto a = torch::ones({2, 2});
  (void)a.mm(a);
  BlasInfo info;
  using ConfigFn = char* (*)();
  if (auto fn = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    info.openblas = true;
    info.config = fn();
  }
  return info;
}

namespace {
using SetFn = void (*)(int);
using GetFn = int (*)();
SetFn blas_set() {
  static SetFn fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return fn;
}
GetFn blas_get() {
  static GetFn fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn;
}
}  // namespace

int blas_threads() { return blas_get() ? blas_get()() : 1; }
void set_blas_threads(int n) {
  if (blas_set() && n != blas_threads()) blas_set()(n);
}

ScopedBlasThreads::ScopedBlasThreads(int n) : previous_(blas_threads()) { set_blas_threads(n); }
ScopedBlasThreads::~ScopedBlasThreads() { set_blas_threads(previous_); }

void configure_threads(int n) {
  // Keep freed blocks in the heap: LibTorch allocates the same multi-megabyte buffers every
  // training step, and glibc's default (mmap above 128 KiB, returned at free) page-faults
  // them in again each time.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  blas_info();  // loads the BLAS so that its symbols resolve
  set_cores(n);
  int torch_threads = 1, threads_for_blas = 1;
  // Overrides for measurements: LUMEN_TORCH_THREADS, LUMEN_BLAS_THREADS.
  if (const char* e = std::getenv("LUMEN_TORCH_THREADS")) torch_threads = std::max(1, std::atoi(e));
  if (const char* e = std::getenv("LUMEN_BLAS_THREADS")) threads_for_blas = std::max(1, std::atoi(e));
  at::set_num_threads(torch_threads);
  set_blas_threads(threads_for_blas);
}
std::string blas_core() {
  using NameFn = char* (*)();
  auto fn = reinterpret_cast<NameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return fn ? std::string(fn()) : std::string();
}

void select_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("LUMEN_BLAS_REEXEC") || std::getenv("LUMEN_BLAS_KEEP")) return;
  std::string core = blas_core();
  for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (core != "prescott") return;
  const char* better = nullptr;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    better = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    better = "Haswell";
  if (better == nullptr) return;
  setenv("OPENBLAS_CORETYPE", better, 1);
  // OpenBLAS (DYNAMIC_ARCH) exports the table switch it runs at load: before any work, quit
  // and init choose again, now from OPENBLAS_CORETYPE. Re-executing is the fallback.
  using VoidFn = void (*)();
  auto quit = reinterpret_cast<VoidFn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<VoidFn>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (quit && init) {
    quit();
    init();
    std::string now = blas_core();
    for (char& c : now) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string want = better;
    for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (now == want) return;
  }
  setenv("LUMEN_BLAS_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with OpenBLAS's choice.
  unsetenv("OPENBLAS_CORETYPE");
}

std::string blas_warning() {
  const BlasInfo info = blas_info();
  if (info.openblas) return "";
  return "warning: LibTorch is not running on OpenBLAS (the reference BLAS is about 13x slower); "
         "install libopenblas0-pthread (scripts/install-deps.sh does)";
}

}  // namespace lumen
