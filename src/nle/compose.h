// Predict-then-explain from structured results: sentences composed from a model's prediction,
// its token attributions (explain document instance), a counterfactual that flips it and its
// most influential training examples. A token is named only where the methods agree (it is in
// the top k of at least `agreement` of them); when they disagree the explanation says so and
// hedges. Every claim carries the numbers behind it (its evidence), the same JSON for the CLI,
// the server and reports.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::nle {

struct ComposeOptions {
  // Top tokens per method compared.
  int64_t top_k = 3;
  // A token is named when at least this share of the methods ranks it in their top k.
  double agreement = 0.5;
  // Below this mean pairwise overlap (Jaccard) of the methods' top-k sets, the explanation hedges.
  double hedge_below = 0.4;
  void validate() const;
  Json to_json() const;
};

struct Claim {
  // prediction | tokens | disagreement | counterfactual | influence
  std::string kind;
  std::string sentence;
  // The numbers behind the sentence.
  Json evidence;
  Json to_json() const;
};

struct ComposedExplanation {
  std::string text;  // the sentences joined
  bool hedged = false;
  double overlap = 1;  // mean pairwise Jaccard of the methods' top-k sets
  std::vector<Claim> claims;
  Json to_json() const;
};

// A counterfactual to cite: the changed tokens and the prediction after the change.
struct CounterfactualEvidence {
  std::string kind;  // e.g. "deletion" (removing tokens), "mice", "polyjuice"
  std::vector<std::string> removed, inserted;
  std::string prediction;
  double probability = 0;
};

// `instance`: an explain document instance ({tokens, prediction, probabilities, attributions});
// `label_names` orders its probabilities. `influence`: an influence document's entry for the
// same text ({proponents, opponents, ...}) and the method's name.
ComposedExplanation compose_explanation(const Json& instance, const std::vector<std::string>& label_names,
                                        const std::optional<CounterfactualEvidence>& counterfactual,
                                        const std::optional<Json>& influence, const std::string& influence_method,
                                        const ComposeOptions& options);

// The positions ranked by how many methods place them in their top k (ties: mean rank), the
// order in which a deletion counterfactual removes tokens.
std::vector<int64_t> consensus_order(const Json& instance, int64_t top_k);

}  // namespace lumen::nle
