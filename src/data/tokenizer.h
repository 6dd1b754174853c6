// Word-level tokenizer of the paper's preprocessing: punctuation split off, lower-casing, and
// number folding. By default only what a reader would call a number is folded ("42", "3.5",
// "1,000", "2nd", "1990s"); Jain & Wallace's reference code folds every token that contains a
// digit (NumberRule::kAnyDigit, shared/reference/jain_wallace.md, "Preprocessing"), which turns
// product codes, "mp3", "covid19" or "3pm" into the placeholder too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::data {

// Which tokens become the number placeholder.
enum class NumberRule {
  kNumeric,   // numbers only: digits with "." or "," between digits, optionally followed by an
              // ordinal or plural suffix (st, nd, rd, th, s): "7", "3.5", "1,000", "21st", "1990s"
  kAnyDigit,  // every token that contains a digit (the Jain & Wallace reference code)
  kNone,      // no folding
};
// numeric | any-digit | none. Throws InvalidArgument listing the choices.
NumberRule parse_number_rule(const std::string& s);
std::string to_string(NumberRule r);

struct TokenizerOptions {
  // Lower-case letters (ASCII and Latin-1).
  bool lowercase = true;
  // Which tokens are replaced by `number_token`.
  NumberRule numbers = NumberRule::kNumeric;
  // The placeholder for folded numbers.
  std::string number_token = "<num>";
  // Split punctuation into tokens of its own (an apostrophe inside a word stays).
  bool split_punctuation = true;
  // Keep at most this many tokens per text; 0 keeps all. Truncation is counted and reported.
  int64_t max_length = 0;
  void validate() const;
  Json to_json() const;
  // Runs written before the number rule existed store `fold_numbers`: true meant kAnyDigit.
  static TokenizerOptions from_json(const Json& j);
};

struct TokenizeResult {
  std::vector<std::string> tokens;
  // The words that were replaced by the number placeholder, as written (lower-cased when
  // `lowercase`), in text order.
  std::vector<std::string> folded;
  // True when max_length cut the text.
  bool truncated = false;
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {});
  // Tokenizes UTF-8 text. Throws DataError "invalid UTF-8 at byte N" on malformed input.
  TokenizeResult tokenize(const std::string& text) const;
  const TokenizerOptions& options() const { return options_; }

 private:
  TokenizerOptions options_;
};

}  // namespace lumen::data
