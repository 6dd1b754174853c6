// Pretrained word vectors to initialise the embedding: GloVe / fastText text format (an
// optional "COUNT DIM" header line) and word2vec binary. Only words of the vocabulary are kept.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "data/vocab.h"

namespace lumen::data {

struct WordVectorReport {
  int64_t dim = 0;
  // Vocabulary entries (specials excluded) that received a pretrained vector.
  int64_t covered = 0;
  int64_t vocab = 0;
  double coverage() const { return vocab > 0 ? static_cast<double>(covered) / vocab : 0.0; }
};

// Copies the vectors of vocabulary words into `weight` ([V, dim] float, modified in place);
// rows of uncovered words are left as they are. A file whose dimension differs from
// weight.size(1) is an InvalidArgument; a malformed line a DataError with its line number.
WordVectorReport load_word_vectors(const std::string& path, const Vocab& vocab, at::Tensor& weight);

}  // namespace lumen::data
