// Model configuration: the paper's sizes as defaults (shared/reference/jain_wallace.md), every
// one an option. Stored as JSON in the run directory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::models {

// The encoder families, as typed values (ModelConfig::encoder keeps the name for the JSON form).
// diversity-lstm is the BiLSTM (kLstm) trained with the conicity penalty
// (TrainOptions::diversity_weight); ortho-lstm is kOrthoLstm.
enum class EncoderKind { kLstm, kOrthoLstm, kCnn, kAverage, kTransformer };

struct ModelConfig {
  // lstm | ortho-lstm | diversity-lstm | cnn | average | transformer. ortho-lstm: Mohankumar et
  // al. (2020)'s Orthogonal LSTM, each direction's state made orthogonal to the mean of its
  // earlier states at every step; diversity-lstm: the BiLSTM, trained with their diversity
  // (conicity) penalty.
  std::string encoder = "lstm";
  // Attention over tokens: additive (v^T tanh(W h + b)) | dot (w^T h / sqrt(m)) | uniform
  // (fixed 1/n, the Wiegreffe & Pinter baseline).
  std::string attention = "additive";
  // Vocabulary size (set from the vocabulary).
  int64_t vocab_size = 0;
  // Embedding size (300 in the paper; 50 for bAbI).
  int64_t embed_dim = 300;
  // BiLSTM: hidden size per direction (m = 2 * hidden). Average: output size m.
  int64_t hidden = 128;
  // CNN: filters per kernel size; m = filters * kernels.
  int64_t cnn_filters = 32;
  std::vector<int64_t> cnn_kernels = {1, 3, 5, 7};
  // Transformer: layers, heads, model size (= m), feed-forward size.
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t model_dim = 128;
  int64_t ff_dim = 256;
  // Transformer pooling: "attention" (token attention as above) or "cls" (state at <s>).
  std::string pooling = "attention";
  // BiLSTM implementation: "fused" (Lumen's kernel with its own backward pass) or "plain"
  // (LibTorch operations step by step; the reference twin, much slower).
  std::string lstm_impl = "fused";
  // Number of classes. Two classes on single texts use the paper's sigmoid decoder.
  int64_t num_classes = 2;
  // Text pairs: attention over the first text conditioned on the second's encoding.
  bool pair = false;

  void validate() const;
  // `encoder` as a typed value (after validate(); throws InvalidArgument for an unknown name).
  EncoderKind encoder_kind() const;
  // Encoder output size m.
  int64_t output_dim() const;
  Json to_json() const;
  static ModelConfig from_json(const Json& j);
};

}  // namespace lumen::models
