// Adversarial training data: the successful adversarial examples of an attack, written with the
// label of their original (they should be classified as it), read back as training examples by
// `lumen train --augment FILE` (data/augmentation.h). One JSON object per line:
//   {"tokens": [...], "text": "the tokens joined by spaces", "label": "NAME", "source": "..."}
// `tokens` are kept exactly (a character edit stays the word it was), so re-reading does not
// depend on the tokenizer.
#pragma once
#include <string>
#include <vector>

#include "attack/attack.h"
#include "data/example.h"

namespace lumen::attack {

// Writes the succeeded results of `run` (atomically); returns how many were written. A pair
// example keeps its second text under "tokens_b".
int64_t write_augmentation(const std::string& path, const AttackRun& run, const std::vector<data::Example>& examples,
                           const std::vector<std::string>& label_names, const std::string& recipe);

}  // namespace lumen::attack
