// Integrated gradients (Sundararajan et al. 2017) over token embeddings: the path from a
// baseline embedding (PAD, zero or UNK at every real token; <s>, </s> and padding unchanged) to
// the input, midpoint Riemann sum. Steps are evaluated in chunks of interpolated copies of the
// batch, so memory stays flat in the step count; the completeness gap |sum of attributions -
// (F(x) - F(baseline))| / |F(x) - F(baseline)| is reported per instance. With
// PathOptions::tolerance > 0 each instance gets as many steps as its gap needs (adaptive_path).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

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

// |total - delta| / |delta| per row, float64 and contiguous: total [B] the sum of a row's
// attributions, delta [B] = F(x) - F(baseline).
at::Tensor completeness_gaps(const at::Tensor& total, const at::Tensor& delta) {
  const at::Tensor d = delta.to(torch::kDouble);
  return ((total.to(torch::kDouble) - d).abs() / d.abs().clamp_min(1e-12)).contiguous();
}

void fill_details(BatchAttribution& out, const ExplainOptions& o, const at::Tensor& fx, const at::Tensor& f0,
                  const std::vector<int64_t>& steps = {}) {
  const int64_t B = fx.size(0);
  at::Tensor total = out.scores.sum(1);
  if (out.scores_b.defined()) total = total + out.scores_b.sum(1);
  const at::Tensor gap = completeness_gaps(total, fx - f0);
  out.completeness_gap.assign(gap.data_ptr<double>(), gap.data_ptr<double>() + B);
  for (int64_t r = 0; r < B; ++r) {
    Json d = {{"baseline", to_string(o.path.baseline)},
              {"steps", steps.empty() ? o.path.steps : steps[r]},
              {"f_input", fx[r].item<double>()},
              {"f_baseline", f0[r].item<double>()}};
    if (!steps.empty()) {
      d["rule"] = "trapezoid";
      d["tolerance"] = o.path.tolerance;
    }
    out.details.push_back(std::move(d));
  }
}

// Gradients of the target probability at path points: row rows[i] of the batch at path
// coefficient alphas[i] -> the gradients at the first text's points [N, T, D] (and the second
// text's for pairs, else undefined).
using PathGradients = std::function<std::pair<at::Tensor, at::Tensor>(const at::Tensor& rows, const at::Tensor& alphas)>;

// x [N, T', D] with zeros appended to T positions.
at::Tensor pad_positions(const at::Tensor& x, int64_t T) {
  return x.size(1) == T ? x : torch::constant_pad_nd(x, {0, 0, 0, T - x.size(1)});
}

