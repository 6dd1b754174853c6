// The re-check of every emitted adversarial example, by code separate from the search: the edits
// applied to the original give the perturbed words; every edit is a replacement of a modifiable
// word at its own position, inside the text; the recipe's budget and constraints hold when
// recomputed from the options (word share and count, stop words, protected words, cosine in the
// vectors themselves, WordNet part of speech, character distance); no special token appears;
// and a fresh one-text forward pass (data::make_batch + TextClassifier::forward, not the
// evaluator) gives the claimed prediction, different from the label, and the claimed
// probabilities.
#pragma once
#include <string>
#include <vector>

#include "attack/attack.h"
#include "core/json.h"

namespace lumen::attack {

struct Violation {
  int64_t index;
  std::string what;
};

struct VerifyReport {
  int64_t checked = 0;  // succeeded examples re-checked
  std::vector<Violation> violations;
  Json to_json() const;
};

// vectors: the [V, E] vectors the cosines refer to (undefined when the recipe has no cosine).
VerifyReport verify_attacks(models::TextClassifier& model, const data::Vocab& vocab, const AttackRun& run,
                            const AttackOptions& options, const at::Tensor& vectors, bool pair,
                            const std::vector<data::Example>& examples);

// The attack and its re-check together (what `lumen attack` and `lumen augment` run).
struct CheckedAttack {
  AttackRun run;
  VerifyReport check;
};
CheckedAttack attack_and_verify(models::TextClassifier& model, const data::Vocab& vocab,
                                const std::vector<data::Example>& examples, const AttackOptions& options, bool pair,
                                const std::function<void(int64_t)>& progress = {});

}  // namespace lumen::attack
