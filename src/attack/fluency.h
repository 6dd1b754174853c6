// Fluency under the editor (the attack's fluency constraint): the editor's pseudo-perplexity
// (each position masked in turn, no label) of the words within 2 of every change in the edited
// text, over the same of the original around the positions the edits touch; at most 24
// positions on each side, evenly spread; positions past the editor's window (max_length - 2
// tokens) are not scored. A ratio of 1 means the edit reads as well as the original.
#pragma once
#include <cstdint>
#include <vector>

#include "models/masked_lm.h"
#include "perturb/edit.h"

namespace lumen::attack {

double fluency_ratio(models::MaskedLmImpl& editor, const std::vector<int64_t>& original,
                     const std::vector<perturb::Edit>& edits);
// The same for several edit lists of one original, in one editor pass per 256 rows.
std::vector<double> fluency_ratios(models::MaskedLmImpl& editor, const std::vector<int64_t>& original,
                                   const std::vector<std::vector<perturb::Edit>>& edits);

}  // namespace lumen::attack
