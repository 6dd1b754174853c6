// Token attributions: one result type, one interface, and the registry of every method
// (ARCHITECTURE.md, explain layer). Each method lives in its own file and is registered by name
// in registry.cpp; `lumen explain`, the evaluation of explanations and the tests reach methods
// only through make_explainer().
//
// Conventions shared by every method:
// - The explained quantity is the model's probability of the target class (the predicted class
//   unless ExplainOptions::targets says otherwise), so that scores are comparable with the
//   ERASER metrics, which remove tokens and measure that probability.
// - Scores are per real token. In batch form they are [B, T] float64 tensors that are exactly 0
//   on <s>, </s> and padding; a row alone gives the same scores as inside a padded batch.
// - For text pairs, scores_b covers the second text (methods that attribute only attention over
//   the first text leave it undefined).
// - No method changes the model's parameters, their gradients or its training mode.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/batch.h"
#include "explain/options.h"
#include "models/classifier.h"

namespace lumen::explain {

// Scores of one method for a batch.
struct BatchAttribution {
  at::Tensor scores;    // [B, T] float64, 0 outside batch.token_mask
  at::Tensor scores_b;  // [B, T_b] float64 for pairs (undefined when the method covers text a only)
  std::vector<int64_t> targets;  // [B] explained class
  // Integrated gradients and AttAttr: |sum of scores - (F(x) - F(baseline))| / max(|F(x) -
  // F(baseline)|, 1e-12) per row; empty for other methods.
  std::vector<double> completeness_gap;
  // Optional per-row details (e.g. per-layer/head scores), null when none.
  std::vector<Json> details;
};

// One instance's attribution by one method: the JSON form shared by the CLI, reports and UI.
struct TokenAttribution {
  std::string method;
  int64_t target = 0;
  std::vector<std::string> tokens, tokens_b;
  std::vector<double> scores, scores_b;  // per real token
  double completeness_gap = std::numeric_limits<double>::quiet_NaN();
  Json details;
  Json to_json() const;
};

class Explainer {
 public:
  virtual ~Explainer() = default;
  virtual std::string name() const = 0;
  // One line: what the score is, its units and sign.
  virtual std::string description() const = 0;
  // Whether the method needs self-attention or pooling attention.
  virtual bool needs_attention() const { return false; }
  // Whether scores_b is filled for pairs.
  virtual bool covers_second_text() const { return true; }
  virtual BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                                   const ExplainOptions& options) const = 0;
};

// Every registered method name, in display order.
const std::vector<std::string>& explainer_names();
// Throws InvalidArgument naming the known methods for an unknown name.
std::unique_ptr<Explainer> make_explainer(const std::string& name);
// Comma-separated names ("all" = every method the model supports) -> names, validated.
std::vector<std::string> parse_methods(const std::string& list, const models::TextClassifier& model);
// Whether `name` can explain `model` (attention methods need attention; rollout/flow are about
// self-attention but fall back to the pooling attention for other encoders).
bool supports(const std::string& name, const models::TextClassifier& model);

// Splits a batch result into per-instance results (tokens filled by the caller).
std::vector<TokenAttribution> split_rows(const std::string& method, const BatchAttribution& a, const data::Batch& batch);

}  // namespace lumen::explain
