// Constraints on word swaps (TextAttack's names in brackets), checked on whole candidate lists:
// how many words may change (MaxWordsPerturbed), stop words and tokens without letters are never
// modified (StopwordModification), a position changes at most once (RepeatModification),
// embedding cosine between a word and its replacement (WordEmbeddingDistance), a shared WordNet
// part of speech (PartOfSpeech, without a tagger: the parts WordNet lists for each word), the
// total character edit distance (LevenshteinEditDistance), and words the user protects.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/json.h"
#include "perturb/neighbours.h"
#include "perturb/wordnet.h"

namespace lumen::perturb {

struct ConstraintOptions {
  // Largest share of a text's words that may change (rounded up, at least one word); 1 = any.
  double max_word_share = 1.0;
  // At most this many changed words; 0 = no bound besides the share.
  int64_t max_words = 0;
  // Stop words (english_stop_words) are never modified. Tokens without a letter never are.
  bool stop_words = true;
  // Minimum cosine between a word and its replacement in the neighbour table's vectors; 0 = off.
  double min_cosine = 0.0;
  // The replacement shares a part of speech with the word in WordNet (words it lacks pass).
  bool same_pos = false;
  // Largest total character edit distance between the original and the edited words; 0 = off.
  int64_t max_char_distance = 0;
  // Words (lower case) that are never modified.
  std::vector<std::string> protected_words;
  void validate() const;
  Json to_json() const;
};

class Constraints {
 public:
  // neighbours is needed when min_cosine > 0, wordnet when same_pos; both may outlive nothing:
  // the caller keeps them alive.
  Constraints(ConstraintOptions options, const NeighbourTable* neighbours, const WordNet* wordnet);
  const ConstraintOptions& options() const { return options_; }
  // The word at a position may be modified at all.
  bool modifiable(const std::string& word) const;
  // Changed words allowed in a text of n tokens.
  int64_t word_budget(int64_t n) const;
  // Whether replacing `word` (vocabulary id `id`, -1 unknown) by `candidate` (id `cid`) passes
  // the per-swap constraints (cosine, part of speech; an unchanged id or word never passes).
  bool swap_allowed(const std::string& word, int64_t id, const std::string& candidate, int64_t cid) const;

 private:
  ConstraintOptions options_;
  const NeighbourTable* neighbours_;
  const WordNet* wordnet_;
  std::unordered_set<std::string> protected_;
};

}  // namespace lumen::perturb
