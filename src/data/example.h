// The data model: an Example (one text or a text pair, its label, and for synthetic tasks the
// true rationale) and a Dataset with train/dev/test splits.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/json.h"
#include "data/tokenizer.h"

namespace lumen::data {

struct Example {
  // Raw text (UTF-8); for pairs the premise / passage.
  std::string text;
  // Second text for pairs (hypothesis / question); empty for single texts.
  std::string text_b;
  // Tokens of `text` and `text_b` (filled by tokenize_dataset or by synthetic generators).
  std::vector<std::string> tokens, tokens_b;
  // Class index into Dataset::label_names; -1 while unknown.
  int64_t label = -1;
  // Label as read from the source, before mapping to an index.
  std::string label_name;
  // Indices into `tokens` of the true rationale (synthetic tasks, or a JSONL field); empty when
  // unknown.
  std::vector<int64_t> rationale;
  // The rationale as [start, end) character spans of `text` (code points), as a JSONL field
  // gave it; tokenize_dataset turns them into `rationale` and clears them.
  std::vector<std::pair<int64_t, int64_t>> rationale_spans;
  // Where it came from: "file:line" or a file name, for error messages.
  std::string source;
};

enum class Split { kTrain, kDev, kTest };
// "train" | "dev" | "test" (also "validation", "val", "valid" -> dev). Throws InvalidArgument.
Split parse_split(const std::string& s);
std::string split_name(Split s);

struct Dataset {
  std::string name;
  // True for text pairs (NLI, QA).
  bool pair = false;
  std::vector<std::string> label_names;
  std::vector<Example> train, dev, test;

  std::vector<Example>& split(Split s);
  const std::vector<Example>& split(Split s) const;
};

struct TokenizeReport {
  int64_t texts = 0;
  int64_t truncated = 0;
  // Words of the training split replaced by the number placeholder, as written, with counts.
  std::unordered_map<std::string, int64_t> folded_train;
};

// Tokenizes every example that has no tokens yet; errors name the example's source. A JSONL
// rationale is checked against the tokens: token indices must lie inside the text (those past a
// max_length cut are dropped), character spans must fall on token boundaries and become the
// indices of the tokens inside them.
TokenizeReport tokenize_dataset(Dataset& ds, const Tokenizer& tokenizer);

// Maps label names to indices: label_names (if empty) become the sorted names of the training
// split; a dev/test label not among them throws DataError naming its source.
void assign_labels(Dataset& ds);

// One-line JSON description of an example (tokens, label, rationale) for `lumen data show`.
Json example_to_json(const Example& e, const Dataset& ds);

}  // namespace lumen::data
