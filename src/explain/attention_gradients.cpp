#include "explain/attention_gradients.h"

#include <torch/torch.h>

#include "core/error.h"
#include "explain/common.h"

namespace lumen::explain {

std::vector<int64_t> covered_layers(models::TextClassifier& model, const ExplainOptions& o) {
  const int64_t self = model->self_attention_layers();
  if (o.attention.layer >= 0) {
    if (o.attention.layer >= self)
      throw InvalidArgument("explain: layer must be < " + std::to_string(self) + " (self-attention layers), got " +
                            std::to_string(o.attention.layer));
    return {o.attention.layer};
  }
  std::vector<int64_t> out;
  for (int64_t l = 0; l < self; ++l) out.push_back(l);
  if (model->has_pooling_attention()) out.push_back(-1);
  if (out.empty()) throw InvalidArgument("explain: this model has no attention");
  return out;
}

at::Tensor layer_token_scores(const at::Tensor& relevance, const data::Batch& batch, int64_t head) {
  const at::Tensor tm = batch.token_mask.to(torch::kDouble);
  at::Tensor r = relevance.to(torch::kDouble);
  if (r.dim() == 2) return (r * tm).contiguous();
  if (head >= r.size(1))
    throw InvalidArgument("explain: head must be < " + std::to_string(r.size(1)) + ", got " + std::to_string(head));
  r = head < 0 ? r.mean(1) : r.select(1, head);  // [B, T, T]
  const at::Tensor q = batch.mask.to(torch::kDouble).unsqueeze(2);
  return ((r * q).sum(1) * tm).contiguous();
}

std::vector<Json> layer_details(const std::vector<int64_t>& layers, const std::vector<at::Tensor>& scores,
                                const data::Batch& batch) {
  std::vector<Json> out;
  for (int64_t b = 0; b < batch.size(); ++b) {
    Json arr = Json::array();
    for (size_t l = 0; l < layers.size(); ++l) {
      std::vector<double> v;
      const at::Tensor s = scores[l][b].contiguous();
      const at::Tensor m = batch.token_mask[b].contiguous();
      for (int64_t t = 0; t < s.size(0); ++t)
        if (m.data_ptr<bool>()[t]) v.push_back(s.data_ptr<double>()[t]);
      arr.push_back({{"layer", layers[l] < 0 ? Json("pooling") : Json(layers[l])}, {"scores", v}});
    }
    out.push_back({{"layers", arr}});
  }
  return out;
}

}  // namespace lumen::explain
