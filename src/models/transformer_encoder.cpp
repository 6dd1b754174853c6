#include <torch/torch.h>

#include <cmath>

#include "models/encoders.h"
#include "models/parallel_linear.h"

namespace lumen::models {
namespace {
at::Tensor linear(torch::nn::Linear& l, const at::Tensor& x) { return parallel_linear(x, l->weight, l->bias); }
}  // namespace

TransformerEncoderImpl::TransformerEncoderImpl(int64_t embed_dim, int64_t model_dim, int64_t layers, int64_t heads,
                                               int64_t ff_dim)
    : model_dim_(model_dim), heads_(heads) {
  input_ = register_module("input", torch::nn::Linear(embed_dim, model_dim));
  for (int64_t l = 0; l < layers; ++l) {
    Block b;
    const std::string p = "layer" + std::to_string(l) + "_";
    b.ln1 = register_module(p + "ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({model_dim})));
    b.ln2 = register_module(p + "ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({model_dim})));
    b.qkv = register_module(p + "qkv", torch::nn::Linear(model_dim, 3 * model_dim));
    b.out = register_module(p + "out", torch::nn::Linear(model_dim, model_dim));
    b.ff1 = register_module(p + "ff1", torch::nn::Linear(model_dim, ff_dim));
    b.ff2 = register_module(p + "ff2", torch::nn::Linear(ff_dim, model_dim));
    blocks_.push_back(b);
  }
  final_ln_ = register_module("final_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({model_dim})));
}

EncoderOutput TransformerEncoderImpl::encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor&,
                                             const ForwardOptions& options) {
  const int64_t B = emb.size(0), T = emb.size(1), dh = model_dim_ / heads_;
  // Sinusoidal positions (Vaswani et al. 2017), counted from each row's <s>.
  at::Tensor pos = torch::arange(T, emb.options()).unsqueeze(1);                                // [T, 1]
  at::Tensor div = torch::exp(torch::arange(0, model_dim_, 2, emb.options()) * (-std::log(10000.0) / model_dim_));
  at::Tensor pe = torch::zeros({T, model_dim_}, emb.options());
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(pos * div));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                torch::cos(pos * div).narrow(1, 0, model_dim_ / 2));
  at::Tensor m = mask.to(emb.scalar_type()).unsqueeze(2);  // [B, T, 1]
  at::Tensor x = (linear(input_, emb) + pe.unsqueeze(0)) * m;
  at::Tensor key_mask = mask.unsqueeze(1).unsqueeze(1);  // [B, 1, 1, T]
  EncoderOutput out;
  for (size_t l = 0; l < blocks_.size(); ++l) {
    auto& b = blocks_[l];
    at::Tensor qkv = linear(b.qkv, b.ln1->forward(x)).view({B, T, 3, heads_, dh}).permute({2, 0, 3, 1, 4});
    at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];  // [B, heads, T, dh]
    at::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
    if (!options.ignore_padding_mask) scores = scores.masked_fill(key_mask.logical_not(), -INFINITY);
    at::Tensor attn = torch::softmax(scores, -1);  // [B, heads, T, T]
    attn = apply_interventions(attn, options, static_cast<int64_t>(l));
    out.attentions.push_back(attn);
    if (options.keep_value_maps)  // head h's V_h W_O[:, h dh:(h+1) dh]^T: [B, heads, T, dh] x [heads, dh, D]
      out.value_maps.push_back(torch::matmul(v, b.out->weight.view({model_dim_, heads_, dh}).permute({1, 2, 0})));
    at::Tensor ctx = torch::matmul(attn, v).permute({0, 2, 1, 3}).reshape({B, T, model_dim_});
    x = x + linear(b.out, ctx);
    x = x + linear(b.ff2, torch::relu(linear(b.ff1, b.ln2->forward(x))));
    x = x * m;
  }
  out.states = final_ln_->forward(x) * m;
  out.final = masked_mean(out.states, mask);
  return out;
}

}  // namespace lumen::models
