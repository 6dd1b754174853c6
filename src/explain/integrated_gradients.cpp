// Integrated gradients (Sundararajan et al. 2017) over token embeddings: the path from a
// baseline embedding (PAD, zero or UNK at every real token; <s>, </s> and padding unchanged) to
// the input, midpoint Riemann sum. Steps are evaluated in chunks of interpolated copies of the
// batch, so memory stays flat in the step count; the completeness gap |sum of attributions -
// (F(x) - F(baseline))| / |F(x) - F(baseline)| is reported per instance.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/batch_plan.h"
#include "data/vocab.h"
#include "explain/common.h"
#include "explain/lstm_fast.h"
#include "explain/methods.h"

namespace lumen::explain {

at::Tensor integrated_gradients(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x,
                                const at::Tensor& baseline, int64_t steps, int64_t chunk) {
  if (steps < 1) throw InvalidArgument("integrated gradients: steps must be >= 1, got " + std::to_string(steps));
  if (!x.sizes().equals(baseline.sizes())) throw InvalidArgument("integrated gradients: baseline must match x's shape");
  if (chunk <= 0) chunk = steps;
  torch::AutoGradMode grad_mode(true);
  const at::Tensor diff = (x - baseline).detach();
  at::Tensor total = torch::zeros_like(x);
  for (int64_t s0 = 0; s0 < steps; s0 += chunk) {
    const int64_t c = std::min(chunk, steps - s0);
    at::Tensor alpha = (torch::arange(s0, s0 + c, x.options()) + 0.5) / static_cast<double>(steps);
    std::vector<int64_t> shape = {c};
    for (int64_t d = 0; d < x.dim(); ++d) shape.push_back(1);
    at::Tensor points = (baseline.unsqueeze(0) + alpha.view(shape) * diff.unsqueeze(0)).detach().requires_grad_(true);
    at::Tensor y = f(points);
    at::Tensor g = torch::autograd::grad({y.sum()}, {points})[0];
    total += g.sum(0);
  }
  return diff * total / static_cast<double>(steps);
}

namespace {

// Step-major copies of the batch for steps [s0, s0 + c) and their path coefficients [c*B, 1, 1].
at::Tensor path_alphas(int64_t s0, int64_t c, int64_t steps, int64_t B, const at::TensorOptions& opt) {
  return ((torch::arange(s0, s0 + c, opt) + 0.5) / static_cast<double>(steps)).repeat_interleave(B).view({c * B, 1, 1});
}

void fill_details(BatchAttribution& out, const ExplainOptions& o, const at::Tensor& fx, const at::Tensor& f0) {
  const int64_t B = fx.size(0);
  at::Tensor total = out.scores.sum(1);
  if (out.scores_b.defined()) total = total + out.scores_b.sum(1);
  const at::Tensor delta = (fx - f0).to(torch::kDouble);
  const at::Tensor gap = ((total - delta).abs() / delta.abs().clamp_min(1e-12)).contiguous();
  out.completeness_gap.assign(gap.data_ptr<double>(), gap.data_ptr<double>() + B);
  for (int64_t r = 0; r < B; ++r)
    out.details.push_back({{"baseline", to_string(o.path.baseline)},
                           {"steps", o.path.steps},
                           {"f_input", fx[r].item<double>()},
                           {"f_baseline", f0[r].item<double>()}});
}

// The BiLSTM projection path (lstm_fast.h): the path runs on input projections
// q0 + a (q - q0), and the attribution is mean_a dP(a) . (q - q0).
BatchAttribution ig_on_projections(models::TextClassifier& model, const LstmProjection& lp, const data::Batch& batch,
                                   const ExplainOptions& o) {
  BatchAttribution out;
  out.targets = resolve_targets(model, batch, o);
  const int64_t B = batch.size();
  const at::Tensor q = token_projections(model, lp, batch.ids);
  at::Tensor q0;
  if (o.path.baseline == Baseline::kZero) {
    q0 = q * batch.token_mask.logical_not().unsqueeze(2).to(q.scalar_type());
  } else {
    const int64_t id = o.path.baseline == Baseline::kPad ? data::Vocab::kPad : data::Vocab::kUnk;
    q0 = token_projections(model, lp, torch::where(batch.token_mask, torch::full_like(batch.ids, id), batch.ids));
  }
  const at::Tensor diff = q - q0, base = q0 + lp.bias;
  const int64_t chunk = data::copies_per_pass(o.chunk, o.max_tokens, B, batch.ids.size(1));
  at::Tensor sum = torch::zeros_like(q);
  for (int64_t s0 = 0; s0 < o.path.steps; s0 += chunk) {
    const int64_t c = std::min(chunk, o.path.steps - s0);
    const data::Batch rep = c == 1 ? batch : data::select_rows(batch, torch::arange(B, torch::kInt64).repeat({c}));
    const at::Tensor alpha = (torch::arange(s0, s0 + c, q.options()) + 0.5) / static_cast<double>(o.path.steps);
    // One allocation: q0 + a (q - q0) broadcast over the c steps (step-major, as `rep`).
    const at::Tensor points = torch::addcmul(base.unsqueeze(0), alpha.view({c, 1, 1, 1}), diff.unsqueeze(0))
                                  .view({c * B, q.size(1), q.size(2)});
    std::vector<int64_t> tg;
    for (int64_t k = 0; k < c; ++k) tg.insert(tg.end(), out.targets.begin(), out.targets.end());
    sum += projection_gradients(model, lp, rep, points, tg).grad.view({c, B, q.size(1), q.size(2)}).sum(0);
  }
  out.scores = token_dot(sum / static_cast<double>(o.path.steps), diff, batch.token_mask);
  const at::Tensor fx = projection_probability(model, lp, batch, q + lp.bias, out.targets);
  const at::Tensor f0 = projection_probability(model, lp, batch, base, out.targets);
  fill_details(out, o, fx, f0);
  return out;
}

class IntegratedGradients : public Explainer {
 public:
  std::string name() const override { return "ig"; }
  std::string description() const override {
    return "integrated gradients of p(target) from the baseline embedding, summed over the embedding; "
           "signed, the scores add up to p(x) - p(baseline) (completeness gap reported)";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    o.path.validate();
    EvalGuard eval(model);
    if (const auto lp = lstm_projection(model, o)) return ig_on_projections(model, *lp, batch, o);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const int64_t B = batch.size();
    const bool pair = batch.pair();
    const at::Tensor x_a = model->embed(batch.ids).detach();
    const at::Tensor x0_a = baseline_embeddings(model, batch.ids, batch.token_mask, o.path.baseline);
    at::Tensor x_b, x0_b;
    if (pair) {
      x_b = model->embed(batch.ids_b).detach();
      x0_b = baseline_embeddings(model, batch.ids_b, batch.token_mask_b, o.path.baseline);
    }
    const int64_t row_tokens = batch.ids.size(1) + (pair ? batch.ids_b.size(1) : 0);
    const int64_t chunk = data::copies_per_pass(o.chunk, o.max_tokens, B, row_tokens);
    const at::Tensor tg = targets_tensor(out.targets);
    at::Tensor sum_a = torch::zeros_like(x_a), sum_b = pair ? torch::zeros_like(x_b) : at::Tensor();
    for (int64_t s0 = 0; s0 < o.path.steps; s0 += chunk) {
      const int64_t c = std::min(chunk, o.path.steps - s0);
      const at::Tensor index = torch::arange(B, torch::kInt64).repeat({c});  // step-major copies
      const data::Batch rep = c == 1 ? batch : data::select_rows(batch, index);
      const at::Tensor alpha = path_alphas(s0, c, o.path.steps, B, x_a.options());
      auto path = [&](const at::Tensor& x, const at::Tensor& x0) {
        const at::Tensor xr = x.repeat({c, 1, 1}), x0r = x0.repeat({c, 1, 1});
        return x0r + alpha * (xr - x0r);
      };
      const auto g = embedding_gradients(model, rep, path(x_a, x0_a), pair ? path(x_b, x0_b) : at::Tensor(),
                                         tg.repeat({c}), o.forward());
      sum_a += g.grad_a.view({c, B, x_a.size(1), x_a.size(2)}).sum(0);
      if (pair) sum_b += g.grad_b.view({c, B, x_b.size(1), x_b.size(2)}).sum(0);
    }
    out.scores = token_dot(sum_a / static_cast<double>(o.path.steps), x_a - x0_a, batch.token_mask);
    if (pair) out.scores_b = token_dot(sum_b / static_cast<double>(o.path.steps), x_b - x0_b, batch.token_mask_b);
    // Completeness: F(x) - F(baseline).
    torch::NoGradGuard no_grad;
    const at::Tensor fx = target_probability(model->forward_from_embeddings(x_a, batch, o.forward(), x_b).logits, tg);
    const at::Tensor f0 = target_probability(model->forward_from_embeddings(x0_a, batch, o.forward(), x0_b).logits, tg);
    fill_details(out, o, fx, f0);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_ig_explainer() { return std::make_unique<IntegratedGradients>(); }

}  // namespace lumen::explain
