// Faithfulness of token attributions (shared/reference/metrics.md): ERASER comprehensiveness and
// sufficiency at the top k% tokens with their AOPC (DeYoung et al. 2020), and deletion curves
// most relevant first, least relevant first and in a random order (Samek et al. 2017).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/explanation_metrics.h"
#include "core/rng.h"
#include "explain/common.h"

namespace lumen::analysis {

FaithfulnessResult faithfulness(models::TextClassifier& model, const std::vector<data::Example>& examples,
                                const data::Vocab& vocab, const std::vector<NamedExplainer>& methods,
                                const Attributions& A, const std::vector<int64_t>& targets,
                                const EvaluationOptions& o) {
  const size_t M = methods.size(), N = examples.size();
  const bool pair = model->config().pair;
  std::vector<std::vector<int64_t>> ids_a(N), ids_b(N);
  for (size_t i = 0; i < N; ++i) {
    ids_a[i] = vocab.encode(examples[i].tokens);
    if (pair) ids_b[i] = vocab.encode(examples[i].tokens_b);
  }
  const int64_t B = static_cast<int64_t>(o.bins.size()), P = o.curve_points;
  auto removed_first = [&](size_t i, const std::vector<int64_t>& order, int64_t count, bool keep_instead) {
    std::vector<char> rm(ids_a[i].size(), keep_instead ? 1 : 0);
    for (int64_t k = 0; k < count; ++k) rm[order[k]] = keep_instead ? 0 : 1;
    return explain::Variant{static_cast<int64_t>(i), explain::remove_tokens(ids_a[i], rm, o.explain.removal), ids_b[i]};
  };
  auto curve_count = [&](int64_t j, int64_t n) {
    return static_cast<int64_t>(std::llround(static_cast<double>(j) / (P - 1) * n));
  };
  // Every variant, in the order they are read back below: per instance the full text and the
  // random curve, then per method and instance the bins and both curves.
  std::vector<explain::Variant> variants;
  for (size_t i = 0; i < N; ++i) {
    variants.push_back({static_cast<int64_t>(i), ids_a[i], ids_b[i]});
    const int64_t n = static_cast<int64_t>(ids_a[i].size());
    std::vector<int64_t> random(n);
    std::iota(random.begin(), random.end(), 0);
    Rng rng(o.seed * 7919 + i);
    rng.shuffle(random);
    for (int64_t j = 0; j < P; ++j) variants.push_back(removed_first(i, random, curve_count(j, n), false));
  }
  for (size_t m = 0; m < M; ++m)
    for (size_t i = 0; i < N; ++i) {
      const int64_t n = static_cast<int64_t>(ids_a[i].size());
      const auto order = order_by_score(A[m][i]);
      const std::vector<int64_t> reversed(order.rbegin(), order.rend());
      for (double b : o.bins) variants.push_back(removed_first(i, order, top_count(b, n), false));
      for (double b : o.bins) variants.push_back(removed_first(i, order, top_count(b, n), true));
      for (int64_t j = 0; j < P; ++j) variants.push_back(removed_first(i, order, curve_count(j, n), false));
      for (int64_t j = 0; j < P; ++j) variants.push_back(removed_first(i, reversed, curve_count(j, n), false));
    }
  std::vector<explain::Text> originals(N);
  for (size_t i = 0; i < N; ++i) originals[i] = {ids_a[i], ids_b[i]};
  const auto p = explain::variant_probabilities(model, originals, variants, targets, o.explain);

  FaithfulnessResult r;
  size_t k = 0;
  std::vector<double> full(N);
  std::vector<std::vector<double>> random_curve(P);
  for (size_t i = 0; i < N; ++i) {
    full[i] = p[k++];
    for (int64_t j = 0; j < P; ++j) random_curve[j].push_back(full[i] - p[k++]);
  }
  std::vector<double> random_means;
  for (int64_t j = 0; j < P; ++j) random_means.push_back(finite_mean(random_curve[j]));
  r.random_aopc = finite_mean(random_means);
  r.random_order = {{"deletion_curve", random_means}, {"aopc", number_or_null(r.random_aopc)}};
  r.faithfulness = Json::object();
  for (size_t m = 0; m < M; ++m) {
    std::vector<std::vector<double>> comp(B), suff(B), morf(P), lerf(P);
    for (size_t i = 0; i < N; ++i) {
      for (int64_t b = 0; b < B; ++b) comp[b].push_back(full[i] - p[k++]);
      for (int64_t b = 0; b < B; ++b) suff[b].push_back(full[i] - p[k++]);
      for (int64_t j = 0; j < P; ++j) morf[j].push_back(full[i] - p[k++]);
      for (int64_t j = 0; j < P; ++j) lerf[j].push_back(full[i] - p[k++]);
    }
    std::vector<double> cm, sm, mm, lm;
    for (int64_t b = 0; b < B; ++b) cm.push_back(finite_mean(comp[b])), sm.push_back(finite_mean(suff[b]));
    for (int64_t j = 0; j < P; ++j) mm.push_back(finite_mean(morf[j])), lm.push_back(finite_mean(lerf[j]));
    r.aopc_comprehensiveness.push_back(finite_mean(cm));
    r.aopc_sufficiency.push_back(finite_mean(sm));
    r.aopc_most_first.push_back(finite_mean(mm));
    r.aopc_least_first.push_back(finite_mean(lm));
    r.faithfulness[methods[m].name] = {{"comprehensiveness", cm},
                                       {"sufficiency", sm},
                                       {"aopc_comprehensiveness", r.aopc_comprehensiveness[m]},
                                       {"aopc_sufficiency", r.aopc_sufficiency[m]},
                                       {"deletion_curve", {{"most_relevant_first", mm}, {"least_relevant_first", lm}}},
                                       {"aopc_most_relevant_first", r.aopc_most_first[m]},
                                       {"aopc_least_relevant_first", r.aopc_least_first[m]}};
  }
  return r;
}

}  // namespace lumen::analysis
