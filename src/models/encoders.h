// The paper's encoders (BiLSTM, CNN, Average) and a Transformer, behind one interface.
// Every encoder maps embeddings [B, T, E] to states [B, T, m] that are exactly 0 on padding,
// and a final state [B, m] that the pair models use as the question / hypothesis encoding.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "models/config.h"
#include "models/forward.h"

namespace lumen::models {

struct EncoderOutput {
  at::Tensor states;  // [B, T, m], 0 on padding
  at::Tensor final;   // [B, m]
  // Transformer self-attention maps, [B, heads, T, T] per layer; empty for other encoders.
  std::vector<at::Tensor> attentions;
  // With ForwardOptions::keep_value_maps, per layer each head's value-times-output map
  // V_h W_O^h^T [B, heads, T, model_dim] (what the head's attention weights mix); else empty.
  std::vector<at::Tensor> value_maps;
};

class EncoderImpl : public torch::nn::Module {
 public:
  // emb [B, T, E]; mask [B, T] bool (non-pad); lengths [B] int64.
  virtual EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                               const ForwardOptions& options) = 0;
  virtual int64_t output_dim() const = 0;
  // The linear maps its forward pass records (TapRecorder), with their parameters.
  virtual std::vector<LinearLayer> linear_layers() { return {}; }
};

// BiLSTM, one layer, hidden per direction (m = 2 hidden). Final state: [forward h at the last
// token, reverse h at the first], as torch::nn::LSTM's h_n.
class LstmEncoderImpl : public EncoderImpl {
 public:
  LstmEncoderImpl(int64_t embed_dim, int64_t hidden, bool fused);
  EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                       const ForwardOptions& options) override;
  int64_t output_dim() const override { return 2 * hidden_; }
  std::vector<LinearLayer> linear_layers() override;
  // Training path of the fused kernel: reads rows of `embedding` [V, E] for `ids` [B, T] itself
  // (input products over the batch's distinct tokens). Same result as encode(embedding[ids]).
  EncoderOutput encode_ids(const at::Tensor& embedding, const at::Tensor& ids, const at::Tensor& lengths);
  bool fused() const { return fused_; }
  at::Tensor w_ih, w_hh, b_ih, b_hh;  // [2*4H, E], [2*4H, H], [2*4H], [2*4H] (torch::nn::LSTM layout)

 private:
  int64_t hidden_;
  bool fused_;
};

// Orthogonal BiLSTM (Mohankumar et al. 2020, "Towards Transparent and Explainable Attention
// Models"): in each direction, the LSTM step's state h_t is replaced by its component orthogonal
// to the mean of that direction's earlier states, h_t - (h_t . m / (m . m + eps)) m with
// m the running mean of the earlier states (the reference code's: their sum over t, t the
// 1-based step; the scale does not change the projection), and the orthogonalised state is what
// the next step reads. eps guards the first step (m = 0); the reference's 1e-6 leaves a
// residual alignment of eps / |m|^2 (up to 1e-4 for small states), so Lumen uses 1e-12. The reference runs one direction of size 2H; this runs
// both directions of the BiLSTM, each orthogonalised on its own, so that it differs from the
// vanilla BiLSTM by the orthogonalisation only. Same parameters and layout as LstmEncoderImpl;
// runs step by step with LibTorch operations (autograd, any dtype). Final state as the BiLSTM's.
class OrthoLstmEncoderImpl : public EncoderImpl {
 public:
  OrthoLstmEncoderImpl(int64_t embed_dim, int64_t hidden);
  EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                       const ForwardOptions& options) override;
  int64_t output_dim() const override { return 2 * hidden_; }
  std::vector<LinearLayer> linear_layers() override;
  at::Tensor w_ih, w_hh, b_ih, b_hh;  // as LstmEncoderImpl's
  static constexpr double kEps = 1e-12;

 private:
  int64_t hidden_;
};

// CNN: kernels (1, 3, 5, 7) x filters, same padding, ReLU, outputs at padding zeroed.
// Final state: max over positions.
class CnnEncoderImpl : public EncoderImpl {
 public:
  CnnEncoderImpl(int64_t embed_dim, int64_t filters, const std::vector<int64_t>& kernels);
  EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                       const ForwardOptions& options) override;
  int64_t output_dim() const override { return filters_ * static_cast<int64_t>(convs_.size()); }

 private:
  int64_t filters_;
  std::vector<torch::nn::Conv1d> convs_;
};

// Average (no context): h_t = tanh(W e_t + b). Final state: mean over the sequence.
class AverageEncoderImpl : public EncoderImpl {
 public:
  AverageEncoderImpl(int64_t embed_dim, int64_t hidden);
  EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                       const ForwardOptions& options) override;
  int64_t output_dim() const override { return hidden_; }
  std::vector<LinearLayer> linear_layers() override;

 private:
  int64_t hidden_;
  torch::nn::Linear proj_{nullptr};
};

// Pre-norm Transformer encoder: input projection, sinusoidal positions, `layers` blocks of
// multi-head self-attention (keys masked to non-pad) and a ReLU feed-forward. Attention maps
// are returned and accept interventions (layer k). Final state: mean over the sequence.
class TransformerEncoderImpl : public EncoderImpl {
 public:
  TransformerEncoderImpl(int64_t embed_dim, int64_t model_dim, int64_t layers, int64_t heads, int64_t ff_dim);
  EncoderOutput encode(const at::Tensor& emb, const at::Tensor& mask, const at::Tensor& lengths,
                       const ForwardOptions& options) override;
  int64_t output_dim() const override { return model_dim_; }

 private:
  struct Block {
    torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
    torch::nn::Linear qkv{nullptr}, out{nullptr}, ff1{nullptr}, ff2{nullptr};
  };
  int64_t model_dim_, heads_;
  torch::nn::Linear input_{nullptr};
  std::vector<Block> blocks_;
  torch::nn::LayerNorm final_ln_{nullptr};
};

// Builds the encoder named by config.encoder.
std::shared_ptr<EncoderImpl> make_encoder(const ModelConfig& config);

// Applies the interventions of `options` that target `layer` to attention weights `w`.
at::Tensor apply_interventions(const at::Tensor& w, const ForwardOptions& options, int64_t layer);

// Masked mean over positions: x [B, T, m], mask [B, T] bool -> [B, m].
at::Tensor masked_mean(const at::Tensor& x, const at::Tensor& mask);

}  // namespace lumen::models
