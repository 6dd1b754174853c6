#include "explain/common.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "data/batch_plan.h"
#include "data/vocab.h"

namespace lumen::explain {

at::Tensor targets_tensor(const std::vector<int64_t>& targets) { return torch::tensor(targets, torch::kInt64); }

std::vector<int64_t> resolve_targets(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o) {
  const int64_t classes = model->config().num_classes;
  if (!o.targets.empty()) {
    if (static_cast<int64_t>(o.targets.size()) != batch.size())
      throw InvalidArgument("explain: targets must give one class per row, got " + std::to_string(o.targets.size()) +
                            " for " + std::to_string(batch.size()) + " rows");
    for (int64_t t : o.targets)
      if (t < 0 || t >= classes)
        throw InvalidArgument("explain: target class must be in [0, " + std::to_string(classes) + "), got " +
                              std::to_string(t));
    return o.targets;
  }
  torch::NoGradGuard no_grad;
  const at::Tensor pred = model->forward(batch, o.forward()).logits.argmax(1).contiguous();
  return std::vector<int64_t>(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + pred.numel());
}

at::Tensor target_probability(const at::Tensor& logits, const at::Tensor& targets) {
  return torch::softmax(logits, 1).gather(1, targets.view({-1, 1})).squeeze(1);
}

EmbeddingGradients embedding_gradients(models::TextClassifier& model, const data::Batch& batch, const at::Tensor& emb_a,
                                       const at::Tensor& emb_b, const at::Tensor& targets,
                                       const models::ForwardOptions& options) {
  torch::AutoGradMode grad_mode(true);
  at::Tensor a = emb_a.detach().requires_grad_(true);
  at::Tensor b = emb_b.defined() ? emb_b.detach().requires_grad_(true) : at::Tensor();
  at::Tensor prob = target_probability(model->forward_from_embeddings(a, batch, options, b).logits, targets);
  std::vector<at::Tensor> inputs = {a};
  if (b.defined()) inputs.push_back(b);
  auto grads = torch::autograd::grad({prob.sum()}, inputs, {}, false, false, true);
  EmbeddingGradients out;
  out.prob = prob.detach();
  out.grad_a = grads[0].defined() ? grads[0] : torch::zeros_like(a);
  if (b.defined()) out.grad_b = grads[1].defined() ? grads[1] : torch::zeros_like(b);
  return out;
}

at::Tensor baseline_embeddings(models::TextClassifier& model, const at::Tensor& ids, const at::Tensor& token_mask,
                               Baseline baseline) {
  at::Tensor emb = model->embed(ids).detach();
  at::Tensor repl;
  switch (baseline) {
    case Baseline::kZero: repl = torch::zeros_like(emb); break;
    case Baseline::kPad: repl = model->embed(torch::full_like(ids, data::Vocab::kPad)).detach(); break;
    case Baseline::kUnk: repl = model->embed(torch::full_like(ids, data::Vocab::kUnk)).detach(); break;
  }
  return torch::where(token_mask.unsqueeze(2), repl, emb);
}

std::vector<std::vector<int64_t>> real_ids(const at::Tensor& ids, const at::Tensor& token_mask) {
  const at::Tensor id = ids.contiguous();
  const at::Tensor m = token_mask.contiguous();
  std::vector<std::vector<int64_t>> out(id.size(0));
  for (int64_t r = 0; r < id.size(0); ++r) {
    const int64_t* ip = id[r].data_ptr<int64_t>();
    const bool* mp = m[r].data_ptr<bool>();
    for (int64_t t = 0; t < id.size(1); ++t)
      if (mp[t]) out[r].push_back(ip[t]);
  }
  return out;
}

std::vector<double> variant_probabilities(models::TextClassifier& model, const std::vector<Text>& originals,
                                          const std::vector<Variant>& variants, const std::vector<int64_t>& targets,
                                          const ExplainOptions& options) {
  perturb::EvaluatorOptions eo;
  eo.max_tokens = std::max<int64_t>(options.max_tokens, 1);
  eo.reuse = options.fast;
  eo.attention_edit = options.attention_edit;
  return perturb::target_probabilities(model, originals, variants, targets, eo);
}

std::vector<Text> batch_texts(const data::Batch& batch) {
  const auto a = real_ids(batch.ids, batch.token_mask);
  const auto b = batch.pair() ? real_ids(batch.ids_b, batch.token_mask_b) : std::vector<std::vector<int64_t>>(a.size());
  std::vector<Text> out(a.size());
  for (size_t r = 0; r < a.size(); ++r) out[r] = {a[r], b[r]};
  return out;
}

std::vector<int64_t> remove_tokens(const std::vector<int64_t>& ids, const std::vector<char>& removed, Removal r) {
  std::vector<int64_t> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!removed[i]) {
      out.push_back(ids[i]);
    } else if (r == Removal::kPad) {
      out.push_back(data::Vocab::kPad);
    } else if (r == Removal::kUnk) {
      out.push_back(data::Vocab::kUnk);
    }
  }
  return out;
}

