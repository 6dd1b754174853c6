// The text classifier of Jain & Wallace (2019) for single texts and text pairs: embedding,
// encoder, attention over tokens, decoder. Implements the model contract of ARCHITECTURE.md:
// forward from token ids or from embeddings, every attention map returned, attention
// interventions accepted, padding exactly ignored.
//   single, 2 classes:  y = sigmoid(w^T c + b), returned as logits [0, z]
//   single, C classes:  logits = W c + b
//   pairs:              logits = W2 tanh(W1p c + W1q q), q the second text's final state
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <vector>

#include "data/batch.h"
#include "models/attention.h"
#include "models/config.h"
#include "models/encoders.h"
#include "models/forward.h"

namespace lumen::models {

// Encoder results that do not depend on the pooling attention; analyses that only change the
// attention decode these again without re-running the encoder.
struct Encoded {
  at::Tensor states;       // [B, T, m]
  at::Tensor query;        // [B, m] for pairs, undefined otherwise
  at::Tensor embeddings;   // [B, T, E]
  at::Tensor embeddings_b; // [B, T_b, E] for pairs
  std::vector<at::Tensor> self_attentions;
  std::vector<at::Tensor> value_maps;  // with ForwardOptions::keep_value_maps (Transformer)
};

class TextClassifierImpl : public torch::nn::Module {
 public:
  explicit TextClassifierImpl(ModelConfig config);

  ModelOutput forward(const data::Batch& batch, const ForwardOptions& options = {});
  // The same logits as forward(batch), for training: a fused BiLSTM reads embedding rows itself
  // and computes its input products once per distinct token of the batch. `embeddings` in the
  // result is undefined (explainers use forward_from_embeddings).
  ModelOutput forward_training(const data::Batch& batch, const ForwardOptions& options = {});
  // embeddings [B, T, E] of the first text (e.g. a leaf for gradients or an interpolation);
  // embeddings_b of the second text for pairs (undefined: embedded from batch.ids_b).
  ModelOutput forward_from_embeddings(const at::Tensor& embeddings, const data::Batch& batch,
                                      const ForwardOptions& options = {}, const at::Tensor& embeddings_b = {});
  Encoded encode(const at::Tensor& embeddings, const data::Batch& batch, const ForwardOptions& options,
                 const at::Tensor& embeddings_b = {});
  // Attention and decoder on top of `encoded`.
  ModelOutput decode(const Encoded& encoded, const data::Batch& batch, const ForwardOptions& options);
  // Logits [B, C] from context vectors c [B, m] (and query q [B, m] for pairs).
  at::Tensor decoder(const at::Tensor& context, const at::Tensor& query);
  // The same function with the decoder's parameters given (in parameters_of(kDecoder) order,
  // any dtype): influence differentiates the last layer twice on cached features with it.
  at::Tensor decoder_with(const std::vector<at::Tensor>& params, const at::Tensor& context, const at::Tensor& query) const;

  // Raw pooling-attention scores [B, T] on `encoded` (before masking and softmax; zeros for
  // uniform attention). Requires pooling = attention.
  at::Tensor attention_scores(const Encoded& encoded);
  // Logits are an affine function of the context vector (every single-text model), so that
  // decoder(sum_t a_t h_t) = sum_t a_t decoder(h_t) whenever the weights sum to 1.
  bool affine_decoder() const { return !config_.pair; }
  // Each state depends on its own token only (the Average encoder): deleting a token leaves the
  // other states unchanged.
  bool context_free_encoder() const { return config_.encoder_kind() == EncoderKind::kAverage; }
  // Self-attention layers of the encoder (a Transformer's; 0 for the others) and their heads.
  int64_t self_attention_layers() const;
  int64_t self_attention_heads() const;
  // Some attention to read or edit: the pooling attention or self-attention layers.
  bool has_attention() const { return has_pooling_attention() || self_attention_layers() > 0; }
  // The first text's encoder when it is Lumen's fused BiLSTM kernel; nullptr otherwise (the
  // fast explanation paths run through its weights).
  const LstmEncoderImpl* fused_lstm() const;
  // The second text's encoding (the query of the pair decoder) [B, m]: what encode() returns as
  // `query`, without running the first text's encoder. Requires a pair model and batch.
  at::Tensor second_text_query(const data::Batch& batch);
  bool has_pooling_attention() const { return config_.pooling == "attention"; }

  // [B, T] ids -> [B, T, E].
  at::Tensor embed(const at::Tensor& ids);
  const ModelConfig& config() const { return config_; }
  // Parameters of the attention scorer (trained without weight decay, as in the paper).
  std::vector<at::Tensor> attention_parameters();
  std::vector<at::Tensor> other_parameters();
  // Parameters by kind, from the output down: the decoder (output layers), the pooling
  // attention's scorer, the encoder(s), the embedding. Empty for a kind the model lacks.
  enum class ParameterGroup { kDecoder, kAttention, kEncoder, kEmbedding };
  std::vector<at::Tensor> parameters_of(ParameterGroup group);
  // Every linear map a forward pass records (TapRecorder), named as its taps
  // ("encoder.fwd.ih", "attention.w", "decoder.out", ...), with the parameters it applies.
  std::vector<LinearLayer> linear_layers();

  torch::nn::Embedding embedding{nullptr};

 private:
  ModelConfig config_;
  std::shared_ptr<EncoderImpl> encoder_, encoder_b_;
  TokenAttention attention_{nullptr};
  torch::nn::Linear out_{nullptr}, out_p_{nullptr}, out_q_{nullptr};
};
TORCH_MODULE(TextClassifier);

}  // namespace lumen::models
