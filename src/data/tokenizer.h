// Word-level tokenizer of the paper's preprocessing: punctuation split off, lower-casing, and
// number folding (Jain & Wallace map every token containing a digit to one placeholder).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::data {

struct TokenizerOptions {
  // Lower-case letters (ASCII and Latin-1).
  bool lowercase = true;
  // Replace every token that contains a digit by `number_token`.
  bool fold_numbers = true;
  // The placeholder for folded numbers.
  std::string number_token = "<num>";
  // Split punctuation into tokens of its own (an apostrophe inside a word stays).
  bool split_punctuation = true;
  // Keep at most this many tokens per text; 0 keeps all. Truncation is counted and reported.
  int64_t max_length = 0;
  void validate() const;
  Json to_json() const;
  static TokenizerOptions from_json(const Json& j);
};

struct TokenizeResult {
  std::vector<std::string> tokens;
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
