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
#include <tuple>
#include <utility>

#include "core/error.h"
#include "data/batch_plan.h"
#include "data/vocab.h"
#include "explain/common.h"
#include "explain/lstm_fast.h"
#include "explain/methods.h"
#include "models/lstm_path.h"

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

// x [N, T', D] with zeros appended to T positions.
at::Tensor pad_positions(const at::Tensor& x, int64_t T) {
  return x.size(1) == T ? x : torch::constant_pad_nd(x, {0, 0, 0, T - x.size(1)});
}

// The adaptive mode: per row, the trapezoid rule on n = 4 intervals of the path, n doubled
// (the new points are the midpoints, every earlier point is kept) while the row's completeness
// gap exceeds `tolerance` and 2n <= max_steps. `add(requests)` adds each request's weight times
// the attributions at its path point to the caller's accumulator; `totals(n)` gives each row's
// sum of attributions [B] with its accumulator divided by n [B] (float64); `delta` [B] is F(x) -
// F(baseline). Returns each row's interval count.
std::vector<int64_t> adaptive_path(int64_t B, const std::function<void(const models::LstmPathRequests&)>& add,
                                   const std::function<at::Tensor(const at::Tensor&)>& totals, const at::Tensor& delta,
                                   const PathOptions& path) {
  std::vector<int64_t> steps(B, 4);
  models::LstmPathRequests req;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k <= 4; ++k) req.add(b, k / 4.0, k == 0 || k == 4 ? 0.5 : 1.0);
  add(req);
  while (true) {
    const at::Tensor gap = completeness_gaps(totals(torch::tensor(steps, torch::kDouble)), delta);
    const double* gaps = gap.data_ptr<double>();
    req = {};
    for (int64_t b = 0; b < B; ++b) {
      const int64_t s = steps[b];
      if (gaps[b] <= path.tolerance || 2 * s > path.max_steps) continue;
      for (int64_t k = 0; k < s; ++k) req.add(b, (2 * k + 1) / (2.0 * s), 1.0);
      steps[b] = 2 * s;
    }
    if (req.size() == 0) return steps;
    add(req);
  }
}

// The BiLSTM projection path (lstm_fast.h, models/lstm_path.h): the path runs on input
// projections q0 + a (q - q0), and the attribution is the weighted sum over the path points of
// dP(a) . (q - q0), summed inside the kernel's backward pass.
BatchAttribution ig_on_projections(models::TextClassifier& model, const LstmProjection& lp, const data::Batch& batch,
                                   const ExplainOptions& o) {
  BatchAttribution out;
  out.targets = resolve_targets(model, batch, o);
  const int64_t B = batch.size(), T = batch.ids.size(1);
  const at::Tensor q = token_projections(model, lp, batch.ids);
  at::Tensor q0;
  if (o.path.baseline == Baseline::kZero) {
    q0 = q * batch.token_mask.logical_not().unsqueeze(2).to(q.scalar_type());
  } else {
    const int64_t id = o.path.baseline == Baseline::kPad ? data::Vocab::kPad : data::Vocab::kUnk;
    q0 = token_projections(model, lp, torch::where(batch.token_mask, torch::full_like(batch.ids, id), batch.ids));
  }
  const at::Tensor diff = q - q0, base = q0 + lp.bias;
  const int64_t per_pass = data::copies_per_pass(o.chunk, o.max_tokens, B, T) * B;
  const models::StateGradient grad = decoder_gradient(model, lp, batch, out.targets);
  const int64_t D = lp.w_hh.size(0) / (4 * lp.w_hh.size(1));
  const at::Tensor fx = projection_probability(model, lp, batch, q + lp.bias, out.targets);
  const at::Tensor f0 = projection_probability(model, lp, batch, base, out.targets);
  const at::Tensor mask = batch.token_mask.to(torch::kDouble);
  at::Tensor acc = torch::zeros({B, T}, torch::kDouble);
  auto add = [&](const models::LstmPathRequests& req) {
    models::lstm_path_scores(base, diff, batch.lengths, lp.w_hh, D, req, per_pass, grad, acc);
  };
  if (o.path.tolerance > 0) {
    const std::vector<int64_t> steps = adaptive_path(
        B, add, [&](const at::Tensor& n) { return (acc * mask).sum(1) / n; }, fx - f0, o.path);
    out.scores = (acc * mask / torch::tensor(steps, torch::kDouble).view({B, 1})).contiguous();
    fill_details(out, o, fx, f0, steps);
    return out;
  }
  models::LstmPathRequests req;  // step-major: each pass holds whole steps of the batch
  for (int64_t k = 0; k < o.path.steps; ++k)
    for (int64_t b = 0; b < B; ++b) req.add(b, (k + 0.5) / o.path.steps, 1.0 / o.path.steps);
  add(req);
  out.scores = (acc * mask).contiguous();
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
      at::Tensor acc_a = torch::zeros_like(x_a), acc_b = pair ? torch::zeros_like(x_b) : at::Tensor();
      // Requests in passes of chunk * B path points; each adds weight * gradient to its row.
      auto add = [&](const models::LstmPathRequests& req) {
        const size_t per_pass = static_cast<size_t>(chunk * B);
        for (size_t i0 = 0; i0 < req.size(); i0 += per_pass) {
          const size_t i1 = std::min(req.size(), i0 + per_pass);
          const at::Tensor rows = torch::tensor(std::vector<int64_t>(req.rows.begin() + i0, req.rows.begin() + i1), torch::kInt64);
          const at::Tensor a = torch::tensor(std::vector<double>(req.alphas.begin() + i0, req.alphas.begin() + i1), torch::kDouble)
                                   .to(x_a.scalar_type()).view({-1, 1, 1});
          const at::Tensor w = torch::tensor(std::vector<double>(req.weights.begin() + i0, req.weights.begin() + i1), torch::kDouble)
                                   .to(x_a.scalar_type()).view({-1, 1, 1});
          const data::Batch rep = data::select_rows(batch, rows);  // padded to the selected rows' length
          auto point = [&](const at::Tensor& x, const at::Tensor& x0, int64_t T) {
            const at::Tensor x0r = x0.index_select(0, rows);
            return (x0r + a * (x.index_select(0, rows) - x0r)).narrow(1, 0, T);
          };
          const auto g = embedding_gradients(model, rep, point(x_a, x0_a, rep.ids.size(1)),
                                             pair ? point(x_b, x0_b, rep.ids_b.size(1)) : at::Tensor(),
                                             tg.index_select(0, rows), o.forward());
          acc_a.index_add_(0, rows, pad_positions(g.grad_a, x_a.size(1)) * w);
          if (pair) acc_b.index_add_(0, rows, pad_positions(g.grad_b, x_b.size(1)) * w);
        }
      };
      // The attributions with each row's accumulated gradients divided by its step count n [B].
      auto attributions = [&](const at::Tensor& n) {
        const at::Tensor div = n.to(x_a.scalar_type()).view({-1, 1, 1});
        return std::make_pair(token_dot(acc_a / div, x_a - x0_a, batch.token_mask),
                              pair ? token_dot(acc_b / div, x_b - x0_b, batch.token_mask_b) : at::Tensor());
      };
      const std::vector<int64_t> steps = adaptive_path(
          B, add,
          [&](const at::Tensor& n) {
            const auto [a, b] = attributions(n);
            return pair ? a.sum(1) + b.sum(1) : a.sum(1);
          },
          fx - f0, o.path);
      std::tie(out.scores, out.scores_b) = attributions(torch::tensor(steps, torch::kDouble));
      fill_details(out, o, fx, f0, steps);
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
