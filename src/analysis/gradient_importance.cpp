#include "analysis/gradient_importance.h"

#include <torch/torch.h>

namespace lumen::analysis {

std::vector<std::vector<double>> per_token(const at::Tensor& x, const at::Tensor& token_mask) {
  const at::Tensor v = x.detach().to(torch::kDouble).contiguous();
  const at::Tensor m = token_mask.contiguous();
  std::vector<std::vector<double>> out(v.size(0));
  for (int64_t b = 0; b < v.size(0); ++b) {
    const double* row = v[b].data_ptr<double>();
    const bool* mrow = m[b].data_ptr<bool>();
    for (int64_t t = 0; t < v.size(1); ++t)
      if (mrow[t]) out[b].push_back(row[t]);
  }
  return out;
}

GradientPass gradient_importance(models::TextClassifier& model, const data::Batch& batch) {
  torch::AutoGradMode grad_mode(true);
  models::ForwardOptions options;
  options.detach_attention = true;
  at::Tensor emb = model->embed(batch.ids).detach().requires_grad_(true);
  models::Encoded enc = model->encode(emb, batch, options);
  models::ModelOutput out = model->decode(enc, batch, options);
  at::Tensor probs = torch::softmax(out.logits, 1);
  at::Tensor target = probs.gather(1, probs.argmax(1, true)).sum();
  at::Tensor g = torch::autograd::grad({target}, {emb})[0];
  GradientPass pass;
  pass.importance = per_token((g * emb).sum(2).abs(), batch.token_mask);
  pass.encoded.states = enc.states.detach();
  if (enc.query.defined()) pass.encoded.query = enc.query.detach();
  pass.encoded.embeddings = emb.detach();
  if (enc.embeddings_b.defined()) pass.encoded.embeddings_b = enc.embeddings_b.detach();
  for (auto& a : enc.self_attentions) pass.encoded.self_attentions.push_back(a.detach());
  return pass;
}

}  // namespace lumen::analysis
