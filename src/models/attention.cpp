#include "models/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "models/parallel_linear.h"

namespace lumen::models {

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

at::Tensor TokenAttentionImpl::scores(const at::Tensor& states, const at::Tensor& query) {
  if (kind_ == "uniform") return torch::zeros({states.size(0), states.size(1)}, states.options());
  if (kind_ == "additive") {
    at::Tensor pre = parallel_linear(states, w_->weight, w_->bias);  // [B, T, m/2]
    if (pair_) pre = pre + wq_->forward(query).unsqueeze(1);
    return v_->forward(torch::tanh(pre)).squeeze(2);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim_));
  if (pair_) return torch::bmm(states, query.unsqueeze(2)).squeeze(2) * scale;
  return v_->forward(states).squeeze(2) * scale;
}

at::Tensor TokenAttentionImpl::normalize(const at::Tensor& scores, const at::Tensor& token_mask, bool mask_padding) {
  if (!mask_padding) return torch::softmax(scores, 1);
  return torch::softmax(scores.masked_fill(token_mask.logical_not(), -INFINITY), 1);
}

}  // namespace lumen::models
