#include "models/lstm_gates.h"

#include <immintrin.h>

#include <atomic>
#include <cmath>

namespace lumen::models::lstm_internal {
namespace {

#define LUMEN_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// ---- Portable versions (and the vector loops' tails) ----
template <typename T>
inline T sigmoid(T a) {
  return T(1) / (T(1) + std::exp(-a));
}

template <typename T>
inline void cell_forward_scalar(T* __restrict g, const T* __restrict x, const T* __restrict cprev, T* __restrict cnext,
                                T* __restrict tc, T* __restrict h, T* __restrict out, int64_t H, int64_t j0) {
  for (int64_t j = j0; j < H; ++j) {
    T ai = g[j], af = g[H + j], ag = g[2 * H + j], ao = g[3 * H + j];
    if (x) {
      ai += x[j];
      af += x[H + j];
      ag += x[2 * H + j];
      ao += x[3 * H + j];
    }
    const T i = sigmoid(ai), f = sigmoid(af), gg = std::tanh(ag), o = sigmoid(ao);
    const T c = f * cprev[j] + i * gg, t = std::tanh(c);
    g[j] = i;
    g[H + j] = f;
    g[2 * H + j] = gg;
    g[3 * H + j] = o;
    cnext[j] = c;
    tc[j] = t;
    h[j] = o * t;
    if (out) out[j] = o * t;
  }
}

// The backward element loop: no transcendental functions, so the compiler vectorises it at
// whatever width the enclosing function's target allows.
template <typename T>
__attribute__((always_inline)) inline void cell_backward_body(const T* __restrict gr, const T* __restrict cprev,
                                                              const T* __restrict t, const T* __restrict dh,
                                                              const T* __restrict gout, T* __restrict dc,
                                                              T* __restrict dgr, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = gr[j], f = gr[H + j], g = gr[2 * H + j], og = gr[3 * H + j];
    const T dht = dh[j] + gout[j];
    const T dct = dc[j] + dht * og * (T(1) - t[j] * t[j]);
    dgr[j] = dct * g * i * (T(1) - i);
    dgr[H + j] = dct * cprev[j] * f * (T(1) - f);
    dgr[2 * H + j] = dct * i * (T(1) - g * g);
    dgr[3 * H + j] = dht * t[j] * og * (T(1) - og);
    dc[j] = dct * f;
  }
}

// ---- AVX2/FMA ----
// exp by range reduction x = n ln2 + r, |r| <= ln2/2 (ln2 split in two so that n ln2 is exact),
// a polynomial in r, and 2^n from the exponent bits. Inputs are clamped to where 2^n stays a
// normal number, so sigmoid(-x) = 1/(1 + exp(x)) saturates at 0 or 1 as the libm version does
// to within 1e-300.
template <typename T>
struct Vec;

template <>
struct Vec<double> {
  using V = __m256d;
  static constexpr int kWidth = 4;
  static LUMEN_AVX2 V load(const double* p) { return _mm256_loadu_pd(p); }
  static LUMEN_AVX2 void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static LUMEN_AVX2 V set(double a) { return _mm256_set1_pd(a); }
  static LUMEN_AVX2 V add(V a, V b) { return _mm256_add_pd(a, b); }
  static LUMEN_AVX2 V sub(V a, V b) { return _mm256_sub_pd(a, b); }
  static LUMEN_AVX2 V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static LUMEN_AVX2 V recip(V b) { return _mm256_div_pd(_mm256_set1_pd(1.0), b); }
  static LUMEN_AVX2 V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static LUMEN_AVX2 V exp(V x) {
    x = _mm256_min_pd(_mm256_max_pd(x, set(-708.0)), set(709.0));
    const V n = _mm256_round_pd(mul(x, set(1.4426950408889634)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm256_fnmadd_pd(n, set(6.93145751953125e-1), x);
    r = _mm256_fnmadd_pd(n, set(1.42860682030941723212e-6), r);
    // Taylor series to degree 12: the remainder is below 2e-16 relative on |r| <= ln2/2.
    V p = set(1.0 / 479001600.0);
    p = fma(p, r, set(1.0 / 39916800.0));
    p = fma(p, r, set(1.0 / 3628800.0));
    p = fma(p, r, set(1.0 / 362880.0));
    p = fma(p, r, set(1.0 / 40320.0));
    p = fma(p, r, set(1.0 / 5040.0));
    p = fma(p, r, set(1.0 / 720.0));
    p = fma(p, r, set(1.0 / 120.0));
    p = fma(p, r, set(1.0 / 24.0));
    p = fma(p, r, set(1.0 / 6.0));
    p = fma(p, r, set(0.5));
    p = fma(p, r, set(1.0));
    p = fma(p, r, set(1.0));
    const __m256i e = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)), 52);
    return mul(p, _mm256_castsi256_pd(e));
  }
};

