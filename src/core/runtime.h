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

// Thread policy. LibTorch's OpenMP threads spin after each parallel region and OpenBLAS's own
// threads fight them for the cores (measured 2-4x slower); OpenBLAS's idle threads also spin.
// OpenBLAS always gets one thread. n > 0: LibTorch gets n threads. n <= 0 (default): LibTorch
// one thread too, and Lumen's kernels parallelise themselves on plain threads (the BiLSTM runs
// its two directions on two cores, Adam splits its loop); measured the fastest on two cores:
// a BiLSTM training epoch took 3.5 s this way, 5.5 s with LibTorch at 2 threads, 4.9 s with
// OpenBLAS at 2 threads outside the LSTM kernel.
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

// The warning `lumen` prints when the reference BLAS is in use, or "" when OpenBLAS is.
std::string blas_warning();

}  // namespace lumen
