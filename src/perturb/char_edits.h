// Character edits of a word (DeepWordBug's transformations, and TextAttack's homoglyph swap):
// swap two neighbouring inner letters, delete an inner letter, insert a letter, substitute a
// letter, or replace one letter by a look-alike from another script (Latin a -> Cyrillic а).
// Words of fewer than 3 characters and words without letters are left alone.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"

namespace lumen::perturb {

enum class CharEdit { kSwap, kDelete, kInsert, kSubstitute, kHomoglyph };
std::string to_string(CharEdit e);

struct CharCandidate {
  std::string word;
  CharEdit edit;
};

// Up to `per_kind` distinct edited words of each kind in `kinds` (positions and letters drawn
// from `rng`), never the word itself.
std::vector<CharCandidate> char_candidates(const std::string& word, const std::vector<CharEdit>& kinds, int64_t per_kind,
                                           Rng& rng);

// Levenshtein distance between two UTF-8 strings, counted in code points.
int64_t char_distance(const std::string& a, const std::string& b);

}  // namespace lumen::perturb
