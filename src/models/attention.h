// Attention over the tokens of the first text (Jain & Wallace 2019, section 2):
//   additive: score_t = v^T tanh(W h_t + b)            (pairs: v^T tanh(W_p h_t + W_q q))
//   dot:      score_t = w^T h_t / sqrt(m)              (pairs: h_t^T q / sqrt(m))
//   uniform:  1 / n over the real tokens (Wiegreffe & Pinter's baseline)
// then a softmax masked to the real tokens: weights are >= 0, sum to 1 over them, and are
// exactly 0 on <s>, </s> and padding.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "data/batch.h"
#include "models/forward.h"

namespace lumen::models {

class TokenAttentionImpl : public torch::nn::Module {
 public:
  TokenAttentionImpl(const std::string& kind, int64_t dim, bool pair);
  // states [B, T, m]; token_mask [B, T] bool; query [B, m] for pairs (else undefined).
  // Returns raw scores [B, T] (unmasked).
  // `mask` [B, T] (non-pad positions) only marks the valid rows of recorded taps (TapRecorder).
  at::Tensor scores(const at::Tensor& states, const at::Tensor& query, const at::Tensor& mask = {});
  // Masked softmax of the scores -> weights [B, T]. With mask_padding false (diagnostic
  // negative control only) every position takes part.
  static at::Tensor normalize(const at::Tensor& scores, const at::Tensor& token_mask, bool mask_padding = true);
  // The linear maps scores() records (TapRecorder), with their parameters.
  std::vector<LinearLayer> linear_layers();

 private:
  std::string kind_;
  int64_t dim_;
  bool pair_;
  torch::nn::Linear w_{nullptr}, wq_{nullptr}, v_{nullptr};
};
TORCH_MODULE(TokenAttention);

// The one definition of "the attention a token receives" in a self-attention layer, shared by
// `lumen explain --methods attention --layer k` and `lumen analyze --attention-layer k`: the
// mean, over the query positions that are not padding (<s>, the tokens, </s>), of the weight
// each key position gets; from one head, or the mean over heads for head < 0.
// a [B, H, T, T] (rows = queries); returns [B, T] in a's dtype, 0 outside batch.token_mask.
// Throws InvalidArgument for a head the map does not have.
at::Tensor received_attention(const at::Tensor& a, const data::Batch& batch, int64_t head);

}  // namespace lumen::models
