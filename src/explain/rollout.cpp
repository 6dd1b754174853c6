// Attention rollout (Abnar & Zuidema 2020): each self-attention layer's head-averaged map is
// mixed with the identity for the residual connection, A^ = 0.5 A + 0.5 I (rows renormalised),
// and the layers are multiplied from the input up: R = A^_L ... A^_1. A token's score is the
// share of the output that flows back to it: the pooling attention (or the <s> row for models
// pooled at <s>) times R, read at the real tokens (the shares of <s> and </s> are not shown).
// Encoders without self-attention have R = I: rollout is then the pooling attention.
#include <torch/torch.h>

#include "core/error.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {

at::Tensor residual_adjusted(const at::Tensor& a) {
  const at::Tensor h = 0.5 * a.to(torch::kDouble) + 0.5 * torch::eye(a.size(0), torch::kDouble);
  return (h / h.sum(1, true)).contiguous();
}

at::Tensor rollout_matrix(const std::vector<at::Tensor>& layers) {
  if (layers.empty()) throw InvalidArgument("rollout: at least one layer is needed");
  const int64_t n = layers[0].size(0);
  at::Tensor R = torch::eye(n, torch::kDouble);
  for (const auto& a : layers) {
    if (a.dim() != 2 || a.size(0) != n || a.size(1) != n) throw InvalidArgument("rollout: layers must be [n, n]");
    R = residual_adjusted(a).mm(R);
  }
  return R;
}

namespace {

class Rollout : public Explainer {
 public:
  std::string name() const override { return "rollout"; }
  std::string description() const override {
    return "attention rollout: share of the pooled output traced back to the token through every layer (>= 0)";
  }
  bool needs_attention() const override { return true; }
  bool covers_second_text() const override { return false; }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const AttentionMaps maps = attention_maps(model, batch, o.forward());
    const int64_t B = batch.size(), T = batch.ids.size(1);
    out.scores = torch::zeros({B, T}, torch::kDouble);
    const at::Tensor lengths = batch.lengths.contiguous();
    for (int64_t r = 0; r < B; ++r) {
      const int64_t n = lengths[r].item<int64_t>();
      const at::Tensor top = row_output(maps, r, n);
      at::Tensor scores = top;
      if (!maps.layers.empty()) scores = top.unsqueeze(0).mm(rollout_matrix(row_layers(maps, r, n, o.attention.head))).squeeze(0);
      out.scores[r].narrow(0, 0, n).copy_(scores);
    }
    out.scores = (out.scores * batch.token_mask.to(torch::kDouble)).contiguous();
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_rollout_explainer() { return std::make_unique<Rollout>(); }

}  // namespace lumen::explain
