// A small pre-norm Transformer encoder-decoder for natural-language explanations, with a
// classification head on the encoder (masked mean of its states). The three arrangements of
// nle/system.h are built from it: a classifier (encoder + head), a generator (encoder +
// decoder), or both trained jointly. Embeddings are shared by encoder, decoder and the output
// projection (tied).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <ATen/core/Generator.h>
#include <vector>

#include "core/json.h"

namespace lumen::nle {

struct Seq2SeqConfig {
  int64_t vocab_size = 0;  // every token id the model sees or writes
  int64_t labels = 0;      // classes of the classification head
  int64_t model_dim = 64;
  int64_t heads = 4;
  int64_t encoder_layers = 2;
  int64_t decoder_layers = 2;
  int64_t ff_dim = 128;
  double dropout = 0.1;
  // Self-attention adds a learned bias per head and relative distance (T5's relative position
  // bias, distances clipped to +-relative_positions; 0 = none), beside the sinusoidal positions:
  // it lets a head bind a word to its neighbours (a colour to its object) from few examples.
  int64_t relative_positions = 8;
  void validate() const;
  Json to_json() const;
  static Seq2SeqConfig from_json(const Json& j);
};

class Seq2SeqImpl : public torch::nn::Module {
 public:
  explicit Seq2SeqImpl(Seq2SeqConfig config);
  // ids [B, S] (0 = padding), mask [B, S] bool (non-pad) -> memory [B, S, d].
  at::Tensor encode(const at::Tensor& ids, const at::Tensor& mask);
  // Class logits [B, labels] from the memory's masked mean.
  at::Tensor classify(const at::Tensor& memory, const at::Tensor& mask);
  // Teacher-forced next-token logits [B, T, V] for decoder inputs `target_in` [B, T].
  at::Tensor decode(const at::Tensor& memory, const at::Tensor& mask, const at::Tensor& target_in);
  // Greedy decoding from `bos` until `eos` or `max_length` tokens (eos not included).
  std::vector<std::vector<int64_t>> generate(const at::Tensor& memory, const at::Tensor& mask, int64_t bos, int64_t eos,
                                             int64_t max_length);
  const Seq2SeqConfig& config() const { return config_; }
  // Dropout draws from the model's own generator (so that models trained on parallel threads
  // stay reproducible); seeded 0 until set.
  void seed_dropout(uint64_t seed);

 private:
  struct Attention {
    torch::nn::Linear q{nullptr}, kv{nullptr}, out{nullptr};
  };
  struct Block {
    torch::nn::LayerNorm ln_self{nullptr}, ln_cross{nullptr}, ln_ff{nullptr};
    Attention self, cross;
    torch::nn::Linear ff1{nullptr}, ff2{nullptr};
  };
  Attention make_attention(const std::string& name);
  at::Tensor attend(Attention& a, const at::Tensor& x, const at::Tensor& kv, const at::Tensor& key_mask, bool causal,
                    const at::Tensor& relative_bias = {});
  at::Tensor embed(const at::Tensor& ids);
  at::Tensor drop(const at::Tensor& x);
  Block make_block(const std::string& name, bool cross);

  Seq2SeqConfig config_;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<Block> encoder_, decoder_;
  torch::nn::LayerNorm encoder_ln_{nullptr}, decoder_ln_{nullptr};
  torch::nn::Linear head_{nullptr};
  at::Tensor encoder_bias_, decoder_bias_;  // [heads, 2 R + 1] when relative_positions > 0
  at::Generator generator_;
};
TORCH_MODULE(Seq2Seq);

}  // namespace lumen::nle
