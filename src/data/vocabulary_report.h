// What tokenisation and the vocabulary do to a training split, and a warning when they collapse
// it: when most distinct words (or most token occurrences) end up as the number placeholder or
// <unk>, or the vocabulary keeps only a sliver of the distinct words, the model cannot tell the
// texts apart and trains to chance with nothing else saying why.
#pragma once
#include <cstdint>
#include <string>

#include "core/json.h"
#include "data/example.h"
#include "data/tokenizer.h"
#include "data/vocab.h"

namespace lumen::data {

struct VocabularyReport {
  // Distinct words of the training texts as written (number folding undone).
  int64_t word_types = 0;
  // Of them: replaced by the number placeholder; mapped to <unk> (fewer than min_count uses).
  int64_t folded_types = 0;
  int64_t unknown_types = 0;
  // Token occurrences in the training texts, and how many became the placeholder or <unk>.
  int64_t tokens = 0;
  int64_t folded_tokens = 0;
  int64_t unknown_tokens = 0;
  // Vocabulary size, specials included.
  int64_t vocabulary = 0;
  int64_t min_count = 1;
  NumberRule numbers = NumberRule::kNumeric;
  std::string number_token;

  // Share of the distinct words / of the occurrences lost to the placeholder or <unk>.
  double lost_type_share() const;
  double lost_token_share() const;
  // Collapsed: most occurrences are lost; or most distinct words are lost and with them over a
  // quarter of the occurrences; or the vocabulary keeps under 5% of the distinct words (and
  // fewer than 50 of them).
  bool collapsed() const;
  // One paragraph naming the collapse and what to change; "" when the corpus is not collapsed.
  std::string warning() const;
  Json to_json() const;
};

// The report for `ds` (tokenized by tokenize_dataset, whose `tokenize` report it takes) and the
// vocabulary built from its training split.
VocabularyReport vocabulary_report(const Dataset& ds, const TokenizeReport& tokenize, const Vocab& vocab,
                                   int64_t min_count, const TokenizerOptions& tokenizer);

}  // namespace lumen::data
