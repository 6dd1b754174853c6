#include "perturb/variant_evaluator.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>

#include "core/error.h"
#include "core/parallel.h"
#include "data/batch.h"
#include "data/batch_plan.h"
#include "models/eval_guard.h"
#include "models/lstm_kernel.h"

namespace lumen::perturb {

void EvaluatorOptions::validate() const {
  if (max_tokens < 1) throw InvalidArgument("evaluator: max_tokens must be at least 1");
}

Json EvaluatorOptions::to_json() const { return {{"max_tokens", max_tokens}, {"reuse", reuse}}; }

Json EvaluatorStats::to_json() const {
  return {{"variants", variants}, {"passes", passes}, {"reused", reused}, {"seconds", seconds},
          {"mean_batch", mean_batch()}};
}

namespace {

std::vector<int64_t> or_pad(const std::vector<int64_t>& t) {
  return t.empty() ? std::vector<int64_t>{data::Vocab::kPad} : t;
}

// <s> ids </s> of a text as the model reads it.
std::vector<int64_t> framed(const std::vector<int64_t>& ids) {
  std::vector<int64_t> out;
  out.reserve(ids.size() + 2);
  out.push_back(data::Vocab::kBos);
  for (int64_t t : or_pad(ids)) out.push_back(t);
  out.push_back(data::Vocab::kEos);
  return out;
}

// Leading and trailing positions (of <s> ids </s>) that a variant shares with its original;
// prefix + suffix <= the shorter length.
std::array<int64_t, 2> shared_ends(const std::vector<int64_t>& o, const std::vector<int64_t>& v) {
  const int64_t n = static_cast<int64_t>(std::min(o.size(), v.size()));
  int64_t p = 0;
  while (p < n && o[p] == v[p]) ++p;
  int64_t s = 0;
  while (s < n - p && o[o.size() - 1 - s] == v[v.size() - 1 - s]) ++s;
  return {p, s};
}

at::Tensor softmax_double(const at::Tensor& logits) { return torch::softmax(logits.to(torch::kDouble), 1).contiguous(); }

data::Batch padded(const std::vector<std::vector<int64_t>>& a, const std::vector<std::vector<int64_t>>* b) {
  data::Batch batch;
  std::vector<std::vector<int64_t>> ta, tb;
  for (const auto& t : a) ta.push_back(or_pad(t));
  data::pad_ids(ta, batch.ids, batch.lengths, batch.mask, batch.token_mask);
  if (b) {
    for (const auto& t : *b) tb.push_back(or_pad(t));
    data::pad_ids(tb, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
  }
  return batch;
}

}  // namespace

at::Tensor evaluate_variants(models::TextClassifier& model, const std::vector<Text>& originals,
                             const std::vector<Variant>& variants, const EvaluatorOptions& options,
                             EvaluatorStats* stats) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(variants.size());
  const int64_t C = model->config().num_classes;
  at::Tensor out = torch::zeros({n, C}, torch::kDouble);
  if (n == 0) return out;
  const bool pair = model->config().pair;
  for (const auto& v : variants)
    if (!originals.empty() && (v.row < 0 || v.row >= static_cast<int64_t>(originals.size())))
      throw InvalidArgument("evaluator: variant of row " + std::to_string(v.row) + " but " +
                            std::to_string(originals.size()) + " originals");
  const models::LstmEncoderImpl* lstm = model->fused_lstm();
  const bool reuse = options.reuse && lstm != nullptr && !originals.empty();
  models::ForwardOptions fo;
  fo.edit = options.attention_edit;
  std::vector<int64_t> lengths(n);
  for (int64_t i = 0; i < n; ++i)
    lengths[i] =
        static_cast<int64_t>(std::max({variants[i].a.size(), pair ? variants[i].b.size() : size_t{0}, size_t{1}})) + 2;
  // Plain: length-sorted groups. Reuse: groups of variants of neighbouring originals (sorted by
  // row, then length), each also running its originals once.
  std::vector<std::vector<int64_t>> groups;
  const data::BatchLimits limits{/*max_rows=*/0, /*max_tokens=*/options.max_tokens};
  if (reuse) {
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return variants[x].row != variants[y].row ? variants[x].row < variants[y].row : lengths[x] < lengths[y];
    });
    groups = data::plan_batches(order, lengths, limits);
  } else {
    groups = data::length_sorted_batches(lengths, limits);
  }
  models::EvalGuard eval(model);
  double* op = out.data_ptr<double>();
  parallel_chunks(static_cast<int64_t>(groups.size()), 1, [&](int64_t g0, int64_t g1) {
    torch::NoGradGuard no_grad;
    for (int64_t g = g0; g < g1; ++g) {
      const auto& group = groups[g];
      std::vector<std::vector<int64_t>> a, b;
      for (int64_t k : group) {
        a.push_back(variants[k].a);
        if (pair) b.push_back(variants[k].b);
      }
      const data::Batch vb = padded(a, pair ? &b : nullptr);
      at::Tensor probs;
      if (reuse) {
        std::vector<int64_t> rows;  // originals of the group, in order
        models::LstmEditPlan plan;
        for (int64_t k : group) {
          const int64_t r = variants[k].row;
          if (rows.empty() || rows.back() != r) rows.push_back(r);
          plan.rows.push_back(static_cast<int64_t>(rows.size()) - 1);
          const auto ends = shared_ends(framed(originals[r].a), framed(variants[k].a));
          plan.prefix.push_back(ends[0]);
          plan.suffix.push_back(ends[1]);
        }
        std::vector<std::vector<int64_t>> oa, ob_texts;
        for (int64_t r : rows) {
          oa.push_back(originals[r].a);
          ob_texts.push_back(originals[r].b);
        }
        const data::Batch ob = padded(oa, pair ? &ob_texts : nullptr);
        models::Encoded enc;
        enc.states = models::fused_lstm_edits(model->embedding->weight, ob.ids, ob.lengths, vb.ids, vb.lengths,
                                              lstm->w_ih, lstm->w_hh, lstm->b_ih + lstm->b_hh, 2, plan);
        if (pair) {
          // The second text's encoding: the original's when a variant leaves it unchanged.
          std::vector<int64_t> changed, source(group.size());
          for (size_t k = 0; k < group.size(); ++k) {
            const Variant& v = variants[group[k]];
            if (v.b == originals[v.row].b) {
              source[k] = plan.rows[k];
            } else {
              source[k] = static_cast<int64_t>(rows.size() + changed.size());
              changed.push_back(group[k]);
            }
          }
          at::Tensor q = model->second_text_query(ob);
          if (!changed.empty()) {
            std::vector<std::vector<int64_t>> ca, cb;
            for (int64_t k : changed) {
              ca.push_back(variants[k].a);
              cb.push_back(variants[k].b);
            }
            q = torch::cat({q, model->second_text_query(padded(ca, &cb))}, 0);
          }
          enc.query = q.index_select(0, torch::tensor(source, torch::kInt64));
        }
        probs = softmax_double(model->decode(enc, vb, fo).logits);
      } else {
        probs = softmax_double(model->forward_training(vb, fo).logits);
      }
      const double* pp = probs.data_ptr<double>();
      for (size_t k = 0; k < group.size(); ++k) std::copy_n(pp + k * C, C, op + group[k] * C);
    }
  });
  if (stats) {
    stats->variants += n;
    stats->passes += static_cast<int64_t>(groups.size());
    if (reuse) stats->reused += n;
    stats->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return out;
}

std::vector<double> target_probabilities(models::TextClassifier& model, const std::vector<Text>& originals,
                                         const std::vector<Variant>& variants, const std::vector<int64_t>& targets,
                                         const EvaluatorOptions& options, EvaluatorStats* stats) {
  const at::Tensor p = evaluate_variants(model, originals, variants, options, stats);
  std::vector<double> out(variants.size());
  const int64_t C = p.size(1);
  const double* pp = p.data_ptr<double>();
  for (size_t i = 0; i < variants.size(); ++i) out[i] = pp[i * C + targets.at(variants[i].row)];
  return out;
}

}  // namespace lumen::perturb
