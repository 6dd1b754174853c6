// Raw attention as an explanation. Layer -1: the pooling attention over tokens (Jain & Wallace's
// object of study); a model pooled at <s> gives the last self-attention layer's <s> row. Layer
// k >= 0 of a Transformer: the attention each token receives in layer k
// (models::received_attention, the definition `lumen analyze --attention-layer` uses too).
// Non-negative; covers the first text only.
#include <torch/torch.h>

#include "core/error.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {

namespace {

// Map of one layer [B, H, T, T] reduced over heads (head < 0: mean) -> [B, T, T].
at::Tensor head_reduce(const at::Tensor& a, int64_t head) {
  if (head < 0) return a.mean(1);
  if (head >= a.size(1))
    throw InvalidArgument("attention: head must be < " + std::to_string(a.size(1)) + ", got " + std::to_string(head));
  return a.select(1, head);
}

class RawAttention : public Explainer {
 public:
  std::string name() const override { return "attention"; }
  std::string description() const override {
    return "attention weight of the token (pooling attention, or the mean attention received in a self-attention "
           "layer); >= 0";
  }
  bool needs_attention() const override { return true; }
  bool covers_second_text() const override { return false; }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const AttentionMaps maps = attention_maps(model, batch, o.forward());
    const at::Tensor tm = batch.token_mask.to(torch::kDouble);
    if (o.attention.layer < 0 && maps.pooling.defined()) {
      out.scores = (maps.pooling * tm).contiguous();
      return out;
    }
    if (maps.layers.empty()) throw InvalidArgument("attention: this model has no self-attention layers");
    const int64_t layer = o.attention.layer < 0 ? static_cast<int64_t>(maps.layers.size()) - 1 : o.attention.layer;
    if (layer >= static_cast<int64_t>(maps.layers.size()))
      throw InvalidArgument("attention: layer must be < " + std::to_string(maps.layers.size()) + ", got " +
                            std::to_string(layer));
    if (o.attention.layer >= 0) {
      out.scores = models::received_attention(maps.layers[layer], batch, o.attention.head).contiguous();
      return out;
    }
    // Pooled at <s>: the row the output reads.
    out.scores = (head_reduce(maps.layers[layer], o.attention.head).select(1, 0) * tm).contiguous();
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_attention_explainer() { return std::make_unique<RawAttention>(); }

}  // namespace lumen::explain