template <>
struct Vec<float> {
  using V = __m256;
  static constexpr int kWidth = 8;
  static LUMEN_AVX2 V load(const float* p) { return _mm256_loadu_ps(p); }
  static LUMEN_AVX2 void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static LUMEN_AVX2 V set(float a) { return _mm256_set1_ps(a); }
  static LUMEN_AVX2 V add(V a, V b) { return _mm256_add_ps(a, b); }
  static LUMEN_AVX2 V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static LUMEN_AVX2 V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static LUMEN_AVX2 V recip(V b) { return _mm256_div_ps(_mm256_set1_ps(1.0f), b); }
  static LUMEN_AVX2 V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static LUMEN_AVX2 V exp(V x) {
    x = _mm256_min_ps(_mm256_max_ps(x, set(-87.0f)), set(88.0f));
    const V n = _mm256_round_ps(mul(x, set(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = _mm256_fnmadd_ps(n, set(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, set(-2.12194440e-4f), r);
    // Cephes' minimax polynomial for expf (about 1 ulp).
    V p = set(1.9875691500e-4f);
    p = fma(p, r, set(1.3981999507e-3f));
    p = fma(p, r, set(8.3334519073e-3f));
    p = fma(p, r, set(4.1665795894e-2f));
    p = fma(p, r, set(1.6666665459e-1f));
    p = fma(p, r, set(5.0000001201e-1f));
    p = fma(p, mul(r, r), add(r, set(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return mul(p, _mm256_castsi256_ps(e));
  }
};

// sigmoid(a) = 1 / (1 + exp(-a)); tanh(a) = 2 sigmoid(2a) - 1.
template <typename T>
LUMEN_AVX2 typename Vec<T>::V vsigmoid(typename Vec<T>::V a) {
  using W = Vec<T>;
  const auto one = W::set(T(1));
  return W::recip(W::add(one, W::exp(W::sub(W::set(T(0)), a))));
}
template <typename T>
LUMEN_AVX2 typename Vec<T>::V vtanh(typename Vec<T>::V a) {
  using W = Vec<T>;
  return W::sub(W::mul(W::set(T(2)), vsigmoid<T>(W::add(a, a))), W::set(T(1)));
}

template <typename T>
__attribute__((target("avx2,fma"))) void cell_forward_avx2(T* __restrict g, const T* __restrict x,
                                                           const T* __restrict cprev, T* __restrict cnext,
                                                           T* __restrict tc, T* __restrict h, T* __restrict out,
                                                           int64_t H) {
  using W = Vec<T>;
  int64_t j = 0;
  for (; j + W::kWidth <= H; j += W::kWidth) {
    auto ai = W::load(g + j), af = W::load(g + H + j), ag = W::load(g + 2 * H + j), ao = W::load(g + 3 * H + j);
    if (x) {
      ai = W::add(ai, W::load(x + j));
      af = W::add(af, W::load(x + H + j));
      ag = W::add(ag, W::load(x + 2 * H + j));
      ao = W::add(ao, W::load(x + 3 * H + j));
    }
    const auto i = vsigmoid<T>(ai), f = vsigmoid<T>(af), gg = vtanh<T>(ag), o = vsigmoid<T>(ao);
    const auto c = W::fma(f, W::load(cprev + j), W::mul(i, gg));
    const auto t = vtanh<T>(c);
    const auto hv = W::mul(o, t);
    W::store(g + j, i);
    W::store(g + H + j, f);
    W::store(g + 2 * H + j, gg);
    W::store(g + 3 * H + j, o);
    W::store(cnext + j, c);
    W::store(tc + j, t);
    W::store(h + j, hv);
    if (out) W::store(out + j, hv);
  }
  cell_forward_scalar(g, x, cprev, cnext, tc, h, out, H, j);
}

template <typename T>
__attribute__((target("avx2,fma"))) void cell_backward_avx2(const T* gr, const T* cprev, const T* t, const T* dh,
                                                            const T* gout, T* dc, T* dgr, int64_t H) {
  cell_backward_body(gr, cprev, t, dh, gout, dc, dgr, H);
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
std::atomic<bool> portable{false};

}  // namespace

bool cell_simd() { return cpu_has_avx2() && !portable.load(std::memory_order_relaxed); }
void use_portable_cells(bool p) { portable.store(p); }

template <typename T>
void cell_forward(T* g, const T* x, const T* cprev, T* cnext, T* tc, T* h, T* out, int64_t H) {
  if (cell_simd()) cell_forward_avx2(g, x, cprev, cnext, tc, h, out, H);
  else cell_forward_scalar(g, x, cprev, cnext, tc, h, out, H, 0);
}

template <typename T>
void cell_backward(const T* gr, const T* cprev, const T* t, const T* dh, const T* gout, T* dc, T* dgr, int64_t H) {
  if (cell_simd()) cell_backward_avx2(gr, cprev, t, dh, gout, dc, dgr, H);
  else cell_backward_body(gr, cprev, t, dh, gout, dc, dgr, H);
}

template void cell_forward<float>(float*, const float*, const float*, float*, float*, float*, float*, int64_t);
template void cell_forward<double>(double*, const double*, const double*, double*, double*, double*, double*, int64_t);
template void cell_backward<float>(const float*, const float*, const float*, const float*, const float*, float*, float*,
                                   int64_t);
template void cell_backward<double>(const double*, const double*, const double*, const double*, const double*, double*,
                                    double*, int64_t);

}  // namespace lumen::models::lstm_internal
