// Which explanation to believe, as a job (`lumen evaluate-explanations`): the split loaded as
// the run was trained, the label-permuted control's data, analysis::evaluate_explanations over
// the chosen methods, and (when asked) OUT/evaluation.json with its HTML report.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "explain/options.h"
#include "models/checkpoint.h"

namespace lumen::app {

// The instances evaluated and the dataset they come from (its train / dev splits feed the
// label-permuted control).
struct ExplanationEvaluationInput {
  data::Dataset dataset;
  std::vector<data::Example> examples;  // the first `limit` of the split
};

// Loads `split` of `data` (empty: the run's own data); DataError naming the split when empty.
ExplanationEvaluationInput explanation_evaluation_input(const models::Run& run, const std::string& data,
                                                        const std::string& split, int64_t limit);

struct EvaluateExplanationsRequest {
  std::string split = "test";
  // Comma-separated method names or "all" (explain::parse_methods).
  std::string methods = "attention,saliency,grad_input,ig,loo,grad_sam,att_attr,rollout";
  explain::ExplainOptions explain;
  int64_t batch_size = 32, permuted_epochs = 3;
  bool sanity = true;
  // The label-permuted control model (with sanity checks and a training split).
  bool permuted = true;
  bool progress = false;
  // Write OUT/evaluation.json and OUT/evaluation.html here ("" writes nothing).
  std::string out;
};

// The evaluation document with run, data and split.
Json evaluate_explanations(const models::Run& run, const ExplanationEvaluationInput& input,
                           const EvaluateExplanationsRequest& request);

}  // namespace lumen::app
