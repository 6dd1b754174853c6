// Process-wide numerical set-up: which BLAS LibTorch runs on, and how many threads it uses.
#pragma once
#include <string>

namespace lumen {

struct BlasInfo {
  // True when OpenBLAS is loaded in this process (LibTorch on Debian links libblas.so.3,
  // which the alternatives system may point at the slow reference BLAS instead).
  bool openblas = false;
  // OpenBLAS's own configuration string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ...".
  std::string config;
};

// Forces BLAS initialisation and reports which implementation is loaded.
BlasInfo blas_info();

// Thread policy. `n` is the number of cores to use (`--threads N`; n <= 0: every core). LibTorch's
// OpenMP threads spin after each parallel region and OpenBLAS's own threads fight them for the
// cores (measured 2-4x slower on two cores), so both always get one thread, and Lumen's kernels
// split their work over n cores on plain threads (core/parallel.h: the BiLSTM runs its two
// directions on two cores, row-split products, leave-one-out groups, the adversarial search,
// Adam's loop). Measured on the 2-core machine: a BiLSTM training epoch took 3.5 s this way,
// 5.5 s with LibTorch at 2 threads, 4.9 s with OpenBLAS at 2 threads outside the LSTM kernel.
// LUMEN_TORCH_THREADS / LUMEN_BLAS_THREADS override the two libraries' counts for measurements.
void configure_threads(int n);

// OpenBLAS's thread count (1 when OpenBLAS is not loaded).
int blas_threads();
void set_blas_threads(int n);

// Sets OpenBLAS's threads for a scope and restores them after.
class ScopedBlasThreads {
 public:
  explicit ScopedBlasThreads(int n);
  ~ScopedBlasThreads();
  ScopedBlasThreads(const ScopedBlasThreads&) = delete;
  ScopedBlasThreads& operator=(const ScopedBlasThreads&) = delete;

 private:
  int previous_;
};

// OpenBLAS picks its kernels for this CPU once, when it is loaded (before main), from the CPU's
// model number. Debian's OpenBLAS 0.3.21 does not know the model these machines report
// ("Intel Xeon Processor" with AVX-512) and falls back to its generic Prescott kernels: a
// single-core SGEMM of 1024^3 runs at 19.5 GFLOP/s instead of 133 with the SkylakeX kernels
// (measured here). Call this first in main(), before any BLAS work: when OPENBLAS_CORETYPE is
// unset and OpenBLAS chose Prescott on a CPU with AVX-512 (F, BW, DQ, VL) or AVX2 + FMA, it
// sets OPENBLAS_CORETYPE=SkylakeX (or Haswell) and has OpenBLAS choose again in this process
// (its exported gotoblas_dynamic_quit / _init); where that is not possible it re-executes the
// program once with the variable set (LUMEN_BLAS_REEXEC guards against loops). Otherwise it
// returns at once. LUMEN_BLAS_KEEP=1 keeps OpenBLAS's own choice. The kernel in use: blas_core().
void select_blas_kernels(char** argv);
// OpenBLAS's kernel name ("SkylakeX", "Prescott", ...); "" when OpenBLAS is not loaded.
std::string blas_core();

// The warning `lumen` prints when the reference BLAS is in use, or "" when OpenBLAS is.
std::string blas_warning();

}  // namespace lumen
