// Extra training examples written by `lumen augment` (attack/augment.h): one JSON object per line
// with "tokens" (kept exactly, not tokenized again), "label" (a label name), optional "tokens_b"
// for pairs, "text" and "source". `lumen train --augment FILE` appends them to the training split.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace lumen::data {

// Labels map to `label_names`; DataError naming the line for an unknown label, a malformed
// line or an empty token list; IoError when the file cannot be read.
std::vector<Example> read_augmentation(const std::string& path, const std::vector<std::string>& label_names);

}  // namespace lumen::data
