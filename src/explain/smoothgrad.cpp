// SmoothGrad (Smilkov et al. 2017) applied to gradient x input: the gradient of the target
// probability is averaged over `smoothgrad.samples` copies of the input with Gaussian noise added
// to the real tokens' embeddings (standard deviation `noise_level` times the standard deviation of
// the embedding matrix), then dotted with the clean embedding. Noise is drawn per instance from
// a seed derived from its tokens, so an instance gets the same scores alone and in a batch.
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "data/batch_plan.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

// Noise [samples, T, E] for one row: drawn in the order (sample, real token, dimension), so it
// does not depend on the padded length; 0 outside the real tokens.
at::Tensor row_noise(uint64_t seed, int64_t samples, const at::Tensor& token_mask_row, int64_t e, double sd,
                     const at::TensorOptions& opt) {
  Rng rng(seed);
  const int64_t t = token_mask_row.size(0);
  const at::Tensor m = token_mask_row.contiguous();
  at::Tensor n = torch::zeros({samples, t, e}, torch::kDouble);
  double* p = n.data_ptr<double>();
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t k = 0; k < t; ++k)
      if (m.data_ptr<bool>()[k])
        for (int64_t d = 0; d < e; ++d) p[(s * t + k) * e + d] = sd * rng.normal();
  return n.to(opt);
}

class SmoothGrad : public Explainer {
 public:
  std::string name() const override { return "smoothgrad"; }
  std::string description() const override {
    return "SmoothGrad of gradient x input: mean gradient of p(target) over noisy embeddings, dotted with the "
           "embedding; signed";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    o.smoothgrad.validate();
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const int64_t B = batch.size(), S = o.smoothgrad.samples;
    const bool pair = batch.pair();
    const at::Tensor x_a = model->embed(batch.ids).detach();
    const at::Tensor x_b = pair ? model->embed(batch.ids_b).detach() : at::Tensor();
    const double sd = o.smoothgrad.noise_level * model->embedding->weight.detach().to(torch::kDouble).std().item<double>();
    const auto ids_a = real_ids(batch.ids, batch.token_mask);
    const auto ids_b = pair ? real_ids(batch.ids_b, batch.token_mask_b) : std::vector<std::vector<int64_t>>(B);
    // Noise [S, B, T, E] on the real tokens only, per row from the row's own seed.
    auto noise_for = [&](const at::Tensor& x, const at::Tensor& mask, uint64_t salt) {
      std::vector<at::Tensor> rows;
      for (int64_t r = 0; r < B; ++r)
        rows.push_back(row_noise(row_seed(o.seed + salt, ids_a[r], ids_b[r]), S, mask[r], x.size(2), sd, x.options()));
      return torch::stack(rows, 1);
    };
    const at::Tensor noise_a = noise_for(x_a, batch.token_mask, 0);
    const at::Tensor noise_b = pair ? noise_for(x_b, batch.token_mask_b, 1) : at::Tensor();
    const int64_t row_tokens = batch.ids.size(1) + (pair ? batch.ids_b.size(1) : 0);
    const int64_t chunk = data::copies_per_pass(o.chunk, o.max_tokens, B, row_tokens);
    const at::Tensor tg = targets_tensor(out.targets);
    at::Tensor sum_a = torch::zeros_like(x_a), sum_b = pair ? torch::zeros_like(x_b) : at::Tensor();
    for (int64_t s0 = 0; s0 < S; s0 += chunk) {
      const int64_t c = std::min(chunk, S - s0);
      const data::Batch rep = c == 1 ? batch : data::select_rows(batch, torch::arange(B, torch::kInt64).repeat({c}));
      auto noisy = [&](const at::Tensor& x, const at::Tensor& noise) {
        return (x.unsqueeze(0) + noise.narrow(0, s0, c)).reshape({c * B, x.size(1), x.size(2)});
      };
      const auto g = embedding_gradients(model, rep, noisy(x_a, noise_a), pair ? noisy(x_b, noise_b) : at::Tensor(),
                                         tg.repeat({c}), o.forward());
      sum_a += g.grad_a.view({c, B, x_a.size(1), x_a.size(2)}).sum(0);
      if (pair) sum_b += g.grad_b.view({c, B, x_b.size(1), x_b.size(2)}).sum(0);
    }
    out.scores = token_dot(sum_a / static_cast<double>(S), x_a, batch.token_mask);
    if (pair) out.scores_b = token_dot(sum_b / static_cast<double>(S), x_b, batch.token_mask_b);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_smoothgrad_explainer() { return std::make_unique<SmoothGrad>(); }

}  // namespace lumen::explain
