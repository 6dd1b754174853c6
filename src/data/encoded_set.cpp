#include "data/encoded_set.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"

namespace lumen::data {

EncodedSet EncodedSet::from(const std::vector<Example>& examples, const Vocab& vocab, bool pair) {
  EncodedSet s;
  s.pair = pair;
  for (const auto& e : examples) {
    if (e.tokens.empty()) throw InvalidArgument("data: " + e.source + ": example has no tokens");
    s.ids.push_back(vocab.encode(e.tokens));
    if (pair) s.ids_b.push_back(vocab.encode(e.tokens_b));
    s.labels.push_back(e.label);
    for (int64_t r : e.rationale)
      if (r < 0 || r >= static_cast<int64_t>(e.tokens.size()))
        throw InvalidArgument("data: " + e.source + ": rationale index " + std::to_string(r) + " outside the text's " +
                              std::to_string(e.tokens.size()) + " tokens");
    s.rationales.push_back(e.rationale);
    s.tokens += static_cast<int64_t>(e.tokens.size() + e.tokens_b.size());
  }
  return s;
}

Batch EncodedSet::batch(const std::vector<int64_t>& rows) const {
  std::vector<std::vector<int64_t>> a, b;
  std::vector<int64_t> y;
  for (int64_t r : rows) {
    a.push_back(ids[r]);
    if (pair) b.push_back(ids_b[r]);
    y.push_back(labels[r]);
  }
  Batch batch;
  pad_ids(a, batch.ids, batch.lengths, batch.mask, batch.token_mask);
  if (pair) pad_ids(b, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
  batch.labels = torch::tensor(y, torch::kInt64);
  bool any = false;
  const auto has = [&](int64_t r) { return r < static_cast<int64_t>(rationales.size()) && !rationales[r].empty(); };
  for (int64_t r : rows) any |= has(r);
  if (any) {
    batch.rationale = torch::zeros(batch.ids.sizes(), torch::kBool);
    auto acc = batch.rationale.accessor<bool, 2>();
    for (size_t i = 0; i < rows.size(); ++i)
      if (has(rows[i]))
        for (int64_t t : rationales[rows[i]]) acc[i][t + 1] = true;  // position 0 is <s>
  }
  return batch;
}

int64_t EncodedSet::with_rationale() const {
  int64_t n = 0;
  for (const auto& r : rationales) n += !r.empty();
  return n;
}

std::vector<int64_t> EncodedSet::lengths() const {
  std::vector<int64_t> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    out[i] = static_cast<int64_t>(std::max(ids[i].size(), pair ? ids_b[i].size() : size_t{0})) + 2;
  return out;
}

}  // namespace lumen::data
