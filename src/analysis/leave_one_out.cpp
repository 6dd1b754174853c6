#include "analysis/leave_one_out.h"

#include <torch/torch.h>

#include <cmath>

#include <limits>
#include <numeric>

#include "core/parallel.h"
#include "data/batch_plan.h"

namespace lumen::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Output distributions [rows][C] of the variant sequences in `variants`.
at::Tensor variant_probs(models::TextClassifier& model, const data::EncodedSet& variants,
                         const std::vector<int64_t>& rows) {
  return output_probs(model->forward_training(variants.batch(rows)).logits).contiguous();
}

std::vector<std::vector<double>> loo_plain(models::TextClassifier& model, const data::EncodedSet& set,
                                           const std::vector<int64_t>& rows,
                                           const std::vector<std::vector<double>>& original) {
  std::vector<std::vector<double>> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& ids = set.ids[rows[i]];
    const int64_t n = static_cast<int64_t>(ids.size());
    for (int64_t t = 0; t < n; ++t) {
      if (n == 1) {
        out[i].push_back(kNaN);
        continue;
      }
      data::EncodedSet one;
      one.pair = set.pair;
      one.ids.push_back(ids);
      one.ids[0].erase(one.ids[0].begin() + t);
      if (set.pair) one.ids_b.push_back(set.ids_b[rows[i]]);
      one.labels.push_back(-1);
      at::Tensor p = output_probs(model->forward(one.batch({0})).logits).contiguous();
      out[i].push_back(tvd(p.data_ptr<double>(), original[i].data(), p.size(1)));
    }
  }
  return out;
}

