#include "analysis/leave_one_out.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "data/batch_plan.h"
#include "perturb/variant_evaluator.h"

namespace lumen::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

// Every deletion of `rows` through the variant evaluator (a fused BiLSTM reuses the unchanged
// prefix and suffix states of each deletion; a pair's second text is encoded once per instance).
std::vector<std::vector<double>> loo_batched(models::TextClassifier& model, const data::EncodedSet& set,
                                             const std::vector<int64_t>& rows,
                                             const std::vector<std::vector<double>>& original, int64_t max_tokens) {
  std::vector<std::vector<double>> out(rows.size());
  std::vector<perturb::Text> originals(rows.size());
  std::vector<perturb::Variant> variants;
  std::vector<std::pair<int64_t, int64_t>> owner;  // (instance, token) of each variant
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& ids = set.ids[rows[i]];
    originals[i] = {ids, set.pair ? set.ids_b[rows[i]] : std::vector<int64_t>{}};
    const int64_t n = static_cast<int64_t>(ids.size());
    out[i].assign(n, kNaN);
    if (n == 1) continue;
    for (int64_t t = 0; t < n; ++t) {
      perturb::Variant v{static_cast<int64_t>(i), ids, originals[i].b};
      v.a.erase(v.a.begin() + t);
      variants.push_back(std::move(v));
      owner.emplace_back(static_cast<int64_t>(i), t);
    }
  }
  perturb::EvaluatorOptions eo;
  eo.max_tokens = max_tokens;
  const at::Tensor p = perturb::evaluate_variants(model, originals, variants, eo);
  for (size_t r = 0; r < owner.size(); ++r) {
    const auto [i, t] = owner[r];
    out[i][t] = tvd(p[r].data_ptr<double>(), original[i].data(), p.size(1));
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
  // long text may exceed it alone), so that memory stays flat in the text length and corpus
  // size; the evaluator spreads each group's passes over the cores.
  std::vector<int64_t> positions(rows.size()), deletions(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    positions[i] = static_cast<int64_t>(i);
    deletions[i] = static_cast<int64_t>(set.ids[rows[i]].size());
  }
  const auto groups = data::plan_batches(positions, deletions, {/*max_rows=*/options.max_rows, /*max_tokens=*/0},
                                         /*rows=*/deletions);
  std::vector<std::vector<double>> out(rows.size());
  for (const auto& g : groups) {
    std::vector<int64_t> group;
    std::vector<std::vector<double>> orig;
    for (int64_t i : g) {
      group.push_back(rows[i]);
      orig.push_back(original[i]);
    }
    auto part = loo_batched(model, set, group, orig, options.max_tokens);
    for (size_t k = 0; k < g.size(); ++k) out[g[k]] = std::move(part[k]);
  }
  return out;
}

}  // namespace lumen::analysis
