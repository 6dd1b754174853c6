// Options of the token attribution methods: one documented struct per method family with a
// validate() that names the field and one JSON form, gathered in ExplainOptions, whose JSON
// records every setting that changes a score (a document says how to reproduce itself).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/forward.h"

namespace lumen::explain {

// What replaces a token's embedding at the start of the integrated-gradients path.
enum class Baseline { kPad, kZero, kUnk };
// How a token is removed in leave-one-out, occlusion, LIME/SHAP and the ERASER metrics.
enum class Removal { kDelete, kPad, kUnk };

Baseline parse_baseline(const std::string& s);  // pad | zero | unk
Removal parse_removal(const std::string& s);     // delete | pad | unk
std::string to_string(Baseline b);
std::string to_string(Removal r);

// attention, rollout, flow, grad_sam, att_attr: which attention the method reads.
struct AttentionSelection {
  // Transformer self-attention layer; -1: the pooling attention for `attention`, every layer
  // (and the pooling attention) for grad_sam / att_attr.
  int64_t layer = -1;
  // Head of a self-attention layer; -1: the mean over heads.
  int64_t head = -1;
  void validate() const;
  Json to_json() const;
};

// ig and att_attr: the path integral.
struct PathOptions {
  // Steps of the midpoint Riemann sum along the path.
  int64_t steps = 50;
  // ig: > 0 switches to the adaptive mode: per instance, the trapezoid rule on 4 intervals,
  // doubled (reusing every evaluated point) until the completeness gap is <= tolerance or the
  // intervals reach max_steps; `steps` is not used. Each instance reports its step count.
  double tolerance = 0;
  int64_t max_steps = 1024;
  // ig: the embedding at the start of the path (att_attr scales attention from 0 instead).
  Baseline baseline = Baseline::kPad;
  void validate() const;
  Json to_json() const;
};

// smoothgrad.
struct SmoothGradOptions {
  // Noisy copies of the input per instance.
  int64_t samples = 20;
  // Noise standard deviation as a share of the standard deviation of the embedding matrix.
  double noise_level = 0.1;
  void validate() const;
  Json to_json() const;
};

// occlusion.
struct OcclusionOptions {
  // Tokens per removed window (1 = leave-one-out).
  int64_t ngram = 3;
  void validate() const;
  Json to_json() const;
};

// lime and kernel_shap: the local surrogate.
struct SurrogateOptions {
  // Perturbed samples per instance.
  int64_t samples = 500;
  // LIME: width of the exponential kernel on the cosine distance (the reference's text
  // default, 25 on distances x 100).
  double kernel_width = 0.25;
  // Ridge penalty of the weighted linear surrogate.
  double ridge = 1e-3;
  void validate() const;
  Json to_json() const;
};

// flow.
struct FlowOptions {
  // Longest text accepted (one max-flow per token on an (L + 1) x n node graph).
  int64_t max_tokens = 400;
  void validate() const;
  Json to_json() const;
};

struct ExplainOptions {
  // Class explained for each row of the batch; empty: the predicted class of each row.
  std::vector<int64_t> targets;
  AttentionSelection attention;
  PathOptions path;
  SmoothGradOptions smoothgrad;
  OcclusionOptions occlusion;
  SurrogateOptions surrogate;
  FlowOptions flow;
  // loo, occlusion, lime, kernel_shap (and the ERASER metrics): how a token is removed.
  Removal removal = Removal::kDelete;
  // Seed of the sampled methods (lime, kernel_shap, smoothgrad).
  uint64_t seed = 0;
  // Copies of the batch per forward/backward pass of the methods that repeat it (ig and
  // att_attr path points, smoothgrad samples); 0: as many as fit `max_tokens`. Memory stays
  // flat in the step and sample counts: one pass is alive at a time.
  int64_t chunk = 0;
  // Padded positions per forward pass of any batched method (bounds memory on long inputs).
  int64_t max_tokens = 1 << 14;
  // Fast paths for single-text models with the fused BiLSTM (explain/lstm_fast.h): saliency,
  // gradient x input and integrated gradients through the LSTM input projections,
  // leave-one-out through the kernel's prefix/suffix reuse. false runs the generic path
  // (autograd through the embeddings, one forward pass per removal), the twin the tests hold
  // them equal to.
  bool fast = true;
  // A hand edit of attention applied in every forward pass the methods make (the explain
  // document's edited pass, the explorer's edits; explain/attention_edit.h). Passed with the
  // call, never set on the model. Not part of to_json(): the explain document records the
  // edits it was made from.
  models::AttentionEdit attention_edit;
  // The forward options every method starts from: the attention edit.
  models::ForwardOptions forward() const {
    models::ForwardOptions f;
    f.edit = attention_edit;
    return f;
  }
  // Throws InvalidArgument naming the first field out of range.
  void validate() const;
  // Every field ("targets": the given classes, or "predicted").
  Json to_json() const;
};

}  // namespace lumen::explain
