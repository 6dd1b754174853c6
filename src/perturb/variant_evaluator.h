// The one variant evaluator: the output distribution of many edited texts of many originals in
// batched passes without gradients. Every method that asks the model about an edited text
// (leave-one-out, occlusion, LIME, Kernel SHAP, faithfulness curves, the attacks' queries and
// counterfactual searches) goes through it.
//
// For a model with the fused BiLSTM encoder the unchanged prefix and suffix of each variant's
// first text are not run again: the original's forward states up to the first changed position
// and its reverse states after the last one are reused (models::fused_lstm_edits), every
// variant with its own edit; a pair's second text is encoded once per original when a variant
// leaves it unchanged. Other encoders and `reuse = false` run plain padded batches (the twin
// that tests hold the fast path equal to).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/json.h"
#include "models/classifier.h"
#include "perturb/edit.h"

namespace lumen::perturb {

struct EvaluatorOptions {
  // Padded token positions per pass (variants and, on the fused path, their originals).
  int64_t max_tokens = 16384;
  // Reuse the originals' BiLSTM states (fused BiLSTM encoders only).
  bool reuse = true;
  // A hand edit of attention applied to every variant's forward pass (models/forward.h); not
  // part of to_json().
  models::AttentionEdit attention_edit;
  void validate() const;
  Json to_json() const;
};

// What an evaluation did, accumulated over calls.
struct EvaluatorStats {
  int64_t variants = 0;   // texts evaluated (model queries)
  int64_t passes = 0;     // batched forward passes
  int64_t reused = 0;     // variants evaluated with prefix/suffix reuse
  double seconds = 0;
  double mean_batch() const { return passes > 0 ? static_cast<double>(variants) / passes : 0.0; }
  Json to_json() const;
};

// Softmax distributions [V, C] float64 of the variants. originals[v.row] is the text variant v
// edits; `originals` may be empty (no reuse). A text left with no token is evaluated as a single
// <pad> token. Spreads the passes over the cores; the model is put in eval mode for the call.
at::Tensor evaluate_variants(models::TextClassifier& model, const std::vector<Text>& originals,
                             const std::vector<Variant>& variants, const EvaluatorOptions& options = {},
                             EvaluatorStats* stats = nullptr);

// Column targets[v.row] of evaluate_variants for each variant.
std::vector<double> target_probabilities(models::TextClassifier& model, const std::vector<Text>& originals,
                                         const std::vector<Variant>& variants, const std::vector<int64_t>& targets,
                                         const EvaluatorOptions& options = {}, EvaluatorStats* stats = nullptr);

}  // namespace lumen::perturb
