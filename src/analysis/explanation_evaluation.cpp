#include "analysis/explanation_evaluation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "analysis/kendall.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/batch.h"
#include "explain/common.h"
#include "train/trainer.h"

namespace lumen::analysis {
namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

Json num(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

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

// Token order by signed score, highest first (ties: earlier position first).
std::vector<int64_t> order_of(const std::vector<double>& s) {
  std::vector<int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  return idx;
}

// Restores every parameter of a model when it goes out of scope.
class ParameterSnapshot {
 public:
  explicit ParameterSnapshot(models::TextClassifier& model) : model_(model) {
    for (const auto& p : model->named_parameters()) saved_.emplace_back(p.key(), p.value().detach().clone());
  }
  ~ParameterSnapshot() {
    torch::NoGradGuard no_grad;
    auto params = model_->named_parameters();
    for (const auto& [name, value] : saved_) params[name].copy_(value);
  }

 private:
  models::TextClassifier model_;
  std::vector<std::pair<std::string, at::Tensor>> saved_;
};

// Parameter groups from the output down.
std::vector<std::pair<std::string, std::vector<std::string>>> parameter_groups(models::TextClassifier& model) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups = {
      {"decoder", {}}, {"attention", {}}, {"encoder", {}}, {"embedding", {}}};
  for (const auto& p : model->named_parameters()) {
    const std::string& n = p.key();
    if (n.rfind("out", 0) == 0) groups[0].second.push_back(n);
    else if (n.rfind("attention.", 0) == 0) groups[1].second.push_back(n);
    else if (n.rfind("encoder", 0) == 0) groups[2].second.push_back(n);
    else if (n.rfind("embedding.", 0) == 0) groups[3].second.push_back(n);
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const auto& g) { return g.second.empty(); }), groups.end());
  return groups;
}

// Re-draws the named parameters from N(0, sd^2) with sd the parameter's own standard deviation
// (0.1 where it is 0), from a generator of its own (LibTorch's global stream is untouched).
void randomise(models::TextClassifier& model, const std::vector<std::string>& names, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (const auto& n : names) {
    at::Tensor p = params[n];
    double sd = p.numel() > 1 ? p.to(torch::kDouble).std().item<double>() : 0.0;
    if (!(sd > 0)) sd = 0.1;
    p.copy_(at::normal(0.0, sd, p.sizes(), gen, p.options()));
  }
}

}  // namespace

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nan("");
  const auto rx = ranks(x), ry = ranks(y);
  const double mx = mean(rx), my = mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::nan("");
  return sxy / std::sqrt(sxx * syy);
}

double average_precision(const std::vector<double>& scores, const std::vector<int64_t>& positives) {
  if (positives.empty()) return std::nan("");
  std::vector<char> pos(scores.size(), 0);
  for (int64_t p : positives)
    if (p >= 0 && p < static_cast<int64_t>(scores.size())) pos[p] = 1;
  const auto order = order_of(scores);
  double hits = 0, ap = 0;
  for (size_t k = 0; k < order.size(); ++k)
    if (pos[order[k]]) ap += ++hits / static_cast<double>(k + 1);
  return hits > 0 ? ap / hits : 0.0;
}

