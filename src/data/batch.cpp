#include "data/batch.h"

#include <torch/torch.h>

#include "core/error.h"

namespace lumen::data {

void pad_ids(const std::vector<std::vector<int64_t>>& ids, at::Tensor& out_ids, at::Tensor& out_lengths,
             at::Tensor& out_mask, at::Tensor& out_token_mask) {
  const int64_t b = static_cast<int64_t>(ids.size());
  int64_t t = 0;
  for (const auto& v : ids) t = std::max<int64_t>(t, static_cast<int64_t>(v.size()) + 2);
  out_ids = torch::zeros({b, t}, torch::kInt64);
  out_lengths = torch::empty({b}, torch::kInt64);
  out_token_mask = torch::zeros({b, t}, torch::kBool);
  auto idp = out_ids.accessor<int64_t, 2>();
  auto lp = out_lengths.accessor<int64_t, 1>();
  auto tm = out_token_mask.accessor<bool, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const auto& v = ids[i];
    const int64_t n = static_cast<int64_t>(v.size());
    idp[i][0] = Vocab::kBos;
    for (int64_t j = 0; j < n; ++j) {
      idp[i][j + 1] = v[j];
      tm[i][j + 1] = true;
    }
    idp[i][n + 1] = Vocab::kEos;
    lp[i] = n + 2;
  }
  out_mask = torch::arange(t, torch::kInt64).unsqueeze(0) < out_lengths.unsqueeze(1);
}

Batch make_batch(const std::vector<const Example*>& examples, const Vocab& vocab, bool pair) {
  if (examples.empty()) throw InvalidArgument("batch: examples must not be empty");
  std::vector<std::vector<int64_t>> a, b;
  std::vector<int64_t> labels;
  for (const Example* e : examples) {
    if (e->tokens.empty()) throw InvalidArgument("batch: " + e->source + ": text has no tokens");
    a.push_back(vocab.encode(e->tokens));
    if (pair) {
      if (e->tokens_b.empty()) throw InvalidArgument("batch: " + e->source + ": second text has no tokens");
      b.push_back(vocab.encode(e->tokens_b));
    }
    labels.push_back(e->label);
  }
  Batch batch;
  pad_ids(a, batch.ids, batch.lengths, batch.mask, batch.token_mask);
  if (pair) pad_ids(b, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
  batch.labels = torch::tensor(labels, torch::kInt64);
  return batch;
}

Batch select_rows(const Batch& b, const at::Tensor& index) {
  Batch out;
  auto trim = [&](const at::Tensor& ids, const at::Tensor& lengths, at::Tensor& o_ids, at::Tensor& o_len,
                  at::Tensor& o_mask, at::Tensor& o_tm, const at::Tensor& mask, const at::Tensor& tm) {
    o_len = lengths.index_select(0, index);
    const int64_t t = o_len.max().item<int64_t>();
    o_ids = ids.index_select(0, index).narrow(1, 0, t).contiguous();
    o_mask = mask.index_select(0, index).narrow(1, 0, t).contiguous();
    o_tm = tm.index_select(0, index).narrow(1, 0, t).contiguous();
  };
  trim(b.ids, b.lengths, out.ids, out.lengths, out.mask, out.token_mask, b.mask, b.token_mask);
  if (b.pair())
    trim(b.ids_b, b.lengths_b, out.ids_b, out.lengths_b, out.mask_b, out.token_mask_b, b.mask_b, b.token_mask_b);
  out.labels = b.labels.index_select(0, index);
  if (b.rationale.defined()) out.rationale = b.rationale.index_select(0, index).narrow(1, 0, out.ids.size(1)).contiguous();
  return out;
}

}  // namespace lumen::data
