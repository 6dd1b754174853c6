#include "analysis/explanation_evaluation.h"


#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "analysis/explanation_metrics.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/batch.h"
#include "data/batch_plan.h"
#include "explain/common.h"

namespace lumen::analysis {
namespace {

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && x[idx[j + 1]] == x[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = 0.5 * (i + j) + 1;
    i = j + 1;
  }
  return r;
}

// The ranking: by AOPC comprehensiveness (the share of the prediction the top tokens carry),
// with a verdict per method.
Json ranking(const std::vector<NamedExplainer>& methods, const FaithfulnessResult& f, const SanityResult& s,
             const PlausibilityResult& p, bool sanity) {
  const size_t M = methods.size();
  std::vector<size_t> idx(M);
  std::iota(idx.begin(), idx.end(), 0);
  auto comp = [&](size_t m) {
    return std::isfinite(f.aopc_comprehensiveness[m]) ? f.aopc_comprehensiveness[m] : -1e9;
  };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return comp(a) > comp(b); });
  Json out = Json::array();
  for (size_t r = 0; r < M; ++r) {
    const size_t m = idx[r];
    const bool beats_random = f.aopc_most_first[m] > f.random_aopc;
    const bool passes_sanity = !sanity || (std::isfinite(s.decorrelation[m]) && s.decorrelation[m] >= 0.5);
    out.push_back({{"rank", r + 1},
                   {"method", methods[m].name},
                   {"aopc_comprehensiveness", number_or_null(f.aopc_comprehensiveness[m])},
                   {"aopc_sufficiency", number_or_null(f.aopc_sufficiency[m])},
                   {"aopc_most_relevant_first", number_or_null(f.aopc_most_first[m])},
                   {"aopc_least_relevant_first", number_or_null(f.aopc_least_first[m])},
                   {"decorrelation", number_or_null(s.decorrelation[m])},
                   {"token_f1", number_or_null(p.token_f1[m])},
                   {"beats_random_order", beats_random},
                   {"passes_sanity_check", passes_sanity},
                   {"verdict", beats_random && passes_sanity ? "faithful"
                               : !passes_sanity             ? "ignores the model"
                                                            : "no better than random"}});
  }
  return out;
}

}  // namespace

void EvaluationOptions::validate() const {
  explain.validate();
  if (bins.empty()) throw InvalidArgument("evaluate-explanations: bins must not be empty");
  for (double b : bins)
    if (!(b > 0 && b <= 1)) throw InvalidArgument("evaluate-explanations: bins must be in (0, 1], got " + std::to_string(b));
  if (curve_points < 2)
    throw InvalidArgument("evaluate-explanations: curve_points must be >= 2, got " + std::to_string(curve_points));
  if (!(top_share > 0 && top_share <= 1))
    throw InvalidArgument("evaluate-explanations: top_share must be in (0, 1], got " + std::to_string(top_share));
  if (permuted_epochs < 1)
    throw InvalidArgument("evaluate-explanations: permuted_epochs must be >= 1, got " + std::to_string(permuted_epochs));
  if (batch_size < 1) throw InvalidArgument("evaluate-explanations: batch_size must be >= 1, got " + std::to_string(batch_size));
}

Json EvaluationOptions::to_json() const {
  return {{"explain", explain.to_json()},   {"bins", bins},
          {"curve_points", curve_points},   {"top_share", top_share},
          {"sanity", sanity},               {"label_permuted", permuted_train != nullptr},
          {"permuted_epochs", permuted_epochs}, {"batch_size", batch_size},
          {"seed", seed}};
}

double finite_mean(const std::vector<double>& v) {
  double s = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

Json number_or_null(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

std::vector<int64_t> order_by_score(const std::vector<double>& s) {
  std::vector<int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  return idx;
}

int64_t top_count(double share, int64_t n) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(share * n - 1e-9)), 1, n);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nan("");
  const auto rx = ranks(x), ry = ranks(y);
  const double mx = finite_mean(rx), my = finite_mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::nan("");
  return sxy / std::sqrt(sxx * syy);
}

