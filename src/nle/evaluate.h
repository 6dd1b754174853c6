// How good and how faithful a learned generator's explanations are, per explanation and
// summarised per arrangement:
//  - task accuracy, with and without explanations (the accuracy table);
//  - plausibility: the explanation names the true rationale's words (synthetic task), matches
//    the human explanation (exact match, token F1);
//  - the counterfactual erasure test: remove from the input the words the explanation cites and
//    see whether the prediction moves (probability drop of the predicted label, flip rate),
//    beside the same removal for a shuffled explanation (another example's) and for as many
//    random words;
//  - the counterfactual insertion test (Atanasova et al. 2023): insert a word; when the
//    prediction flips, a faithful explanation of the edited input mentions the inserted word;
//  - leakage-adjusted simulatability (Hase et al. 2020): a simulator trained to predict the
//    model's labels from input and explanation; LAS is the mean over the leaking and
//    non-leaking explanations (the simulator's prediction from the explanation alone matches
//    the model's, or not) of acc(input + explanation) - acc(input alone).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "nle/dataset.h"
#include "nle/system.h"

namespace lumen::nle {

struct NleEvalOptions {
  // Test examples used (0 = all).
  int64_t limit = 0;
  // Words tried per example by the insertion test (0 = no insertion test).
  int64_t insertion_candidates = 10;
  // Train a simulator and report LAS.
  bool las = true;
  // Bootstrap resamples of the faithful-minus-shuffled difference.
  int64_t bootstrap = 1000;
  uint64_t seed = 13;
  bool progress = true;
  void validate() const;
  Json to_json() const;
};

// The erasure of one explanation's cited words.
struct ErasureResult {
  std::vector<std::string> cited;  // the explanation's content words found in the input
  double drop = 0;                 // p(predicted label) before minus after
  bool flipped = false;
  Json to_json() const;
};

struct NleRecord {
  int64_t index = 0;  // into the test split
  int64_t gold = -1, predicted = -1;
  std::vector<std::string> explanation, gold_explanation;
  std::optional<bool> rationale_named;  // synthetic task only
  double token_f1 = 0;
  ErasureResult erasure, shuffled, random;
  int64_t insertions = 0, insertion_flips = 0, insertion_unmentioned = 0;
  // LAS: the simulator's predictions match the model's with input + explanation, input alone,
  // explanation alone (leakage).
  std::optional<bool> sim_xe, sim_x, sim_e;
  Json to_json(const std::vector<std::string>& label_names) const;
};

struct ArrangementEvaluation {
  Arrangement arrangement = Arrangement::kJoint;
  int64_t n = 0;
  double accuracy = 0;
  std::optional<double> rationale_named;  // fraction of explanations naming the rationale
  double exact_match = 0, token_f1 = 0;
  // Erasure test (over explanations that cite at least one input word).
  struct Erasure {
    int64_t n = 0;
    double mean_drop = 0, flip_rate = 0;
    Json to_json() const;
  } faithful, shuffled, random;
  // Faithful minus shuffled mean drop, with its bootstrap 95% interval.
  double separation = 0, separation_low = 0, separation_high = 0;
  // Insertion test.
  int64_t insertion_instances_flipped = 0, insertion_instances_unfaithful = 0;
  int64_t insertion_flips = 0, insertion_unmentioned = 0;
  // LAS, its two bins and the same simulator on shuffled explanations.
  std::optional<double> las, las_leaking, las_nonleaking, las_shuffled;
  int64_t leaking = 0;
  std::vector<NleRecord> records;
  Json summary_json() const;
};

struct NleEvaluation {
  std::string data;
  int64_t test_examples = 0;
  // Accuracy of the classifier trained without explanations, and of the explanation reader
  // given the human explanations (an upper bound for explain-then-predict).
  double accuracy_without_explanations = 0;
  std::optional<double> accuracy_reader_on_gold;
  std::vector<ArrangementEvaluation> arrangements;
  Json summary_json() const;
  // A Markdown table of the accuracies and faithfulness figures.
  std::string table() const;
};

NleEvaluation evaluate_nle(NleSystem& system, const NleDataset& ds, const NleEvalOptions& options);

// The explanation's content words (letters, not stop words) that occur in the input.
std::vector<std::string> cited_words(const std::vector<std::string>& explanation, const NleInput& input);
// The input without every occurrence of `words`.
NleInput erase_words(const NleInput& input, const std::vector<std::string>& words);
// Token F1 of `a` against `b` (bags of words).
double token_f1(const std::vector<std::string>& a, const std::vector<std::string>& b);
// LAS from per-example flags (Hase et al. 2020): nullopt when there are no examples.
struct LasResult {
  std::optional<double> las, leaking, nonleaking;
  int64_t n_leaking = 0;
};
LasResult leakage_adjusted_simulatability(const std::vector<bool>& xe, const std::vector<bool>& x, const std::vector<bool>& e);

}  // namespace lumen::nle
