// Examples encoded once as vocabulary ids, for fast batching: the training, evaluation and
// analysis passes build their batches from rows of an EncodedSet.
#pragma once
#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "data/example.h"
#include "data/vocab.h"

namespace lumen::data {

struct EncodedSet {
  // Token ids of each example's first (and, for pairs, second) text, without <s> / </s>.
  std::vector<std::vector<int64_t>> ids, ids_b;
  std::vector<int64_t> labels;
  // Each example's known rationale (indices into its first text's tokens); empty when unknown.
  std::vector<std::vector<int64_t>> rationales;
  bool pair = false;
  // Tokens of all texts together.
  int64_t tokens = 0;
  // Throws InvalidArgument naming the source of an example without tokens.
  static EncodedSet from(const std::vector<Example>& examples, const Vocab& vocab, bool pair);
  // Number of examples with a known rationale.
  int64_t with_rationale() const;
  // The padded batch of `rows` (in that order), with Batch::rationale when a row has one.
  Batch batch(const std::vector<int64_t>& rows) const;
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  // Padded length of each example's batch row: max(first, second text) + 2.
  std::vector<int64_t> lengths() const;
};

}  // namespace lumen::data
