// Where a dataset comes from: `[FORMAT:]PATH[?key=value&...]` or a built-in name
// (`spamassassin`, `synthetic-keywords`, `synthetic-where`). Examples:
//   reviews.csv?text=review&label=stars      snli:data/snli_1.0      sst:trees?classes=fine
//   20ng:data/20news?groups=sci.med,sci.space  synthetic-keywords?n=4000&length=26
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"

namespace lumen::data {

struct DataSpec {
  // csv | tsv | jsonl | pair | sst | imdb | agnews | 20ng | snli | babi | spamassassin |
  // synthetic-keywords | synthetic-where. Inferred from the path's extension when omitted.
  std::string format;
  // File or folder; empty for built-in datasets.
  std::string path;
  // Column (CSV/TSV) or field (JSONL) of the text. Default "text" ("text_a" for pair).
  std::string text;
  // Column or field of the second text; non-empty makes it a pair dataset. Default "" ("text_b"
  // for pair).
  std::string text_b;
  // Column or field of the label.
  std::string label = "label";
  // JSONL: field of each row's human rationale (absent or null: none), either a list of token
  // indices into the tokenized text or a list of [start, end) character spans of the text
  // (Unicode code points, as Python indexes a string); spans must fall on token boundaries.
  // Empty: rationales are not read.
  std::string rationale;
  // Column or field naming each row's split (train/dev/test); used when present.
  std::string split_column = "split";
  // 20ng: the two (or more) newsgroups to classify, comma-separated.
  std::string groups = "rec.sport.baseball,rec.sport.hockey";
  // sst: "binary" (neutral removed, as in the paper) or "fine" (5 classes).
  std::string classes = "binary";
  // babi: task number 1..20.
  int64_t task = 1;
  // Synthetic tasks: number of examples, mean length in tokens, vocabulary of filler words.
  int64_t n = 5000;
  int64_t length = 26;
  int64_t filler_vocab = 2000;
  // Seed of the deterministic stratified split (and of synthetic generation).
  uint64_t seed = 13;
  // Fractions used when the source has no dev or test split.
  double dev_fraction = 0.1;
  double test_fraction = 0.1;
  // Read at most this many examples per split (0 = all); for quick looks at big corpora.
  int64_t limit = 0;

  void validate() const;
  // The spec string back (stored in run configs).
  std::string to_string() const;
};

// Parses a spec string. Throws InvalidArgument naming an unknown key or format, and listing
// the known ones.
DataSpec parse_data_spec(const std::string& spec);

// Reads the dataset, splits it when the source has no split, and maps labels (no tokenizing).
// Throws IoError (missing file), DataError (malformed content, with file and line).
Dataset load_dataset(const DataSpec& spec);

struct BuiltinDataset {
  std::string name, description;
};
std::vector<BuiltinDataset> builtin_datasets();

}  // namespace lumen::data
