// The model contract shared by every model and every explainer (ARCHITECTURE.md).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace lumen::models {

// Replaces or scales the weights of one attention before they are applied. The permutation
// test, adversarial attention, AttAttr's scaled attention and the UI's editing all use it.
struct AttentionIntervention {
  enum class Mode { kReplace, kScale };
  Mode mode = Mode::kReplace;
  // Which attention: -1 the pooling attention over tokens (every model); k >= 0 the k-th
  // self-attention layer of a Transformer.
  int64_t layer = -1;
  // kReplace: the weights to use; kScale: a multiplier (no renormalisation). Broadcastable to
  // [B, heads, query, key]; the pooling attention also accepts [B, T].
  at::Tensor weights;
};

struct ForwardOptions {
  std::vector<AttentionIntervention> interventions;
  // Detach the pooling attention weights: gradients reach the embeddings through the states
  // only, not through the attention scorer (the paper's gradient importance).
  bool detach_attention = false;
  // Diagnostic negative control: softmax over every position, padding included. A correct
  // model never sets it; the padding-invariance test shows it breaks invariance.
  bool ignore_padding_mask = false;
  // Applied to every attention map after the interventions, with the layer as above (-1: the
  // pooling attention). A persistent edit of attention set on the model (`lumen explain
  // --set-attention`, TextClassifierImpl::set_attention_edit) arrives here; empty: none.
  std::function<at::Tensor(const at::Tensor& weights, int64_t layer)> edit;
};

struct ModelOutput {
  // [B, classes] float. Binary single-text models give [0, z]: softmax = sigmoid(z).
  at::Tensor logits;
  // [B, T, E]: the embedded first text the forward pass started from.
  at::Tensor embeddings;
  // [B, T_b, E]: the embedded second text (pairs); undefined otherwise.
  at::Tensor embeddings_b;
  // Every attention map, [B, heads, query, key]: a Transformer's self-attention layers first,
  // then the pooling attention over tokens as [B, 1, 1, T] (absent with pooling=cls).
  std::vector<at::Tensor> attentions;
  // [B, T]: the pooling attention (0 on <s>, </s> and padding); undefined with pooling=cls.
  at::Tensor pooling_attention;
  // [B, T, m]: encoder states of the first text (0 on padding).
  at::Tensor states;
  // [B, m]: what the decoder reads, the pooled context vector (and for pairs the second text's
  // encoding `query`, else undefined): logits = decoder(context, query).
  at::Tensor context, query;
};

// Differentiable mode for a scope (influence's second derivatives, issue #12): while a guard is
// alive on a thread, every layer that has a fast path with its own first-order backward (the
// fused BiLSTM kernel, parallel_linear) runs as its plain LibTorch twin instead, so the whole
// forward pass supports double backward. Values equal the fast path's (tested); only speed
// differs. Guards nest; the mode is per thread (set it on the thread that calls the model).
class DifferentiableMode {
 public:
  DifferentiableMode();
  ~DifferentiableMode();
  DifferentiableMode(const DifferentiableMode&) = delete;
  DifferentiableMode& operator=(const DifferentiableMode&) = delete;
  // Whether a guard is alive on this thread.
  static bool on();
};

}  // namespace lumen::models
