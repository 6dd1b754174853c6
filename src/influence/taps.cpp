#include "influence/taps.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/parallel.h"
#include "models/eval_guard.h"

namespace lumen::influence {

BatchTaps forward_taps(models::TextClassifier& model, const data::Batch& batch, bool embedding_leaves,
                       models::TapRecorder::Mode mode) {
  models::EvalGuard eval(model);
  torch::AutoGradMode grad_mode(true);
  BatchTaps out;
  models::TapRecorder recorder(mode);
  if (embedding_leaves) {
    {
      torch::NoGradGuard no_grad;
      out.embeddings = model->embed(batch.ids);
      if (model->config().pair) out.embeddings_b = model->embed(batch.ids_b);
    }
    out.embeddings.requires_grad_(true);
    if (out.embeddings_b.defined()) out.embeddings_b.requires_grad_(true);
    out.logits = model->forward_from_embeddings(out.embeddings, batch, {}, out.embeddings_b).logits;
  } else {
    out.logits = model->forward(batch).logits;
  }
  out.taps = std::move(recorder.taps);
  return out;
}

std::vector<at::Tensor> output_gradients(const at::Tensor& objective, const std::vector<models::LinearTap>& taps,
                                         const std::vector<int>& chosen, bool retain, const std::vector<at::Tensor>& extra,
                                         std::vector<at::Tensor>* extra_grads) {
  std::vector<at::Tensor> unique;
  std::vector<size_t> slot(taps.size(), 0);
  for (int k : chosen) {
    size_t j = 0;
    while (j < unique.size() && !unique[j].is_same(taps[k].output)) ++j;
    if (j == unique.size()) unique.push_back(taps[k].output);
    slot[k] = j;
  }
  const size_t n_taps = unique.size();
  for (const auto& e : extra) unique.push_back(e);
  std::vector<at::Tensor> out(taps.size());
  if (unique.empty()) return out;
  auto g = torch::autograd::grad({objective}, unique, {}, retain, false, /*allow_unused=*/true);
  for (int k : chosen) {
    at::Tensor s = g[slot[k]].defined() ? g[slot[k]] : torch::zeros_like(taps[k].output);
    s = s.reshape({taps[k].input.size(0), taps[k].input.size(1), -1});
    out[k] = s * taps[k].valid.to(s.scalar_type()).unsqueeze(2);
  }
  if (extra_grads) {
    extra_grads->clear();
    for (size_t i = 0; i < extra.size(); ++i)
      extra_grads->push_back(g[n_taps + i].defined() ? g[n_taps + i] : torch::zeros_like(extra[i]));
  }
  return out;
}

at::Tensor augmented_input(const models::LinearTap& t, at::ScalarType dtype) {
  at::Tensor a = t.input.to(dtype);
  if (t.bias) a = torch::cat({a, torch::ones({a.size(0), a.size(1), 1}, a.options())}, 2);
  return a * t.valid.to(dtype).unsqueeze(2);
}

at::Tensor example_gradient(const std::vector<models::LinearTap>& taps, const std::vector<at::Tensor>& s,
                            const std::vector<int>& idx, const at::Tensor& qa, const at::Tensor& qs) {
  // The map's rows over all its taps side by side: one product per map, not one per tap.
  if (idx.empty()) return {};
  const at::ScalarType dtype = s[idx[0]].scalar_type();
  std::vector<at::Tensor> as, ss;
  for (int k : idx) {
    as.push_back(augmented_input(taps[k], dtype));
    ss.push_back(s[k].to(dtype));
  }
  at::Tensor a = as.size() == 1 ? as[0] : torch::cat(as, 1), sk = ss.size() == 1 ? ss[0] : torch::cat(ss, 1);
  if (qa.defined()) {
    a = torch::matmul(a, qa.to(dtype));
    sk = torch::matmul(sk, qs.to(dtype));
  }
  return torch::bmm(sk.transpose(1, 2), a).to(at::kDouble);
}

int round_robin_workers() { return in_parallel_region() ? 1 : cores(); }

void round_robin(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  const int64_t W = round_robin_workers();
  parallel_chunks(W, 1, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w)
      for (int64_t i = w; i < n; i += W) f(w, i);
  });
}

std::vector<std::vector<int>> taps_by_layer(const std::vector<models::LinearTap>& taps, const std::vector<std::string>& layers) {
  std::vector<std::vector<int>> by(layers.size());
  for (size_t k = 0; k < taps.size(); ++k) {
    auto it = std::find(layers.begin(), layers.end(), taps[k].layer);
    if (it != layers.end()) by[it - layers.begin()].push_back(static_cast<int>(k));
  }
  return by;
}

}  // namespace lumen::influence
