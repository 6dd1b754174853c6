#include "models/parallel_linear.h"

#include <torch/torch.h>

#include "core/parallel.h"
#include "models/forward.h"

namespace lumen::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per chunk below which splitting costs more than it saves.
constexpr int64_t kGrainRows = 128;

// out[rows] = a[rows] b (+ bias), rows split over the cores. out must be preallocated.
void rows_mm(at::Tensor& out, const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias) {
  parallel_chunks(a.size(0), kGrainRows, [&](int64_t begin, int64_t end) {
    torch::NoGradGuard no_grad;  // grad mode is thread-local
    at::Tensor o = out.narrow(0, begin, end - begin);
    if (bias.defined()) at::addmm_out(o, bias, a.narrow(0, begin, end - begin), b);
    else at::mm_out(o, a.narrow(0, begin, end - begin), b);
  });
}

class ParallelLinearFunction : public torch::autograd::Function<ParallelLinearFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, at::Tensor x2, at::Tensor weight, at::Tensor bias) {
    at::Tensor out = at::empty({x2.size(0), weight.size(0)}, x2.options());
    rows_mm(out, x2, weight.t(), bias);
    ctx->save_for_backward({x2, weight});
    ctx->saved_data["has_bias"] = bias.requires_grad();
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    at::Tensor x2 = saved[0], weight = saved[1], dy = grads[0].contiguous();
    // Only what this backward pass asks for: an attribution wants the input's gradient alone
    // (autograd::grad prunes the weight's edge), training wants all three.
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = at::empty_like(x2);
      rows_mm(dx, dy, weight, at::Tensor());
    }
    if (ctx->needs_input_grad(1)) {
      // dW = dY^T X summed over row chunks: one partial product per core, then added.
      const int64_t n = x2.size(0);
      const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(lumen::cores(), n / kGrainRows));
      std::vector<at::Tensor> partial(parts);
      const int64_t size = (n + parts - 1) / parts;
      parallel_chunks(parts, 1, [&](int64_t begin, int64_t end) {
        torch::NoGradGuard no_grad;
        for (int64_t c = begin; c < end; ++c) {
          const int64_t r0 = c * size, r1 = std::min(n, r0 + size);
          partial[c] = at::mm(dy.narrow(0, r0, r1 - r0).t(), x2.narrow(0, r0, r1 - r0));
        }
      });
      dw = partial[0];
      for (int64_t c = 1; c < parts; ++c) dw = dw + partial[c];
    }
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db};
  }
};

}  // namespace

at::Tensor parallel_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (DifferentiableMode::on()) return torch::nn::functional::linear(x, weight, bias);  // the plain twin
  auto sizes = x.sizes().vec();
  at::Tensor x2 = x.reshape({-1, x.size(-1)}).contiguous();
  // A custom function cannot take an undefined tensor: no bias is a zero bias without gradient.
  at::Tensor y = ParallelLinearFunction::apply(x2, weight, bias.defined() ? bias : at::zeros({weight.size(0)}, x.options()))[0];
  sizes.back() = weight.size(0);
  return y.view(sizes);
}

}  // namespace lumen::models