std::vector<std::vector<double>> loo_batched(models::TextClassifier& model, const data::EncodedSet& set,
                                             const std::vector<int64_t>& rows,
                                             const std::vector<std::vector<double>>& original, int64_t max_rows) {
  std::vector<std::vector<double>> out(rows.size());
  data::EncodedSet variants;
  variants.pair = set.pair;
  std::vector<std::pair<int64_t, int64_t>> owner;  // (instance, token) of each variant
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& ids = set.ids[rows[i]];
    const int64_t n = static_cast<int64_t>(ids.size());
    out[i].assign(n, kNaN);
    if (n == 1) continue;
    for (int64_t t = 0; t < n; ++t) {
      std::vector<int64_t> v(ids);
      v.erase(v.begin() + t);
      variants.ids.push_back(std::move(v));
      if (set.pair) variants.ids_b.push_back(set.ids_b[rows[i]]);
      variants.labels.push_back(-1);
      owner.emplace_back(static_cast<int64_t>(i), t);
    }
  }
  const int64_t total = variants.size();
  // A fused BiLSTM re-runs only the changed half of each direction (models::fused_lstm_deletions).
  std::vector<std::array<int64_t, 2>> deletions;
  for (const auto& [i, t] : owner) deletions.push_back({i, t + 1});  // + 1: <s> comes first
  if (total > 0) {
    data::Batch originals = set.batch(rows);
    at::Tensor states = model->deletion_states(originals, deletions);
    if (states.defined()) {
      std::vector<int64_t> all(total);
      for (int64_t r = 0; r < total; ++r) all[r] = r;
      data::Batch vb = variants.batch(all);
      models::Encoded enc;
      enc.states = states.narrow(1, 0, vb.ids.size(1));
      if (set.pair) {
        // The second text is not changed: its encoding once per instance, repeated per deletion.
        at::Tensor q = model->encode(model->embed(originals.ids), originals, {}).query;
        std::vector<int64_t> who;
        for (const auto& ow : owner) who.push_back(ow.first);
        enc.query = q.index_select(0, torch::tensor(who, torch::kInt64));
      }
      at::Tensor p = output_probs(model->decode(enc, vb, {}).logits).contiguous();
      for (int64_t r = 0; r < total; ++r) {
        const auto [i, t] = owner[r];
        out[i][t] = tvd(p[r].data_ptr<double>(), original[i].data(), p.size(1));
      }
      return out;
    }
  }
  for (const auto& chunk : data::consecutive_batches(total, max_rows)) {
    at::Tensor p = variant_probs(model, variants, chunk);
    for (size_t k = 0; k < chunk.size(); ++k) {
      const auto [i, t] = owner[chunk[k]];
      out[i][t] = tvd(p[k].data_ptr<double>(), original[i].data(), p.size(1));
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<double>> leave_one_out_context_free(models::TextClassifier& model,
                                                            const models::Encoded& enc, const data::Batch& batch,
                                                            const std::vector<std::vector<double>>& original) {
  torch::NoGradGuard no_grad;
  const int64_t B = batch.size(), T = batch.ids.size(1), m = enc.states.size(2);
  at::Tensor scores = model->attention_scores(enc);  // [B, T]
  // keep[b, t, u]: token u takes part when token t is deleted.
  at::Tensor eye = torch::eye(T, torch::kBool);
  at::Tensor keep = batch.token_mask.unsqueeze(1) & eye.logical_not().unsqueeze(0);
  at::Tensor w = torch::softmax(scores.unsqueeze(1).expand({B, T, T}).masked_fill(keep.logical_not(), -INFINITY), 2);
  w = w.nan_to_num(0.0);  // one-token rows: nothing left (reported as NaN below)
  at::Tensor context = torch::bmm(w, enc.states).reshape({B * T, m});
  at::Tensor query;
  if (enc.query.defined()) query = enc.query.repeat_interleave(T, 0);
  at::Tensor p = output_probs(model->decoder(context, query)).reshape({B, T, -1}).contiguous();
  const at::Tensor tm = batch.token_mask.contiguous();
  std::vector<std::vector<double>> out(B);
  for (int64_t b = 0; b < B; ++b) {
    const bool* mrow = tm[b].data_ptr<bool>();
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t) n += mrow[t];
    for (int64_t t = 0; t < T; ++t) {
      if (!mrow[t]) continue;
      out[b].push_back(n == 1 ? kNaN : tvd(p[b][t].data_ptr<double>(), original[b].data(), p.size(2)));
    }
  }
  return out;
}

std::vector<std::vector<double>> leave_one_out(models::TextClassifier& model, const data::EncodedSet& set,
                                               const std::vector<int64_t>& rows,
                                               const std::vector<std::vector<double>>& original,
                                               const LooOptions& options) {
  torch::NoGradGuard no_grad;
  if (!options.fast) return loo_plain(model, set, rows, original);
  if (model->context_free_encoder() && model->has_pooling_attention()) {
    data::Batch batch = set.batch(rows);
    models::Encoded enc = model->encode(model->embed(batch.ids), batch, {});
    return leave_one_out_context_free(model, enc, batch, original);
  }
  // Groups of whole instances (consecutive in `rows`) with at most max_rows deletions each (one
  // long text may exceed it alone), so that memory stays flat in the text length and batch size.
  std::vector<int64_t> positions(rows.size()), deletions(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    positions[i] = static_cast<int64_t>(i);
    deletions[i] = static_cast<int64_t>(set.ids[rows[i]].size());
  }
  const auto groups = data::plan_batches(positions, deletions, {/*max_rows=*/options.max_rows, /*max_tokens=*/0},
                                         /*rows=*/deletions);
  // Groups are independent: spread over the cores.
  std::vector<std::vector<double>> out(rows.size());
  parallel_chunks(static_cast<int64_t>(groups.size()), 1, [&](int64_t g0, int64_t g1) {
    torch::NoGradGuard ng;  // grad mode is per thread
    for (int64_t g = g0; g < g1; ++g) {
      std::vector<int64_t> group;
      std::vector<std::vector<double>> orig;
      for (int64_t i : groups[g]) {
        group.push_back(rows[i]);
        orig.push_back(original[i]);
      }
      auto part = loo_batched(model, set, group, orig, options.max_rows);
      for (size_t k = 0; k < groups[g].size(); ++k) out[groups[g][k]] = std::move(part[k]);
    }
  });
  return out;
}

}  // namespace lumen::analysis
