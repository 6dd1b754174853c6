// Shared by LIME and Kernel SHAP: sample token masks per instance, evaluate the masked inputs in
// batches, fit a weighted linear surrogate per instance. Internal to the explain layer.
#pragma once
#include <functional>
#include <vector>

#include "core/rng.h"
#include "explain/explainer.h"

namespace lumen::explain {

struct SurrogateDesign {
  // Masks over the d features of one instance (1 = token kept), and their regression weights.
  std::function<void(Rng& rng, int64_t d, std::vector<std::vector<char>>& masks, std::vector<double>& weights)> sample;
  double ridge = 1.0;
};

// Features are the real tokens of the first text, then of the second (pairs). Returns the
// surrogate's coefficients as a BatchAttribution (targets filled).
BatchAttribution fit_surrogates(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o,
                                const SurrogateDesign& design, const std::string& name);

}  // namespace lumen::explain