// The adaptive mode: per row, the trapezoid rule on n = 4 intervals of the path, n doubled
// (the new points are the midpoints, every earlier point is kept) while the row's completeness
// gap exceeds `tolerance` and 2n <= max_steps. `attribution_sum(mean_a, mean_b)` gives each
// row's sum of attributions [B] for mean path gradients; `delta` [B] is F(x) - F(baseline).
// Requests go through `grad` at most `per_pass` at a time. Returns the mean gradients and each
// row's interval count.
struct AdaptiveResult {
  at::Tensor mean_a, mean_b;
  std::vector<int64_t> steps;
};
AdaptiveResult adaptive_path(const PathGradients& grad, int64_t B, int64_t per_pass, const at::Tensor& delta,
                             const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& attribution_sum,
                             const PathOptions& path) {
  AdaptiveResult out;
  out.steps.assign(B, 4);
  at::Tensor acc_a, acc_b;
  // Evaluates (row, alpha, weight) requests and adds weight * gradient to the row's sums.
  auto evaluate = [&](const std::vector<int64_t>& rows, const std::vector<double>& alphas, const std::vector<double>& weights) {
    for (size_t i0 = 0; i0 < rows.size(); i0 += per_pass) {
      const size_t i1 = std::min(rows.size(), i0 + static_cast<size_t>(per_pass));
      const at::Tensor r = torch::tensor(std::vector<int64_t>(rows.begin() + i0, rows.begin() + i1), torch::kInt64);
      const at::Tensor a = torch::tensor(std::vector<double>(alphas.begin() + i0, alphas.begin() + i1), torch::kDouble);
      const at::Tensor w = torch::tensor(std::vector<double>(weights.begin() + i0, weights.begin() + i1), torch::kDouble);
      const auto [ga, gb] = grad(r, a);
      const at::Tensor wa = w.to(ga.scalar_type()).view({-1, 1, 1});
      if (!acc_a.defined()) acc_a = torch::zeros({B, ga.size(1), ga.size(2)}, ga.options());
      acc_a.index_add_(0, r, ga * wa);
      if (gb.defined()) {
        if (!acc_b.defined()) acc_b = torch::zeros({B, gb.size(1), gb.size(2)}, gb.options());
        acc_b.index_add_(0, r, gb * wa);
      }
    }
  };
  std::vector<int64_t> rows;
  std::vector<double> alphas, weights;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k <= 4; ++k) {
      rows.push_back(b);
      alphas.push_back(k / 4.0);
      weights.push_back(k == 0 || k == 4 ? 0.5 : 1.0);
    }
  evaluate(rows, alphas, weights);
  while (true) {
    const at::Tensor n = torch::tensor(out.steps, torch::kDouble).to(acc_a.scalar_type());
    out.mean_a = acc_a / n.view({-1, 1, 1});
    out.mean_b = acc_b.defined() ? acc_b / n.view({-1, 1, 1}) : at::Tensor();
    const at::Tensor gap = completeness_gaps(attribution_sum(out.mean_a, out.mean_b), delta);
    const double* gaps = gap.data_ptr<double>();
    rows.clear();
    alphas.clear();
    weights.clear();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t s = out.steps[b];
      if (gaps[b] <= path.tolerance || 2 * s > path.max_steps) continue;
      for (int64_t k = 0; k < s; ++k) {
        rows.push_back(b);
        alphas.push_back((2 * k + 1) / (2.0 * s));
        weights.push_back(1.0);
      }
      out.steps[b] = 2 * s;
    }
    if (rows.empty()) return out;
    evaluate(rows, alphas, weights);
  }
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
  if (o.path.tolerance > 0) {
    const at::Tensor fx = projection_probability(model, lp, batch, q + lp.bias, out.targets);
    const at::Tensor f0 = projection_probability(model, lp, batch, base, out.targets);
    const PathGradients grad = [&](const at::Tensor& rows, const at::Tensor& alphas) {
      const data::Batch rep = data::select_rows(batch, rows);
      const int64_t T = rep.ids.size(1);  // the selected rows' own padded length
      const at::Tensor a = alphas.to(q.scalar_type()).view({-1, 1, 1});
      const at::Tensor points = (base.index_select(0, rows) + a * diff.index_select(0, rows)).narrow(1, 0, T);
      std::vector<int64_t> tg;
      for (int64_t i = 0; i < rows.size(0); ++i) tg.push_back(out.targets[rows[i].item<int64_t>()]);
      return std::make_pair(pad_positions(projection_gradients(model, lp, rep, points, tg).grad, q.size(1)), at::Tensor());
    };
    const AdaptiveResult r = adaptive_path(grad, B, chunk * B, fx - f0,
                                           [&](const at::Tensor& mean, const at::Tensor&) {
                                             return token_dot(mean, diff, batch.token_mask).sum(1);
                                           },
                                           o.path);
    out.scores = token_dot(r.mean_a, diff, batch.token_mask);
    fill_details(out, o, fx, f0, r.steps);
    return out;
  }
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
    if (o.path.tolerance > 0) {
      at::Tensor fx, f0;
      {
        torch::NoGradGuard no_grad;
        fx = target_probability(model->forward_from_embeddings(x_a, batch, o.forward(), x_b).logits, tg);
        f0 = target_probability(model->forward_from_embeddings(x0_a, batch, o.forward(), x0_b).logits, tg);
      }
      const PathGradients grad = [&](const at::Tensor& rows, const at::Tensor& alphas) {
        const data::Batch rep = data::select_rows(batch, rows);  // padded to the selected rows' length
        const at::Tensor a = alphas.to(x_a.scalar_type()).view({-1, 1, 1});
        auto point = [&](const at::Tensor& x, const at::Tensor& x0, int64_t T) {
          const at::Tensor x0r = x0.index_select(0, rows);
          return (x0r + a * (x.index_select(0, rows) - x0r)).narrow(1, 0, T);
        };
        const auto g = embedding_gradients(model, rep, point(x_a, x0_a, rep.ids.size(1)),
                                           pair ? point(x_b, x0_b, rep.ids_b.size(1)) : at::Tensor(), tg.index_select(0, rows),
                                           o.forward());
        return std::make_pair(pad_positions(g.grad_a, x_a.size(1)), pair ? pad_positions(g.grad_b, x_b.size(1)) : at::Tensor());
      };
      const AdaptiveResult r = adaptive_path(grad, B, chunk * B, fx - f0,
                                             [&](const at::Tensor& mean_a, const at::Tensor& mean_b) {
                                               at::Tensor total = token_dot(mean_a, x_a - x0_a, batch.token_mask).sum(1);
                                               if (pair) total = total + token_dot(mean_b, x_b - x0_b, batch.token_mask_b).sum(1);
                                               return total;
                                             },
                                             o.path);
      out.scores = token_dot(r.mean_a, x_a - x0_a, batch.token_mask);
      if (pair) out.scores_b = token_dot(r.mean_b, x_b - x0_b, batch.token_mask_b);
      fill_details(out, o, fx, f0, r.steps);
      return out;
    }
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
