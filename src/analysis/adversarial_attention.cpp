#include "analysis/adversarial_attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace lumen::analysis {

void AdversarialOptions::validate() const {
  if (candidates < 1) throw InvalidArgument("adversarial: candidates must be >= 1");
  if (steps < 0) throw InvalidArgument("adversarial: steps must be >= 0");
  if (!(lr > 0)) throw InvalidArgument("adversarial: lr must be > 0");
  if (!(penalty >= 0)) throw InvalidArgument("adversarial: penalty must be >= 0");
  if (!(margin >= 0 && margin <= 1)) throw InvalidArgument("adversarial: margin must be in [0, 1]");
  if (!(epsilon >= 0 && epsilon <= 1)) throw InvalidArgument("adversarial: epsilon must be in [0, 1]");
  for (double e : more_epsilons)
    if (!(e >= 0 && e <= 1)) throw InvalidArgument("adversarial: epsilon must be in [0, 1]");
  if (!(init_std >= 0)) throw InvalidArgument("adversarial: init_std must be >= 0");
}

std::vector<double> adversarial_init(const Decision& d, const AdversarialOptions& o, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> theta(o.candidates * d.n);
  const double base = d.n > 0 ? std::log(1.0 / static_cast<double>(d.n)) : 0.0;
  for (double& v : theta) v = base + o.init_std * rng.normal();
  return theta;
}

namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kAdamEps = 1e-8;

inline double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

}  // namespace

namespace {

// The kernel body in precision T, compiled for the baseline x86-64 and with AVX2/FMA (4
// doubles or 8 floats per vector in the exp/log loops), chosen at run time.
template <typename T>
__attribute__((always_inline)) inline void optimize_body(const Decision& d, const AdversarialOptions& o,
                                                         std::vector<double>& theta_io) {
  const int64_t n = d.n, K = o.candidates, C = d.classes;
  if (n == 0) return;
  const std::vector<T> Sv(d.token_logits.begin(), d.token_logits.end()), attv(d.attention.begin(), d.attention.end());
  const std::vector<T> bias(d.bias.begin(), d.bias.end()), p0(d.probs.begin(), d.probs.end());
  std::vector<T> theta(theta_io.begin(), theta_io.end());
  const T* S = Sv.data();
  const T* att = attv.data();
  std::vector<T> a(K * n), la(K * n), g(K * n), m1(K * n, T(0)), v(K * n, T(0)), vmax(K * n, T(0));
  std::vector<T> z(C), p(C), gz(C);
  const T pair_w = K > 1 ? T(1.0 / (0.5 * static_cast<double>(K * (K - 1)))) : T(0);
  T b1t = 1, b2t = 1;
  for (int64_t step = 1; step <= o.steps; ++step) {
    // Candidates: a_k = softmax(theta_k), log a_k = theta_k - logsumexp(theta_k).
    for (int64_t k = 0; k < K; ++k) {
      const T* th = &theta[k * n];
      T mx = th[0];
      for (int64_t t = 1; t < n; ++t) mx = std::max(mx, th[t]);
      T s = 0;
      for (int64_t t = 0; t < n; ++t) s += (a[k * n + t] = std::exp(th[t] - mx));
      const T lse = mx + std::log(s);
      for (int64_t t = 0; t < n; ++t) {
        a[k * n + t] /= s;
        la[k * n + t] = th[t] - lse;
      }
    }
    // Gradient of the loss with respect to a.
    for (int64_t k = 0; k < K; ++k) {
      T* gk = &g[k * n];
      const T* ak = &a[k * n];
      const T* lak = &la[k * n];
      // -JSD(a_k, att): d/da_t = -0.5 (log a_t - log m_t).
      for (int64_t t = 0; t < n; ++t) gk[t] = -T(0.5) * (lak[t] - std::log(T(0.5) * (ak[t] + att[t])));
      // penalty * relu(TVD(y_k, y) - margin).
      std::copy(bias.begin(), bias.end(), z.begin());
      for (int64_t t = 0; t < n; ++t)
        for (int64_t c = 0; c < C; ++c) z[c] += ak[t] * S[t * C + c];
      T mx = z[0];
      for (int64_t c = 1; c < C; ++c) mx = std::max(mx, z[c]);
      T s = 0;
      for (int64_t c = 0; c < C; ++c) s += (p[c] = std::exp(z[c] - mx));
      T tv = 0;
      for (int64_t c = 0; c < C; ++c) {
        p[c] /= s;
        tv += std::fabs(p[c] - p0[c]);
      }
      tv *= T(0.5);
      if (tv - o.margin > 0) {
        T dot = 0;
        for (int64_t c = 0; c < C; ++c) {
          gz[c] = T(o.penalty) * T(0.5) * T(sign(p[c] - p0[c]));
          dot += p[c] * gz[c];
        }
        for (int64_t c = 0; c < C; ++c) gz[c] = p[c] * (gz[c] - dot);
        for (int64_t t = 0; t < n; ++t) {
          T acc = 0;
          for (int64_t c = 0; c < C; ++c) acc += S[t * C + c] * gz[c];
          gk[t] += acc;
        }
      }
    }
    // -mean_{k<l} JSD(a_k, a_l).
    for (int64_t k = 0; k < K; ++k)
      for (int64_t l = k + 1; l < K; ++l) {
        const T *ak = &a[k * n], *al = &a[l * n], *lak = &la[k * n], *lal = &la[l * n];
        T *gk = &g[k * n], *gl = &g[l * n];
        for (int64_t t = 0; t < n; ++t) {
          const T lm = std::log(T(0.5) * (ak[t] + al[t]));
          gk[t] -= pair_w * T(0.5) * (lak[t] - lm);
          gl[t] -= pair_w * T(0.5) * (lal[t] - lm);
        }
      }
    // Through the softmax, then one AMSGrad step.
    b1t *= T(kBeta1);
    b2t *= T(kBeta2);
    const T step_size = T(o.lr) / (1 - b1t), bc2 = std::sqrt(1 - b2t);
    for (int64_t k = 0; k < K; ++k) {
      const T* ak = &a[k * n];
      T* gk = &g[k * n];
      T dot = 0;
      for (int64_t t = 0; t < n; ++t) dot += ak[t] * gk[t];
      for (int64_t t = 0; t < n; ++t) {
        const int64_t i = k * n + t;
        const T gt = ak[t] * (gk[t] - dot);
        m1[i] = T(kBeta1) * m1[i] + (1 - T(kBeta1)) * gt;
        v[i] = T(kBeta2) * v[i] + (1 - T(kBeta2)) * gt * gt;
        vmax[i] = std::max(vmax[i], v[i]);
        theta[i] -= step_size * m1[i] / (std::sqrt(vmax[i]) / bc2 + T(kAdamEps));
      }
    }
  }
  std::copy(theta.begin(), theta.end(), theta_io.begin());
}

template <typename T>
__attribute__((target("avx2,fma"))) void optimize_avx2(const Decision& d, const AdversarialOptions& o,
                                                      std::vector<double>& theta) {
  optimize_body<T>(d, o, theta);
}
template <typename T>
void optimize_baseline(const Decision& d, const AdversarialOptions& o, std::vector<double>& theta) {
  optimize_body<T>(d, o, theta);
}

}  // namespace

