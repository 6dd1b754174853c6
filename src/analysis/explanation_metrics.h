// The parts of the evaluation of explanations (analysis/explanation_evaluation.h), one file
// each: faithfulness.cpp (ERASER and deletion curves), agreement.cpp, sanity_checks.cpp
// (Adebayo's randomisations), plausibility.cpp (known rationales). Each takes the attributions
// A[method][instance] of the original model and returns its JSON section and the numbers the
// ranking needs. Internal to the analysis layer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/explanation_evaluation.h"

namespace lumen::analysis {

using Attributions = std::vector<std::vector<std::vector<double>>>;

// Shared helpers: mean of the finite values (NaN when none), a number or null, token order by
// signed score (highest first, ties: earlier first), and the size of the top `share` of n
// tokens (at least 1).
double finite_mean(const std::vector<double>& v);
Json number_or_null(double x);
std::vector<int64_t> order_by_score(const std::vector<double>& scores);
int64_t top_count(double share, int64_t n);

struct FaithfulnessResult {
  Json faithfulness;   // per method: comprehensiveness, sufficiency, deletion curves, AOPCs
  Json random_order;   // the random order's deletion curve and AOPC
  std::vector<double> aopc_comprehensiveness, aopc_sufficiency, aopc_most_first, aopc_least_first;
  double random_aopc = 0;
};
// Every removal of every method and instance in one batched evaluation of the model.
FaithfulnessResult faithfulness(models::TextClassifier& model, const std::vector<data::Example>& examples,
                                const data::Vocab& vocab, const std::vector<NamedExplainer>& methods,
                                const Attributions& A, const std::vector<int64_t>& targets,
                                const EvaluationOptions& options);

// Kendall tau-b and top-share overlap between every pair of methods.
Json agreement(const std::vector<NamedExplainer>& methods, const Attributions& A, double top_share);

struct SanityResult {
  Json sanity;                        // cascading, independent, label_permuted, decorrelation
  std::vector<double> decorrelation;  // per method, NaN when not measured
};
// Randomises the model's parameter groups (cascading from the output down, then each alone) and
// trains the label-permuted control; the model's parameters are restored afterwards.
SanityResult sanity_checks(models::TextClassifier& model, const std::vector<data::Example>& examples,
                           const data::Vocab& vocab, const std::vector<NamedExplainer>& methods, const Attributions& A,
                           const std::vector<int64_t>& targets, const EvaluationOptions& options);

struct PlausibilityResult {
  Json plausibility;              // per method: token_f1, auprc (empty without rationales)
  std::vector<double> token_f1;   // per method, NaN without rationales
};
PlausibilityResult plausibility(const std::vector<data::Example>& examples, const std::vector<NamedExplainer>& methods,
                                const Attributions& A);

}  // namespace lumen::analysis
