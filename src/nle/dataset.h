// Data with human-written (or templated) explanations: e-SNLI and CoS-E in the layouts they are
// distributed in, JSONL/CSV files with an explanation field, and `synthetic-nle`, a built-in
// pair task whose label, true rationale and templated explanation are all known.
//
// Specs: `esnli:DIR_OR_FILE`, `cose:FILE`, `jsonl:FILE?text=..&text_b=..&label=..&explanation=..`,
// `csv:FILE?...`, `synthetic-nle?n=4000&seed=13`. Errors name the file and line.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"

namespace lumen::nle {

struct NleExample {
  // Text (or pair), label and, for the synthetic task, the true rationale (indices into
  // example.tokens, the premise).
  data::Example example;
  // The explanation's tokens (the first explanation when the source has several).
  std::vector<std::string> explanation;
  std::string explanation_text;
};

struct NleDataset {
  std::string name;
  bool pair = false;
  std::vector<std::string> label_names;
  std::vector<NleExample> train, dev, test;
  std::vector<NleExample>& split(data::Split s);
  const std::vector<NleExample>& split(data::Split s) const;
};

struct NleDataSpec {
  // esnli | cose | jsonl | csv | tsv | synthetic-nle
  std::string format;
  std::string path;
  // Field (JSONL) or column (CSV) names for jsonl/csv/tsv.
  std::string text = "text", text_b, label = "label", explanation = "explanation", split_column = "split";
  // synthetic-nle: examples and generator seed; every format: the seed of the split.
  int64_t n = 4000;
  uint64_t seed = 13;
  // synthetic-nle: what the other premise sentences say: "attributes" (sizes, ages, shapes:
  // one colour in the premise) or "colours" (every object has a colour: the explanation must
  // bind the asked object to its colour).
  std::string distractors = "attributes";
  // Fractions for sources without dev/test splits.
  double dev_fraction = 0.1, test_fraction = 0.2;
  // Keep at most this many examples per split (0 = all).
  int64_t limit = 0;
  void validate() const;
  std::string to_string() const;
};

// Throws InvalidArgument naming an unknown format or key.
NleDataSpec parse_nle_spec(const std::string& spec);

// Reads, splits (when the source has no split), tokenizes (data::Tokenizer defaults) and maps
// labels. Throws IoError / DataError with file and line; an example without an explanation is a
// DataError in the training split and kept (empty explanation) elsewhere.
NleDataset load_nle_dataset(const NleDataSpec& spec);

// The synthetic task. Premise: 2-4 sentences "the OBJECT is WORD ." about distinct objects, one
// of them a colour (with colour distractors: every one); hypothesis "the OBJECT is COLOUR" about
// that object; entailment when the colours agree, contradiction otherwise. Rationale: the
// premise's object and colour tokens of that sentence. Explanation: "the premise says the
// OBJECT is COLOUR" (+ ", not HYPOTHESIS-COLOUR").
NleDataset synthetic_nle(int64_t n, uint64_t seed, bool colour_distractors = false);

// The rationale's words (example.tokens at example.rationale), in order.
std::vector<std::string> rationale_words(const data::Example& e);

Json nle_example_to_json(const NleExample& e, const std::vector<std::string>& label_names);

}  // namespace lumen::nle
