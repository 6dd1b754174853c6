// TracIn (Pruthi et al. 2020), TracInCP: over the run's saved checkpoints w_k (epoch ends) with
// learning rate eta_k,
//   TracIn(z_i, z_test) = sum_k eta_k grad l(w_k, z_i) . grad l(w_k, z_test)
// (> 0: a proponent, its steps lowered the test loss), self-influence sum_k eta_k |grad l(w_k, z_i)|^2.
// `--params last` is the fast last-layer variant (closed-form gradients on each checkpoint's
// features); `--projection K` projects every gradient with one seeded CountSketch (each
// coordinate to one of K buckets with a random sign), so test gradients of many points stay
// small and the dot products are preserved in expectation. The training set is streamed in
// chunks: memory is flat in its size. Each checkpoint is loaded into its own model, so the
// gradients of one never mix with another's (dattri #97). Selections beyond the decoder take the
// batched per-example gradients (PerExampleGradients::batched) with the embedding kept sparse.
// Each checkpoint's contribution is saved as a unit of partial results when a store is given.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/error.h"
#include "core/rng.h"
#include "influence/methods.h"

namespace lumen::influence {

namespace {

struct CountSketch {
  at::Tensor bucket, sign;  // [P] int64, [P] float64
  int64_t k = 0;
  CountSketch(int64_t P, int64_t dims, uint64_t seed) : k(dims) {
    Rng rng(seed ^ 0xC0057CULL);
    std::vector<int64_t> b(P);
    std::vector<double> s(P);
    for (int64_t i = 0; i < P; ++i) {
      b[i] = static_cast<int64_t>(rng.uniform() * dims) % dims;
      s[i] = rng.uniform() < 0.5 ? -1.0 : 1.0;
    }
    bucket = torch::tensor(b, torch::kLong);
    sign = torch::tensor(s, torch::kDouble);
  }
  at::Tensor apply(const GradientParts& g) const {  // [B, P] -> [B, k]
    const int64_t D = g.dense.size(1), E = g.embedding_dim;
    at::Tensor out = torch::zeros({g.rows(), k}, torch::kDouble);
    out.index_add_(1, bucket.narrow(0, 0, D), g.dense * sign.narrow(0, 0, D).unsqueeze(0));
    for (int64_t b = 0; E > 0 && b < g.rows(); ++b) {  // the embedding's rows at D + token * E + e
      const at::Tensor at = (D + g.tokens[b].unsqueeze(1) * E + torch::arange(E, torch::kLong).unsqueeze(0)).flatten();
      out.select(0, b).index_add_(0, bucket.index_select(0, at), g.values[b].flatten() * sign.index_select(0, at));
    }
    return out;
  }
};

}  // namespace

void run_tracin(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  std::vector<models::CheckpointInfo> use;
  for (const auto& c : in.checkpoints)
    if (o.checkpoints.empty() || std::find(o.checkpoints.begin(), o.checkpoints.end(), c.epoch) != o.checkpoints.end())
      use.push_back(c);
  if (in.checkpoints.empty())
    throw ModelError("influence: tracin needs the run's epoch checkpoints (checkpoints/epoch-NNN.pt) and this run kept none; "
                     "train it again without --no-checkpoints");
  if (use.empty()) throw InvalidArgument("influence: none of the asked --checkpoints epochs was saved with the run");
  const int64_t n = in.train->size(), nt = in.test->size();
  r.scores = torch::zeros({nt, n}, torch::kDouble);
  std::vector<double> self(o.self_influence ? n : 0, 0.0);
  Json used = Json::array();
  const auto t0 = std::chrono::steady_clock::now();
  int64_t step = 0;
  for (const auto& c : use) {
    // A finished checkpoint's contribution is a unit of partial results (--resume).
    const Json unit{{"method", "tracin"}, {"epoch", c.epoch}, {"lr", c.lr}, {"path", c.path}};
    if (auto done = in.partial.load(unit)) {
      r.scores += done->tensors.at(0);
      if (o.self_influence) {
        const at::Tensor sq = done->tensors.at(1);
        for (int64_t i = 0; i < n; ++i) self[i] += sq[i].item<double>();
      }
      if (r.parameters.is_null()) r.parameters = done->info;
      step += n;
      in.report("checkpoint gradients", step, n * static_cast<int64_t>(use.size()));
      used.push_back({{"epoch", c.epoch}, {"lr", c.lr}});
      continue;
    }
    at::Tensor part_scores = torch::zeros({nt, n}, torch::kDouble), part_self = torch::zeros({o.self_influence ? n : 0}, torch::kDouble);
    models::TextClassifier model(in.config);
    models::load_weights(model, c.path);
    model->to(in.model->parameters()[0].scalar_type());
    ParameterSelection sel = select_parameters(model, o.params);
    if (r.parameters.is_null()) r.parameters = sel.to_json();
    std::unique_ptr<CountSketch> sketch;
    if (o.projection > 0) sketch = std::make_unique<CountSketch>(sel.count, o.projection, o.seed);
    PerExampleGradients train_grads(model, in.loss, sel);
    PerExampleGradients test_grads(model, test_loss(in.loss), sel);
    if (r.diagnostics.find("batched") == r.diagnostics.end()) r.diagnostics["batched"] = train_grads.batched();
    GradientParts gt;
    at::Tensor gt_sketch;
    if (nt > 0) {
      gt = test_grads.compute_parts(*in.test, all_rows(nt), in.test_labels);
      if (sketch) gt_sketch = sketch->apply(gt);
    }
    const double eta = c.lr;
    if (nt == 0 && o.self_influence && train_grads.batched()) {  // self-influence alone: norms, not the gradients
      const int64_t chunk = 1024;
      for (int64_t b = 0; b < n; b += chunk) {
        std::vector<int64_t> rows;
        for (int64_t i = b; i < std::min(n, b + chunk); ++i) rows.push_back(i);
        part_self.index_add_(0, torch::tensor(rows, torch::kLong), eta * train_grads.squared_norms(*in.train, rows));
        step += static_cast<int64_t>(rows.size());
        in.report("checkpoint gradients", step, n * static_cast<int64_t>(use.size()));
      }
    } else {
      train_grads.for_each_parts(
        *in.train, {},
        [&](const std::vector<int64_t>& rows, const GradientParts& g) {
          const at::Tensor idx = torch::tensor(rows, torch::kLong);
          if (nt > 0) part_scores.index_add_(1, idx, eta * (sketch ? torch::mm(gt_sketch, sketch->apply(g).t()) : gt.dot(g)));
          // Self-influence from the unprojected gradients: exact whatever the projection.
          if (o.self_influence) part_self.index_add_(0, idx, eta * g.squared_norms());
          step += static_cast<int64_t>(rows.size());
          in.report("checkpoint gradients", step, n * static_cast<int64_t>(use.size()));
        },
        {}, o.memory_bytes);
    }
    in.partial.save(unit, {part_scores, part_self}, sel.to_json());
    r.scores += part_scores;
    for (int64_t i = 0; o.self_influence && i < n; ++i) self[i] += part_self[i].item<double>();
    used.push_back({{"epoch", c.epoch}, {"lr", c.lr}});
  }
  r.self_influence = std::move(self);
  r.diagnostics["checkpoints"] = used;
  r.diagnostics["projection"] = o.projection;
  if (in.partial.enabled()) r.diagnostics["resumed_units"] = in.partial.reused();
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