void adversarial_optimize_fast(const Decision& d, const AdversarialOptions& o, std::vector<double>& theta) {
  if (!d.affine()) throw InvalidArgument("adversarial: the fast kernel needs an affine decoder");
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (o.float32) {
    if (avx2) optimize_avx2<float>(d, o, theta);
    else optimize_baseline<float>(d, o, theta);
  } else {
    if (avx2) optimize_avx2<double>(d, o, theta);
    else optimize_baseline<double>(d, o, theta);
  }
}


void adversarial_optimize_plain(models::TextClassifier& model, const std::vector<const Decision*>& ds,
                                const AdversarialOptions& o, std::vector<std::vector<double>>& thetas) {
  const int64_t B = static_cast<int64_t>(ds.size()), K = o.candidates;
  if (B == 0) return;
  int64_t T = 1;
  for (const Decision* d : ds) T = std::max(T, d->n);
  const int64_t C = ds[0]->classes;
  const bool affine = ds[0]->affine();
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  at::Tensor theta0 = torch::zeros({B, K, T}, f64), mask = torch::zeros({B, T}, torch::kBool);
  at::Tensor orig = torch::zeros({B, T}, f64), p0 = torch::zeros({B, C}, f64);
  at::Tensor S, bias, states, query;
  if (affine) {
    S = torch::zeros({B, T, C}, f64);
    bias = torch::tensor(ds[0]->bias, f64);
  } else {
    const int64_t m = ds[0]->states.size(1);
    states = torch::zeros({B, T, m}, ds[0]->states.options());
    query = torch::zeros({B, m}, ds[0]->states.options());
  }
  for (int64_t b = 0; b < B; ++b) {
    const Decision& d = *ds[b];
    if (d.n == 0) continue;
    mask[b].narrow(0, 0, d.n).fill_(true);
    orig[b].narrow(0, 0, d.n).copy_(torch::tensor(d.attention, f64));
    p0[b].copy_(torch::tensor(d.probs, f64));
    theta0[b].narrow(1, 0, d.n).copy_(torch::tensor(thetas[b], f64).reshape({K, d.n}));
    if (affine) {
      S[b].narrow(0, 0, d.n).copy_(torch::tensor(d.token_logits, f64).reshape({d.n, C}));
    } else {
      states[b].narrow(0, 0, d.n).copy_(d.states);
      query[b].copy_(d.query);
    }
  }
  at::Tensor theta = theta0.clone().requires_grad_(true);
  torch::optim::Adam adam({theta}, torch::optim::AdamOptions(o.lr).amsgrad(true));
  const at::Tensor mk = mask.unsqueeze(1);  // [B, 1, T]
  const at::Tensor one = torch::ones({}, f64);
  // sum over tokens of JSD terms; padded positions contribute xlogy(1, 1) = 0 and no gradient.
  auto jsd = [&](const at::Tensor& p, const at::Tensor& q) {
    const at::Tensor mm = 0.5 * (p + q);
    auto xlx = [&](const at::Tensor& x) {
      const at::Tensor s = torch::where(mk, x, one);
      return torch::special_xlogy(s, s);
    };
    return (0.5 * xlx(p) + 0.5 * xlx(q) - xlx(mm)).sum(-1);
  };
  const double pair_w = K > 1 ? 1.0 / (0.5 * static_cast<double>(K * (K - 1))) : 0.0;
  for (int64_t step = 0; step < o.steps; ++step) {
    adam.zero_grad();
    at::Tensor a = torch::softmax(theta.masked_fill(mk.logical_not(), -INFINITY), 2);  // [B, K, T]
    at::Tensor loss = -jsd(a, orig.unsqueeze(1)).sum();
    at::Tensor probs;
    if (affine) {
      probs = torch::softmax(torch::matmul(a, S) + bias, 2);  // [B, K, C]
    } else {
      at::Tensor context = torch::bmm(a.to(states.scalar_type()), states);  // [B, K, m]
      at::Tensor q = query.unsqueeze(1).expand({B, K, query.size(1)}).reshape({B * K, -1});
      probs = torch::softmax(model->decoder(context.reshape({B * K, -1}), q).to(torch::kDouble), 1).reshape({B, K, C});
    }
    at::Tensor tv = 0.5 * (probs - p0.unsqueeze(1)).abs().sum(2);
    loss = loss + o.penalty * torch::relu(tv - o.margin).sum();
    for (int64_t k = 0; k < K; ++k)
      for (int64_t l = k + 1; l < K; ++l) loss = loss - pair_w * jsd(a.select(1, k).unsqueeze(1), a.select(1, l).unsqueeze(1)).sum();
    loss.backward();
    adam.step();
  }
  at::Tensor out = theta.detach();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = ds[b]->n;
    at::Tensor t = out[b].narrow(1, 0, n).contiguous();
    thetas[b].assign(t.data_ptr<double>(), t.data_ptr<double>() + K * n);
  }
}

