// The counterfactuals' measures (MiCE's and Polyjuice's, shared/reference/metrics.md) and their
// re-check by a fresh forward pass.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "attack/counterfactual.h"
#include "data/batch.h"
#include "models/eval_guard.h"

namespace lumen::attack {

int64_t word_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double bleu(const std::vector<std::string>& hyp, const std::vector<std::vector<std::string>>& refs) {
  if (hyp.empty() || refs.empty()) return 0.0;
  double log_p = 0;
  for (size_t n = 1; n <= 4; ++n) {
    std::map<std::vector<std::string>, int64_t> h, best;
    for (size_t i = 0; i + n <= hyp.size(); ++i) ++h[std::vector<std::string>(hyp.begin() + i, hyp.begin() + i + n)];
    for (const auto& r : refs) {
      std::map<std::vector<std::string>, int64_t> c;
      for (size_t i = 0; i + n <= r.size(); ++i) ++c[std::vector<std::string>(r.begin() + i, r.begin() + i + n)];
      for (const auto& [g, k] : c) best[g] = std::max(best[g], k);
    }
    int64_t match = 0, total = 0;
    for (const auto& [g, k] : h) {
      match += std::min(k, best.count(g) ? best[g] : 0);
      total += k;
    }
    const double p = n == 1 ? (total > 0 ? static_cast<double>(match) / total : 0.0)
                            : static_cast<double>(match + 1) / (total + 1);
    if (p <= 0) return 0.0;
    log_p += std::log(p) / 4;
  }
  size_t closest = refs[0].size();
  for (const auto& r : refs)
    if (std::abs(static_cast<double>(r.size()) - hyp.size()) < std::abs(static_cast<double>(closest) - hyp.size()))
      closest = r.size();
  const double bp = hyp.size() >= closest ? 1.0 : std::exp(1.0 - static_cast<double>(closest) / hyp.size());
  return bp * std::exp(log_p);
}

Json summarize_counterfactuals(models::TextClassifier& model, const data::Vocab& vocab,
                               const std::vector<CounterfactualResult>& results, const std::vector<data::Example>& examples,
                               const CounterfactualOptions& options) {
  models::EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  int64_t attempted = 0, flipped = 0, checked = 0;
  std::vector<double> minimality, fluency, closeness, self_bleu, passes, seconds;
  Json violations = Json::array();
  for (const auto& r : results) {
    seconds.push_back(r.seconds);
    passes.push_back(static_cast<double>(r.editor_passes));
    if (r.target < 0 || r.target == r.original_prediction) continue;
    ++attempted;
    if (!r.flipped) continue;
    ++flipped;
    const auto& best = r.counterfactuals.front();
    minimality.push_back(best.minimality);
    closeness.push_back(static_cast<double>(best.distance));
    if (std::isfinite(best.fluency)) fluency.push_back(best.fluency);
    if (r.self_bleu >= 0) self_bleu.push_back(r.self_bleu);
    for (const auto& c : r.counterfactuals) {  // the re-check: edits and a fresh forward pass
      ++checked;
      auto bad = [&](const std::string& what) { violations.push_back({{"index", r.index}, {"what", what}}); };
      if (perturb::apply_edits(r.original, c.edits, vocab.tokens()) != c.tokens) bad("the edits do not give the tokens");
      data::Example e = examples.at(r.index);
      e.tokens = c.tokens;
      if (e.tokens.empty()) {
        bad("an empty counterfactual");
        continue;
      }
      const data::Batch b = data::make_batch({&e}, vocab, model->config().pair);
      const at::Tensor p = torch::softmax(model->forward(b).logits.to(torch::kDouble), 1)[0];
      const int64_t pred = p.argmax().item<int64_t>();
      if (pred != c.prediction || pred != r.target) bad("a fresh forward pass does not give the target");
      if (std::abs(p[pred].item<double>() - c.probs[pred]) > 1e-4) bad("probabilities differ in a fresh pass");
    }
  }
  auto mean = [](const std::vector<double>& v) {
    return v.empty() ? Json(nullptr) : Json(std::accumulate(v.begin(), v.end(), 0.0) / v.size());
  };
  auto median = [](std::vector<double> v) {
    if (v.empty()) return Json(nullptr);
    std::sort(v.begin(), v.end());
    return Json(v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
  };
  return {{"method", options.method},
          {"options", options.to_json()},
          {"instances", results.size()},
          {"attempted", attempted},
          {"flipped", flipped},
          {"flip_rate", attempted > 0 ? Json(static_cast<double>(flipped) / attempted) : Json(nullptr)},
          {"minimality_median", median(minimality)},
          {"minimality_mean", mean(minimality)},
          {"fluency_ratio_mean", mean(fluency)},
          {"closeness_mean", mean(closeness)},
          {"self_bleu_mean", mean(self_bleu)},
          {"editor_passes_per_instance", mean(passes)},
          {"seconds_per_instance", mean(seconds)},
          {"denominators", {{"flip_rate", "attempted (the model does not already predict the target)"},
                            {"minimality", "flipped, the best counterfactual of each"},
                            {"self_bleu", "flipped instances with two or more counterfactuals"}}},
          {"verification", {{"checked", checked}, {"violations", violations.size()}, {"details", violations}}}};
}

}  // namespace lumen::attack
