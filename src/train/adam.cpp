#include "train/adam.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace lumen::train {

void AdamOptions::validate() const {
  if (!(lr > 0)) throw InvalidArgument("adam: lr must be > 0, got " + std::to_string(lr));
  if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) throw InvalidArgument("adam: betas must be in [0, 1)");
  if (!(eps > 0)) throw InvalidArgument("adam: eps must be > 0");
}

FusedAdam::FusedAdam(std::vector<ParamGroup> groups, AdamOptions options) : groups_(std::move(groups)), options_(options) {
  options_.validate();
  for (const auto& g : groups_) {
    if (g.weight_decay < 0) throw InvalidArgument("adam: weight_decay must be >= 0");
    std::vector<State> s;
    for (const auto& p : g.params) s.push_back({torch::zeros_like(p), torch::zeros_like(p), torch::zeros_like(p)});
    state_.push_back(std::move(s));
  }
}

void FusedAdam::zero_grad() {
  // Undefined rather than zeroed: autograd then hands over its gradient tensor without a copy.
  for (auto& g : groups_)
    for (auto& p : g.params) p.mutable_grad() = at::Tensor();
}

namespace {
template <typename T>
void adam_kernel(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, double lr, double b1, double b2, double eps, double wd,
                 double bc1, double bc2_sqrt, bool amsgrad) {
  const T tb1 = T(b1), tb2 = T(b2), one_b1 = T(1 - b1), one_b2 = T(1 - b2), twd = T(wd);
  const T step = T(lr / bc1), inv_bc2 = T(1.0 / bc2_sqrt), teps = T(eps);
  parallel_chunks(n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T grad = g[i] + twd * p[i];
      m[i] = tb1 * m[i] + one_b1 * grad;
      v[i] = tb2 * v[i] + one_b2 * grad * grad;
      T second = v[i];
      if (amsgrad) {
        vmax[i] = std::max(vmax[i], v[i]);
        second = vmax[i];
      }
      p[i] -= step * m[i] / (std::sqrt(second) * inv_bc2 + teps);
    }
  });
}
}  // namespace

void FusedAdam::step() {
  ++step_;
  const double bc1 = 1 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bc2_sqrt = std::sqrt(1 - std::pow(options_.beta2, static_cast<double>(step_)));
  torch::NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    auto& group = groups_[gi];
    for (size_t pi = 0; pi < group.params.size(); ++pi) {
      at::Tensor& p = group.params[pi];
      if (!p.grad().defined()) continue;
      at::Tensor g = p.grad().contiguous();
      if (!p.is_contiguous()) throw InvalidArgument("adam: parameters must be contiguous");
      State& s = state_[gi][pi];
      AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "fused_adam", [&] {
        adam_kernel<scalar_t>(p.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), s.m.data_ptr<scalar_t>(),
                              s.v.data_ptr<scalar_t>(), s.vmax.data_ptr<scalar_t>(), p.numel(), options_.lr,
                              options_.beta1, options_.beta2, options_.eps, group.weight_decay, bc1, bc2_sqrt,
                              options_.amsgrad);
      });
    }
  }
}

}  // namespace lumen::train