AdversarialResult adversarial_select(models::TextClassifier& model, const Decision& d, const AdversarialOptions& o,
                                     const std::vector<double>& theta) {
  AdversarialResult r;
  r.attention = d.attention;
  if (d.n == 0) return r;
  const int64_t n = d.n, K = o.candidates;
  std::vector<std::vector<double>> cands(K, std::vector<double>(n));
  for (int64_t k = 0; k < K; ++k) {
    const double* th = &theta[k * n];
    const double mx = *std::max_element(th, th + n);
    double s = 0;
    for (int64_t t = 0; t < n; ++t) s += (cands[k][t] = std::exp(th[t] - mx));
    for (double& x : cands[k]) x /= s;
  }
  const auto probs = decode_weights(model, d, cands);
  for (int64_t k = 0; k < K; ++k) {
    const double tv = tvd(probs[k].data(), d.probs.data(), d.classes);
    if (tv > o.epsilon) continue;
    ++r.within_epsilon;
    const double j = jsd(cands[k].data(), d.attention.data(), n);
    if (j > r.jsd) {
      r.jsd = j;
      r.tvd = tv;
      r.attention = cands[k];
    }
  }
  return r;
}

std::vector<AdversarialResult> adversarial_attention(models::TextClassifier& model, const std::vector<Decision>& ds,
                                                     const std::vector<uint64_t>& seeds, const AdversarialOptions& o) {
  o.validate();
  const int64_t B = static_cast<int64_t>(ds.size());
  std::vector<std::vector<double>> thetas(B);
  for (int64_t i = 0; i < B; ++i) thetas[i] = adversarial_init(ds[i], o, seeds[i]);
  const bool affine = B > 0 && ds[0].affine();
  if (o.fast && affine) {
    parallel_chunks(B, 4, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) adversarial_optimize_fast(ds[i], o, thetas[i]);
    });
  } else {
    std::vector<const Decision*> ptrs;
    for (const auto& d : ds) ptrs.push_back(&d);
    adversarial_optimize_plain(model, ptrs, o, thetas);
  }
  std::vector<AdversarialResult> out;
  out.reserve(B);
  for (int64_t i = 0; i < B; ++i) {
    AdversarialResult r = adversarial_select(model, ds[i], o, thetas[i]);
    r.by_epsilon.push_back({o.epsilon, r.jsd, r.tvd});
    for (double e : o.more_epsilons) {
      AdversarialOptions oe = o;
      oe.epsilon = e;
      const AdversarialResult re = adversarial_select(model, ds[i], oe, thetas[i]);
      r.by_epsilon.push_back({e, re.jsd, re.tvd});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace lumen::analysis