double rationale_token_f1(const std::vector<double>& scores, const std::vector<int64_t>& rationale) {
  if (rationale.empty()) return std::nan("");
  std::vector<double> magnitude;
  for (double v : scores) magnitude.push_back(std::abs(v));
  const auto order = order_by_score(magnitude);
  const size_t kk = std::min(rationale.size(), order.size());
  size_t hit = 0;
  for (size_t q = 0; q < kk; ++q) hit += std::find(rationale.begin(), rationale.end(), order[q]) != rationale.end();
  const double precision = kk ? static_cast<double>(hit) / kk : 0;
  const double recall = static_cast<double>(hit) / rationale.size();
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

double average_precision(const std::vector<double>& scores, const std::vector<int64_t>& positives) {
  if (positives.empty()) return std::nan("");
  std::vector<char> pos(scores.size(), 0);
  for (int64_t p : positives)
    if (p >= 0 && p < static_cast<int64_t>(scores.size())) pos[p] = 1;
  const auto order = order_by_score(scores);
  double hits = 0, ap = 0;
  for (size_t k = 0; k < order.size(); ++k)
    if (pos[order[k]]) ap += ++hits / static_cast<double>(k + 1);
  return hits > 0 ? ap / hits : 0.0;
}

Attributions attribute(models::TextClassifier& model, const std::vector<data::Example>& examples,
                       const data::Vocab& vocab, const std::vector<NamedExplainer>& methods,
                       const explain::ExplainOptions& options, int64_t batch_size, std::vector<int64_t>* targets) {
  Attributions out(methods.size());
  const bool pair = model->config().pair;
  for (const auto& rows : data::consecutive_batches(static_cast<int64_t>(examples.size()), batch_size)) {
    std::vector<const data::Example*> ptrs;
    for (int64_t i : rows) ptrs.push_back(&examples[i]);
    const data::Batch batch = data::make_batch(ptrs, vocab, pair);
    explain::ExplainOptions o = options;
    if (!options.targets.empty()) {
      o.targets.clear();
      for (int64_t i : rows) o.targets.push_back(options.targets[i]);
    } else {
      o.targets = explain::resolve_targets(model, batch, o);
    }
    if (targets) targets->insert(targets->end(), o.targets.begin(), o.targets.end());
    for (size_t m = 0; m < methods.size(); ++m)
      for (auto& t : explain::split_rows(methods[m].name, methods[m].explainer->explain(model, batch, o), batch))
        out[m].push_back(std::move(t.scores));
  }
  return out;
}

Json evaluate_explanations(models::TextClassifier& model, const std::vector<data::Example>& examples,
                           const data::Vocab& vocab, const std::vector<NamedExplainer>& methods,
                           const EvaluationOptions& o) {
  if (examples.empty()) throw InvalidArgument("evaluate-explanations: no instances");
  if (methods.empty()) throw InvalidArgument("evaluate-explanations: no methods");
  o.validate();
  Progress progress("evaluate", 4, o.progress);
  std::vector<int64_t> targets;
  const Attributions A = attribute(model, examples, vocab, methods, o.explain, o.batch_size, &targets);
  progress.advance(1, "attributions");
  const FaithfulnessResult faith = faithfulness(model, examples, vocab, methods, A, targets, o);
  progress.advance(1, "faithfulness");
  const Json agree = agreement(methods, A, o.top_share);
  SanityResult sanity;
  sanity.decorrelation.assign(methods.size(), std::nan(""));
  sanity.sanity = Json::object();
  if (o.sanity) sanity = sanity_checks(model, examples, vocab, methods, A, targets, o);
  progress.advance(1, "sanity");
  const PlausibilityResult plaus = plausibility(examples, methods, A);
  progress.advance(1, "done");
  progress.finish();

  Json described = Json::array();
  for (const auto& m : methods) described.push_back({{"name", m.name}, {"description", m.explainer->description()}});
  return {{"kind", "lumen.evaluate-explanations"},
          {"instances", examples.size()},
          {"methods", described},
          {"conventions",
           {{"probability", "p = probability of the explained class (the original model's prediction)"},
            {"removal", explain::to_string(o.explain.removal) +
                            " (an input left without tokens is evaluated as a single <pad>)"},
            {"ranking", "tokens of the first text ordered by signed score, highest first"},
            {"bins", o.bins},
            {"aopc", "ERASER: mean over the bins (divided by |bins|, as the reference script)"},
            {"deletion_curve", "p(x) - p(x with the first f of the ranked tokens removed), f = 0, 0.1, ..., 1; "
                               "AOPC = mean over the 11 points, i.e. 1/(L+1) sum_{k=0..L}"},
            {"plausibility", "tokens ranked by |score| (cues for and against the class both count); token F1 "
                             "of the top-|rationale| tokens, AUPRC = average precision"},
            {"decorrelation", "1 - mean Spearman of |scores| between the model and the fully randomised model"},
            {"verdict", "faithful: most-relevant-first AOPC above the random order's and decorrelation >= 0.5"}}},
          {"options", o.to_json()},
          {"random_order", faith.random_order},
          {"faithfulness", faith.faithfulness},
          {"agreement", agree},
          {"sanity", sanity.sanity},
          {"plausibility", plaus.plausibility},
          {"ranking", ranking(methods, faith, sanity, plaus, o.sanity)}};
}

}  // namespace lumen::analysis
