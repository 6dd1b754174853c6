// How far to trust each token attribution method on a model (shared/reference/metrics.md):
// - Faithfulness (DeYoung et al. 2020, ERASER): comprehensiveness p(x) - p(x without the top
//   k% tokens) and sufficiency p(x) - p(top k% alone) for k in {1, 5, 10, 20, 50}, and their
//   AOPC = the mean over those bins (divided by |bins|, as ERASER's reference script does).
// - Deletion curves (Samek et al. 2017): p(x) - p(x with the first f of the tokens removed) at
//   f = 0, 0.1, ..., 1 in three orders (most relevant first, least relevant first, random), and
//   their AOPC = mean over the 11 points (1/(L+1) sum_{k=0..L} with L = 10 steps of 10%).
//   Rankings order tokens by signed score, highest first; removal as ExplainOptions::removal
//   (deletion by default); p is the probability of the explained (predicted) class; tokens of
//   the first text are ranked and removed (the second text of a pair stays whole).
// - Agreement: Kendall tau-b and top-20% overlap between every pair of methods.
// - Sanity checks (Adebayo et al. 2018): cascading randomisation of the parameter groups from the
//   output down (decoder, attention, encoder, embedding), each group randomised alone, and a
//   model trained on permuted labels; Spearman rank correlation of the scores (signed and
//   absolute) with the original model's; decorrelation = 1 - mean Spearman of |scores| with
//   everything randomised (0: the explanation ignores the model).
// - Plausibility on data with known rationales: token precision/recall/F1 of the top-|rationale|
//   tokens by |score| and AUPRC (average precision) of |scores|.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "explain/explainer.h"
#include "data/encoded_set.h"

namespace lumen::analysis {

struct NamedExplainer {
  std::string name;
  std::shared_ptr<const explain::Explainer> explainer;
};

struct EvaluationOptions {
  // The methods' settings (removal also decides how the ERASER metrics remove tokens).
  explain::ExplainOptions explain;
  // ERASER bins: shares of the tokens removed (comprehensiveness) or kept (sufficiency).
  std::vector<double> bins = {0.01, 0.05, 0.10, 0.20, 0.50};
  // Points of the deletion curves (0%, 10%, ..., 100% of the tokens removed for 11).
  int64_t curve_points = 11;
  // Agreement: top-k overlap with k = ceil(top_share * n).
  double top_share = 0.2;
  // Run the randomisation sanity checks.
  bool sanity = true;
  // Label-permuted control: trained on the training split with permuted labels (null: skipped).
  const data::EncodedSet* permuted_train = nullptr;
  const data::EncodedSet* permuted_dev = nullptr;
  // Epochs of the label-permuted control model.
  int64_t permuted_epochs = 3;
  // Instances per batch handed to the methods.
  int64_t batch_size = 32;
  // Seed of the random deletion order, the randomised parameters and the permuted control.
  uint64_t seed = 0;
  bool progress = false;
  // Throws InvalidArgument naming the first field out of range.
  void validate() const;
  Json to_json() const;
};

// Attributions of `methods` for every example: [method][instance] scores over the first text.
std::vector<std::vector<std::vector<double>>> attribute(models::TextClassifier& model,
                                                        const std::vector<data::Example>& examples,
                                                        const data::Vocab& vocab,
                                                        const std::vector<NamedExplainer>& methods,
                                                        const explain::ExplainOptions& options, int64_t batch_size,
                                                        std::vector<int64_t>* targets = nullptr);

// Spearman rank correlation (average ranks for ties); nullopt-like NaN when undefined.
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// Average precision of `scores` against the positive positions `positives`.
double average_precision(const std::vector<double>& scores, const std::vector<int64_t>& positives);
// Token F1 of the top-|rationale| tokens by |score| (ties: earlier first) against `rationale`.
double rationale_token_f1(const std::vector<double>& scores, const std::vector<int64_t>& rationale);

// The whole evaluation as JSON (faithfulness, curves, agreement, sanity, plausibility, ranking).
Json evaluate_explanations(models::TextClassifier& model, const std::vector<data::Example>& examples,
                           const data::Vocab& vocab, const std::vector<NamedExplainer>& methods,
                           const EvaluationOptions& options);

}  // namespace lumen::analysis
