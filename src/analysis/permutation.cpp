#include "analysis/permutation.h"

#include <algorithm>
#include <numeric>

#include "core/rng.h"

namespace lumen::analysis {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::vector<double> permutation_tvds(models::TextClassifier& model, const Decision& d,
                                     const std::vector<std::vector<int64_t>>& perms) {
  std::vector<std::vector<double>> weights;
  weights.reserve(perms.size());
  for (const auto& p : perms) {
    std::vector<double> w(d.n);
    for (int64_t t = 0; t < d.n; ++t) w[t] = d.attention[p[t]];
    weights.push_back(std::move(w));
  }
  const auto probs = decode_weights(model, d, weights);
  std::vector<double> out;
  out.reserve(probs.size());
  for (const auto& p : probs) out.push_back(tvd(p.data(), d.probs.data(), d.classes));
  return out;
}

PermutationResult permutation_test(models::TextClassifier& model, const Decision& d, int64_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<int64_t>> perms(count, std::vector<int64_t>(d.n));
  for (auto& p : perms) {
    std::iota(p.begin(), p.end(), 0);
    rng.shuffle(p);
  }
  PermutationResult r;
  r.tvds = permutation_tvds(model, d, perms);
  const std::vector<double>& tvds = r.tvds;
  r.median_tvd = median(tvds);
  r.mean_tvd = tvds.empty() ? 0 : std::accumulate(tvds.begin(), tvds.end(), 0.0) / tvds.size();
  r.max_attention = d.attention.empty() ? 0 : *std::max_element(d.attention.begin(), d.attention.end());
  return r;
}

}  // namespace lumen::analysis
