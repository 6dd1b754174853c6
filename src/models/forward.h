// The model contract shared by every model and every explainer (ARCHITECTURE.md).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
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

// A function applied to attention weights [B, heads, query, key] (or the pooling attention
// [B, T]) of one layer (-1: the pooling attention), returning the weights to use.
using AttentionEdit = std::function<at::Tensor(const at::Tensor& weights, int64_t layer)>;

struct ForwardOptions {
  std::vector<AttentionIntervention> interventions;
  // Detach the pooling attention weights: gradients reach the embeddings through the states
  // only, not through the attention scorer (the paper's gradient importance).
  bool detach_attention = false;
  // Diagnostic negative control: softmax over every position, padding included. A correct
  // model never sets it; the padding-invariance test shows it breaks invariance.
  bool ignore_padding_mask = false;
  // Applied to every attention map after the interventions, with the layer as above (-1: the
  // pooling attention): a hand edit of attention (`lumen explain --set-attention`, the
  // explorer's edits). Passed per call and never stored on the model, so that concurrent
  // callers of one model can edit differently; empty: none.
  AttentionEdit edit;
  // A Transformer also returns each layer's value-times-output maps (EncoderOutput::value_maps),
  // from which models/effective_attention.h computes Brunner et al.'s effective attention.
  bool keep_value_maps = false;
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

// Records the linear maps a forward pass applies, for influence's Kronecker-factored curvature
// and batched per-example gradients (issue #12). While a recorder is alive on a thread, every
// linear layer of the BiLSTM (per direction: the input map with b_ih, the recurrent map with
// b_hh), the Average encoder, the pooling attention and the decoder adds one tap per
// application: its inputs and its pre-activation outputs, as [B, R, .] with R rows per example
// (T for a map over tokens). The fused BiLSTM records each map once over all steps (its
// recurrence runs from the input projections, whose gradient is the gate pre-activation
// gradient both maps share); in Mode::kPlain the model runs its plain twins instead
// (differentiable mode), and the BiLSTM adds one tap per map and step (R = 1). Both give the
// same per-example gradients (tested). The per-example
// gradient of a layer's weight (with its bias as a last column) is then sum_r s_r [a_r, 1]^T,
// s = d loss / d output. Layer names: "<module>.<layer>", e.g. "encoder.fwd.ih", "attention.w",
// "decoder.out". The CNN's and the Transformer's layers are not recorded.
struct LinearTap {
  std::string layer;
  at::Tensor input;   // [B, R, in], detached
  at::Tensor output;  // [B, R, out] or [B, out] as the layer computed it, in the autograd graph
  at::Tensor valid;   // [B, R] float 0/1 (0 on padding)
  bool bias = false;  // the layer has a bias (its gradient is the sum of s)
};

// The parameters behind a recorded linear map (same name as its taps): rows [row0, row0 + rows)
// of `weight` ([*, in]) and of each bias in `biases` (the BiLSTM's b_ih or b_hh; none for a map
// without bias). A tap's per-example gradient sum_r s_r [a_r, 1]^T is these rows' gradient.
struct LinearLayer {
  std::string name;
  at::Tensor weight;
  std::vector<at::Tensor> biases;
  int64_t row0 = 0, rows = 0;
};

class TapRecorder {
 public:
  enum class Mode { kFast, kPlain };
  explicit TapRecorder(Mode mode = Mode::kFast);
  ~TapRecorder();
  TapRecorder(const TapRecorder&) = delete;
  TapRecorder& operator=(const TapRecorder&) = delete;
  // The innermost recorder alive on this thread, or nullptr.
  static TapRecorder* active();
  // Adds a tap named prefix + layer (inputs [B, R, in] or [B, in]).
  void record(const std::string& layer, const at::Tensor& input, const at::Tensor& output, const at::Tensor& valid, bool bias);
  // Layer names recorded inside a scope get `prefix` + "." in front (the classifier names its
  // modules: encoder, encoder_b, attention, decoder).
  class Scope {
   public:
    explicit Scope(const std::string& prefix);
    ~Scope();

   private:
    TapRecorder* recorder_;
    std::string previous_;
  };
  std::vector<LinearTap> taps;

 private:
  std::optional<DifferentiableMode> differentiable_;  // Mode::kPlain
  TapRecorder* previous_;
  std::string prefix_;
};

// Records a tap when a recorder is active (no-op otherwise).
inline void record_linear(const char* layer, const at::Tensor& input, const at::Tensor& output, const at::Tensor& valid,
                          bool bias) {
  if (TapRecorder* r = TapRecorder::active()) r->record(layer, input, output, valid, bias);
}

}  // namespace lumen::models
