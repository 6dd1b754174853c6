// TracIn (Pruthi et al. 2020), TracInCP: over the run's saved checkpoints w_k (epoch ends) with
// learning rate eta_k,
//   TracIn(z_i, z_test) = sum_k eta_k grad l(w_k, z_i) . grad l(w_k, z_test)
// (> 0: a proponent, its steps lowered the test loss), self-influence sum_k eta_k |grad l(w_k, z_i)|^2.
// `--params last` is the fast last-layer variant (closed-form gradients on each checkpoint's
// features); `--projection K` projects every gradient with one seeded CountSketch (each
// coordinate to one of K buckets with a random sign), so test gradients of many points stay
// small and the dot products are preserved in expectation. The training set is streamed in
// chunks: memory is flat in its size. Each checkpoint is loaded into its own model, so the
// gradients of one never mix with another's (dattri #97).
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
  at::Tensor apply(const at::Tensor& g) const {  // [B, P] -> [B, k]
    at::Tensor out = torch::zeros({g.size(0), k}, torch::kDouble);
    out.index_add_(1, bucket, g * sign.unsqueeze(0));
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
    models::TextClassifier model(in.config);
    models::load_weights(model, c.path);
    model->to(in.model->parameters()[0].scalar_type());
    ParameterSelection sel = select_parameters(model, o.params);
    if (r.parameters.is_null()) r.parameters = sel.to_json();
    std::unique_ptr<CountSketch> sketch;
    if (o.projection > 0) sketch = std::make_unique<CountSketch>(sel.count, o.projection, o.seed);
    auto project = [&](const at::Tensor& g) { return sketch ? sketch->apply(g) : g; };
    PerExampleGradients train_grads(model, in.loss, sel);
    PerExampleGradients test_grads(model, test_loss(in.loss), sel);
    const at::Tensor gt = nt > 0 ? project(test_grads.compute(*in.test, all_rows(nt), in.test_labels)) : at::Tensor();
    const double eta = c.lr;
    train_grads.for_each_chunk(
        *in.train, {},
        [&](const std::vector<int64_t>& rows, const at::Tensor& g_full) {
          const at::Tensor g = project(g_full);
          const at::Tensor idx = torch::tensor(rows, torch::kLong);
          if (nt > 0) r.scores.index_add_(1, idx, eta * torch::mm(gt, g.t()));
          if (o.self_influence) {
            // Self-influence from the unprojected gradients: exact whatever the projection.
            const at::Tensor sq = (g_full * g_full).sum(1);
            for (size_t k = 0; k < rows.size(); ++k) self[rows[k]] += eta * sq[k].item<double>();
          }
          step += static_cast<int64_t>(rows.size());
          in.report("checkpoint gradients", step, n * static_cast<int64_t>(use.size()));
        },
        {}, o.memory_bytes);
    used.push_back({{"epoch", c.epoch}, {"lr", c.lr}});
  }
  r.self_influence = std::move(self);
  r.diagnostics["checkpoints"] = used;
  r.diagnostics["projection"] = o.projection;
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
