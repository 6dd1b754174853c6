#include "models/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "models/parallel_linear.h"

namespace lumen::models {

at::Tensor received_attention(const at::Tensor& a, const data::Batch& batch, int64_t head) {
  if (a.dim() != 4) throw InvalidArgument("attention: a self-attention map must be [B, H, T, T]");
  if (head >= a.size(1))
    throw InvalidArgument("attention: head must be < " + std::to_string(a.size(1)) + ", got " + std::to_string(head));
  const at::Tensor one = head < 0 ? a.mean(1) : a.select(1, head);    // [B, T, T]
  const at::Tensor queries = batch.mask.to(a.scalar_type()).unsqueeze(2);  // [B, T, 1]
  const at::Tensor received = (one * queries).sum(1) / queries.sum(1).clamp_min(1);
  return received * batch.token_mask.to(a.scalar_type());
}

TokenAttentionImpl::TokenAttentionImpl(const std::string& kind, int64_t dim, bool pair)
    : kind_(kind), dim_(dim), pair_(pair) {
  if (kind == "additive") {
    w_ = register_module("w", torch::nn::Linear(dim, dim / 2));
    if (pair) wq_ = register_module("wq", torch::nn::Linear(torch::nn::LinearOptions(dim, dim / 2).bias(false)));
    v_ = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(dim / 2, 1).bias(false)));
  } else if (kind == "dot" && !pair) {
    v_ = register_module("w", torch::nn::Linear(torch::nn::LinearOptions(dim, 1).bias(false)));
  }
}

at::Tensor TokenAttentionImpl::scores(const at::Tensor& states, const at::Tensor& query, const at::Tensor& mask) {
  if (kind_ == "uniform") return torch::zeros({states.size(0), states.size(1)}, states.options());
  if (kind_ == "additive") {
    at::Tensor pre = parallel_linear(states, w_->weight, w_->bias);  // [B, T, m/2]
    record_linear("w", states, pre, mask, true);
    if (pair_) {
      const at::Tensor q = wq_->forward(query);
      record_linear("wq", query, q, {}, false);
      pre = pre + q.unsqueeze(1);
    }
    const at::Tensor hidden = torch::tanh(pre), out = v_->forward(hidden);
    record_linear("v", hidden, out, mask, false);
    return out.squeeze(2);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim_));
  if (pair_) return torch::bmm(states, query.unsqueeze(2)).squeeze(2) * scale;
  const at::Tensor out = v_->forward(states);
  record_linear("w", states, out, mask, false);
  return out.squeeze(2) * scale;
}

std::vector<LinearLayer> TokenAttentionImpl::linear_layers() {
  std::vector<LinearLayer> out;
  if (kind_ == "additive") {
    out.push_back({"w", w_->weight, {w_->bias}, 0, w_->weight.size(0)});
    if (pair_) out.push_back({"wq", wq_->weight, {}, 0, wq_->weight.size(0)});
    out.push_back({"v", v_->weight, {}, 0, 1});
  } else if (kind_ == "dot" && !pair_) {
    out.push_back({"w", v_->weight, {}, 0, 1});
  }
  return out;
}

at::Tensor TokenAttentionImpl::normalize(const at::Tensor& scores, const at::Tensor& token_mask, bool mask_padding) {
  if (!mask_padding) return torch::softmax(scores, 1);
  return torch::softmax(scores.masked_fill(token_mask.logical_not(), -INFINITY), 1);
}

}  // namespace lumen::models
