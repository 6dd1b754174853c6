// The comparison of runs (`lumen compare`): each run analysed on the same split with the same
// options (the "Attention is not Explanation" analyses and Serrano & Smith's erasure), and one
// table of what each encoder or fix changes against the first run: test accuracy, Kendall tau of
// attention against gradients and leave-one-out, the permutation median TVD, the adversarial
// max JSD, the share of tokens erased before the decision flips, and plausibility against
// rationales where the data has them. Written as compare.json and compare.html.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "analysis/jain_wallace.h"
#include "core/json.h"

namespace lumen::app {

struct CompareRequest {
  // Run directories; the first is the baseline every change is measured against.
  std::vector<std::string> runs;
  // Display names, one per run (empty: each run directory's last part).
  std::vector<std::string> names;
  // A data spec for every run (empty: each run's own data).
  std::string data;
  std::string split = "test";
  // The analyses (erasure is switched on); options.limit chooses the first N instances.
  analysis::AnalysisOptions options;
  // Write compare.json and compare.html here ("" writes nothing).
  std::string out;
  // One line per analysed run.
  std::function<void(const std::string&)> log;
  void validate() const;
};

// {"kind": "lumen.compare", "split", "instances", "options", "baseline",
//  "rows": [{"name", "run", "encoder", "attention", "fix", "diversity_weight",
//            "rationale_weight", "faithfulness_weight", "test_accuracy", "accuracy",
//            "tau_attention_gradient",
//            "tau_attention_loo", "permutation_median_tvd", "adversarial_max_jsd",
//            "erasure_fraction", "erasure_flip_rate", "random_erasure_fraction",
//            "plausibility_f1", "conicity", "accuracy_change", "changes": {metric: {"delta",
//            "direction"}}}], "metrics": [{"key", "label", "better"}]}.
// Numbers a run lacks are null. "direction" reads the delta as the metric's definition says
// (e.g. a higher tau: attention agrees more with the importances), not as a paper claims.
Json compare_runs(const CompareRequest& request);

// The fix a run was trained with, in words ("vanilla", "orthogonal", "diversity 0.5",
// "rationale 1", ...), from its config.json.
std::string describe_fix(const Json& config);

}  // namespace lumen::app
