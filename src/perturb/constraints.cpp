#include "perturb/constraints.h"

#include <cmath>

#include "core/error.h"
#include "perturb/stop_words.h"

namespace lumen::perturb {

void ConstraintOptions::validate() const {
  if (!(max_word_share > 0 && max_word_share <= 1))
    throw InvalidArgument("constraints: max_word_share must be in (0, 1], got " + std::to_string(max_word_share));
  if (max_words < 0) throw InvalidArgument("constraints: max_words must be >= 0");
  if (!(min_cosine >= -1 && min_cosine <= 1)) throw InvalidArgument("constraints: min_cosine must be in [-1, 1]");
  if (max_char_distance < 0) throw InvalidArgument("constraints: max_char_distance must be >= 0");
}

Json ConstraintOptions::to_json() const {
  return {{"max_word_share", max_word_share}, {"max_words", max_words},     {"stop_words", stop_words},
          {"min_cosine", min_cosine},         {"same_pos", same_pos},       {"max_char_distance", max_char_distance},
          {"protected_words", protected_words}, {"repeat_modification", false}};
}

Constraints::Constraints(ConstraintOptions options, const NeighbourTable* neighbours, const WordNet* wordnet)
    : options_(std::move(options)), neighbours_(neighbours), wordnet_(wordnet) {
  options_.validate();
  if (options_.min_cosine > 0 && neighbours_ == nullptr)
    throw InvalidArgument("constraints: min_cosine needs word vectors (a neighbour table)");
  if (options_.same_pos && wordnet_ == nullptr) throw InvalidArgument("constraints: same_pos needs WordNet");
  protected_.insert(options_.protected_words.begin(), options_.protected_words.end());
}

bool Constraints::modifiable(const std::string& word) const {
  if (!has_letter(word) || protected_.count(word)) return false;
  return !(options_.stop_words && english_stop_words().count(word));
}

int64_t Constraints::word_budget(int64_t n) const {
  int64_t b = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(options_.max_word_share * n - 1e-9)));
  if (options_.max_words > 0) b = std::min(b, options_.max_words);
  return std::min(b, n);
}

bool Constraints::swap_allowed(const std::string& word, int64_t id, const std::string& candidate, int64_t cid) const {
  if (candidate == word || candidate.empty() || (id >= 0 && cid == id)) return false;  // the model would see no change
  if (options_.min_cosine > 0 && neighbours_->cosine_of(id, cid) < options_.min_cosine) return false;
  if (options_.same_pos) {
    const uint8_t a = wordnet_->parts_of_speech(word), b = wordnet_->parts_of_speech(candidate);
    if (a != 0 && b != 0 && (a & b) == 0) return false;
  }
  return true;
}

}  // namespace lumen::perturb
