// A padded batch of encoded examples, the one input type of every model.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "data/example.h"
#include "data/vocab.h"

namespace lumen::data {

struct Batch {
  // [B, T] int64: <s> token ids </s>, then <pad> (= 0).
  at::Tensor ids;
  // [B] int64: number of non-pad positions (tokens + 2).
  at::Tensor lengths;
  // [B, T] bool: non-pad positions (including <s> and </s>).
  at::Tensor mask;
  // [B, T] bool: real tokens only; attention and every analysis cover these positions.
  at::Tensor token_mask;
  // The same four for the second text of a pair; undefined for single texts.
  at::Tensor ids_b, lengths_b, mask_b, token_mask_b;
  // [B] int64 class indices (-1 where unknown).
  at::Tensor labels;
  // [B, T] bool: the positions of each row's known rationale (Example::rationale, shifted past
  // <s>); a row without one is all false. Undefined when no row of the batch has one.
  at::Tensor rationale;

  bool pair() const { return ids_b.defined(); }
  int64_t size() const { return ids.size(0); }
};

// Encodes and pads examples (tokens must be filled). Throws InvalidArgument on an empty batch
// or an example with no tokens (an all-padding row would make attention undefined).
Batch make_batch(const std::vector<const Example*>& examples, const Vocab& vocab, bool pair);

// Pads already-encoded token ids (without <s>/</s>) into the id/length/mask tensors.
void pad_ids(const std::vector<std::vector<int64_t>>& ids, at::Tensor& out_ids, at::Tensor& out_lengths,
             at::Tensor& out_mask, at::Tensor& out_token_mask);

// Rows `index` ([k] int64) of every tensor in `b`.
Batch select_rows(const Batch& b, const at::Tensor& index);

}  // namespace lumen::data