std::vector<std::vector<std::vector<double>>> attribute(models::TextClassifier& model,
                                                        const std::vector<data::Example>& examples,
                                                        const data::Vocab& vocab,
                                                        const std::vector<NamedExplainer>& methods,
                                                        const explain::ExplainOptions& options, int64_t batch_size,
                                                        std::vector<int64_t>* targets) {
  std::vector<std::vector<std::vector<double>>> out(methods.size());
  const bool pair = model->config().pair;
  for (size_t begin = 0; begin < examples.size(); begin += batch_size) {
    const size_t end = std::min(examples.size(), begin + static_cast<size_t>(batch_size));
    std::vector<const data::Example*> ptrs;
    for (size_t i = begin; i < end; ++i) ptrs.push_back(&examples[i]);
    const data::Batch batch = data::make_batch(ptrs, vocab, pair);
    explain::ExplainOptions o = options;
    if (!options.targets.empty()) o.targets.assign(options.targets.begin() + begin, options.targets.begin() + end);
    else o.targets = explain::resolve_targets(model, batch, o);
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
  const size_t M = methods.size(), N = examples.size();
  const bool pair = model->config().pair;
  Progress progress("evaluate", 4, o.progress);
  std::vector<int64_t> targets;
  const auto A = attribute(model, examples, vocab, methods, o.explain, o.batch_size, &targets);
  progress.advance(1, "attributions");

  // Faithfulness: every removal of every method and instance in one batched evaluation.
  std::vector<explain::Variant> variants;
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
  auto top_count = [](double share, int64_t n) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(share * n - 1e-9)), 1, n);
  };
  auto curve_count = [&](int64_t j, int64_t n) {
    return static_cast<int64_t>(std::llround(static_cast<double>(j) / (P - 1) * n));
  };
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
      const auto order = order_of(A[m][i]);
      std::vector<int64_t> reversed(order.rbegin(), order.rend());
      for (double b : o.bins) variants.push_back(removed_first(i, order, top_count(b, n), false));
      for (double b : o.bins) variants.push_back(removed_first(i, order, top_count(b, n), true));
      for (int64_t j = 0; j < P; ++j) variants.push_back(removed_first(i, order, curve_count(j, n), false));
      for (int64_t j = 0; j < P; ++j) variants.push_back(removed_first(i, reversed, curve_count(j, n), false));
    }
  const auto p = explain::variant_probabilities(model, variants, targets, o.explain.max_tokens);
  progress.advance(1, "faithfulness");
  size_t k = 0;
  std::vector<double> full(N);
  std::vector<std::vector<double>> random_curve(P);
  for (size_t i = 0; i < N; ++i) {
    full[i] = p[k++];
    for (int64_t j = 0; j < P; ++j) random_curve[j].push_back(full[i] - p[k++]);
  }
  Json faith = Json::object();
  std::vector<double> aopc_comp(M), aopc_suff(M), aopc_morf(M), aopc_lerf(M);
  std::vector<double> random_means;
  for (int64_t j = 0; j < P; ++j) random_means.push_back(mean(random_curve[j]));
  for (size_t m = 0; m < M; ++m) {
    std::vector<std::vector<double>> comp(B), suff(B), morf(P), lerf(P);
    for (size_t i = 0; i < N; ++i) {
      for (int64_t b = 0; b < B; ++b) comp[b].push_back(full[i] - p[k++]);
      for (int64_t b = 0; b < B; ++b) suff[b].push_back(full[i] - p[k++]);
      for (int64_t j = 0; j < P; ++j) morf[j].push_back(full[i] - p[k++]);
      for (int64_t j = 0; j < P; ++j) lerf[j].push_back(full[i] - p[k++]);
    }
    std::vector<double> cm, sm, mm, lm;
    for (int64_t b = 0; b < B; ++b) cm.push_back(mean(comp[b])), sm.push_back(mean(suff[b]));
    for (int64_t j = 0; j < P; ++j) mm.push_back(mean(morf[j])), lm.push_back(mean(lerf[j]));
    aopc_comp[m] = mean(cm), aopc_suff[m] = mean(sm), aopc_morf[m] = mean(mm), aopc_lerf[m] = mean(lm);
    faith[methods[m].name] = {{"comprehensiveness", cm},
                              {"sufficiency", sm},
                              {"aopc_comprehensiveness", aopc_comp[m]},
                              {"aopc_sufficiency", aopc_suff[m]},
                              {"deletion_curve", {{"most_relevant_first", mm}, {"least_relevant_first", lm}}},
                              {"aopc_most_relevant_first", aopc_morf[m]},
                              {"aopc_least_relevant_first", aopc_lerf[m]}};
  }

  // Agreement between methods.
  Json agreement = Json::array();
  for (size_t a = 0; a < M; ++a)
    for (size_t b = a + 1; b < M; ++b) {
      std::vector<double> taus, overlaps;
      for (size_t i = 0; i < N; ++i) {
        const auto t = kendall_tau_b(A[a][i], A[b][i]);
        if (t.tau) taus.push_back(*t.tau);
        const int64_t n = static_cast<int64_t>(A[a][i].size());
        const int64_t kk = top_count(o.top_share, n);
        const auto oa = order_of(A[a][i]), ob = order_of(A[b][i]);
        std::vector<int64_t> ta(oa.begin(), oa.begin() + kk), tb(ob.begin(), ob.begin() + kk);
        std::sort(ta.begin(), ta.end());
        std::sort(tb.begin(), tb.end());
        std::vector<int64_t> both;
        std::set_intersection(ta.begin(), ta.end(), tb.begin(), tb.end(), std::back_inserter(both));
        overlaps.push_back(static_cast<double>(both.size()) / kk);
      }
      agreement.push_back({{"a", methods[a].name}, {"b", methods[b].name}, {"kendall_tau", num(mean(taus))},
                           {"top_overlap", num(mean(overlaps))}, {"defined", taus.size()}});
    }

  // Sanity checks.
  Json sanity = Json::object();
  std::vector<double> decorrelation(M, std::nan(""));
  auto compare = [&](const std::vector<std::vector<std::vector<double>>>& R) {
    Json j = Json::object();
    std::vector<double> abs_means(M);
    for (size_t m = 0; m < M; ++m) {
      std::vector<double> sgn, ab;
      for (size_t i = 0; i < N; ++i) {
        sgn.push_back(spearman(A[m][i], R[m][i]));
        std::vector<double> x, y;
        for (double v : A[m][i]) x.push_back(std::abs(v));
        for (double v : R[m][i]) y.push_back(std::abs(v));
        ab.push_back(spearman(x, y));
      }
      abs_means[m] = mean(ab);
      j[methods[m].name] = {{"spearman", num(mean(sgn))}, {"spearman_abs", num(abs_means[m])}};
    }
    return std::make_pair(j, abs_means);
  };
  if (o.sanity) {
    explain::ExplainOptions eo = o.explain;
    eo.targets = targets;
    const auto groups = parameter_groups(model);
    Json cascading = Json::array(), independent = Json::array();
    std::vector<std::string> names;
    for (size_t g = 0; g < groups.size(); ++g) {
      ParameterSnapshot restore(model);
      names.insert(names.end(), groups[g].second.begin(), groups[g].second.end());
      randomise(model, names, o.seed + 101 + g);
      auto [j, abs_means] = compare(attribute(model, examples, vocab, methods, eo, o.batch_size));
      if (g + 1 == groups.size())
        for (size_t m = 0; m < M; ++m) decorrelation[m] = 1.0 - abs_means[m];
      cascading.push_back({{"randomised_through", groups[g].first}, {"methods", j}});
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      ParameterSnapshot restore(model);
      randomise(model, groups[g].second, o.seed + 201 + g);
      independent.push_back({{"randomised", groups[g].first},
                             {"methods", compare(attribute(model, examples, vocab, methods, eo, o.batch_size)).first}});
    }
    sanity["cascading"] = cascading;
    sanity["independent"] = independent;
    if (o.permuted_train) {
      torch::manual_seed(o.seed + 301);
      models::TextClassifier shuffled(model->config());
      if (model->parameters()[0].scalar_type() != torch::kFloat) shuffled->to(model->parameters()[0].scalar_type());
      train::TrainOptions to;
      to.epochs = o.permuted_epochs;
      to.progress = false;
      to.seed = o.seed + 301;
      train::fit(shuffled, *o.permuted_train, *o.permuted_dev, to);
      shuffled->eval();
      sanity["label_permuted"] = {{"epochs", o.permuted_epochs},
                                  {"methods", compare(attribute(shuffled, examples, vocab, methods, eo, o.batch_size)).first}};
    }
    Json d = Json::object();
    for (size_t m = 0; m < M; ++m) d[methods[m].name] = num(decorrelation[m]);
    sanity["decorrelation"] = d;
  }
  progress.advance(1, "sanity");

  // Plausibility against known rationales.
  Json plaus = Json::object();
  std::vector<double> f1s(M, std::nan(""));
  size_t with_rationale = 0;
  for (const auto& e : examples) with_rationale += !e.rationale.empty();
  if (with_rationale > 0)
    for (size_t m = 0; m < M; ++m) {
      std::vector<double> f1, ap;
      for (size_t i = 0; i < N; ++i) {
        const auto& r = examples[i].rationale;
        if (r.empty()) continue;
        std::vector<double> mag;
        for (double v : A[m][i]) mag.push_back(std::abs(v));
        const auto order = order_of(mag);
        const size_t kk = std::min(r.size(), order.size());
        size_t hit = 0;
        for (size_t q = 0; q < kk; ++q) hit += std::find(r.begin(), r.end(), order[q]) != r.end();
        const double prec = kk ? static_cast<double>(hit) / kk : 0, rec = static_cast<double>(hit) / r.size();
        f1.push_back(prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0.0);
        ap.push_back(average_precision(mag, r));
      }
      f1s[m] = mean(f1);
      plaus[methods[m].name] = {{"token_f1", num(f1s[m])}, {"auprc", num(mean(ap))}};
    }
  progress.advance(1, "done");
  progress.finish();

  // Ranking: by AOPC comprehensiveness (the share of the prediction the top tokens carry).
  std::vector<size_t> idx(M);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const double x = std::isfinite(aopc_comp[a]) ? aopc_comp[a] : -1e9, y = std::isfinite(aopc_comp[b]) ? aopc_comp[b] : -1e9;
    return x > y;
  });
  const double random_aopc = mean(random_means);
  Json ranking = Json::array();
  for (size_t r = 0; r < M; ++r) {
    const size_t m = idx[r];
    const bool beats_random = aopc_morf[m] > random_aopc;
    const bool passes_sanity = !o.sanity || (std::isfinite(decorrelation[m]) && decorrelation[m] >= 0.5);
    ranking.push_back({{"rank", r + 1},
                       {"method", methods[m].name},
                       {"aopc_comprehensiveness", num(aopc_comp[m])},
                       {"aopc_sufficiency", num(aopc_suff[m])},
                       {"aopc_most_relevant_first", num(aopc_morf[m])},
                       {"aopc_least_relevant_first", num(aopc_lerf[m])},
                       {"decorrelation", num(decorrelation[m])},
                       {"token_f1", num(f1s[m])},
                       {"beats_random_order", beats_random},
                       {"passes_sanity_check", passes_sanity},
                       {"verdict", beats_random && passes_sanity ? "faithful" : !passes_sanity ? "ignores the model"
                                                                                              : "no better than random"}});
  }
  Json bins = o.bins;
  return {{"kind", "lumen.evaluate-explanations"},
          {"instances", N},
          {"methods", [&] {
             Json j = Json::array();
             for (const auto& m : methods) j.push_back({{"name", m.name}, {"description", m.explainer->description()}});
             return j;
           }()},
          {"conventions",
           {{"probability", "p = probability of the explained class (the original model's prediction)"},
            {"removal", explain::to_string(o.explain.removal) +
                            " (an input left without tokens is evaluated as a single <pad>)"},
            {"ranking", "tokens of the first text ordered by signed score, highest first"},
            {"bins", bins},
            {"aopc", "ERASER: mean over the bins (divided by |bins|, as the reference script)"},
            {"deletion_curve", "p(x) - p(x with the first f of the ranked tokens removed), f = 0, 0.1, ..., 1; "
                               "AOPC = mean over the 11 points, i.e. 1/(L+1) sum_{k=0..L}"},
            {"plausibility", "tokens ranked by |score| (cues for and against the class both count); token F1 "
                             "of the top-|rationale| tokens, AUPRC = average precision"},
            {"decorrelation", "1 - mean Spearman of |scores| between the model and the fully randomised model"},
            {"verdict", "faithful: most-relevant-first AOPC above the random order's and decorrelation >= 0.5"}}},
          {"random_order", {{"deletion_curve", random_means}, {"aopc", num(random_aopc)}}},
          {"faithfulness", faith},
          {"agreement", agreement},
          {"sanity", sanity},
          {"plausibility", plaus},
          {"ranking", ranking}};
}

}  // namespace lumen::analysis