at::Tensor scatter_rows(const std::vector<std::vector<double>>& rows, const at::Tensor& token_mask) {
  at::Tensor out = torch::zeros(token_mask.sizes(), torch::kDouble);
  const at::Tensor m = token_mask.contiguous();
  for (int64_t r = 0; r < m.size(0); ++r) {
    double* op = out[r].data_ptr<double>();
    const bool* mp = m[r].data_ptr<bool>();
    size_t k = 0;
    for (int64_t t = 0; t < m.size(1); ++t)
      if (mp[t]) {
        if (k >= rows[r].size()) throw InvalidArgument("explain: fewer scores than tokens in a row");
        op[t] = rows[r][k++];
      }
  }
  return out;
}

at::Tensor token_dot(const at::Tensor& x, const at::Tensor& y, const at::Tensor& token_mask) {
  return ((x.to(torch::kDouble) * y.to(torch::kDouble)).sum(2) * token_mask.to(torch::kDouble)).contiguous();
}

AttentionMaps attention_maps(models::TextClassifier& model, const data::Batch& batch,
                             const models::ForwardOptions& options) {
  EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  models::ModelOutput out = model->forward(batch, options);
  AttentionMaps maps;
  const size_t self_layers = out.pooling_attention.defined() ? out.attentions.size() - 1 : out.attentions.size();
  for (size_t l = 0; l < self_layers; ++l) maps.layers.push_back(out.attentions[l].to(torch::kDouble));
  if (out.pooling_attention.defined()) maps.pooling = out.pooling_attention.to(torch::kDouble);
  return maps;
}

std::vector<at::Tensor> row_layers(const AttentionMaps& maps, int64_t r, int64_t n, int64_t head) {
  std::vector<at::Tensor> layers;
  for (const auto& l : maps.layers) {
    if (head >= l.size(1))
      throw InvalidArgument("explain: head must be < " + std::to_string(l.size(1)) + ", got " + std::to_string(head));
    layers.push_back((head < 0 ? l[r].mean(0) : l[r][head]).narrow(0, 0, n).narrow(1, 0, n).contiguous());
  }
  return layers;
}

at::Tensor row_output(const AttentionMaps& maps, int64_t r, int64_t n) {
  if (maps.pooling.defined()) return maps.pooling[r].narrow(0, 0, n).contiguous();
  at::Tensor top = torch::zeros({n}, torch::kDouble);
  top[0] = 1.0;
  return top;
}

InputGradients input_gradients(models::TextClassifier& model, const data::Batch& batch,
                               const std::vector<int64_t>& targets, const models::ForwardOptions& options) {
  InputGradients g;
  g.emb_a = model->embed(batch.ids).detach();
  if (batch.pair()) g.emb_b = model->embed(batch.ids_b).detach();
  g.grads = embedding_gradients(model, batch, g.emb_a, g.emb_b, targets_tensor(targets), options);
  return g;
}

}  // namespace lumen::explain
