#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace lumen::train {

Json ClassificationMetrics::to_json() const {
  Json j{{"n", n}, {"loss", loss}, {"accuracy", accuracy}, {"f1", f1}};
  j["roc_auc"] = roc_auc >= 0 ? Json(roc_auc) : Json(nullptr);
  return j;
}

double roc_auc(const std::vector<double>& scores, const std::vector<int64_t>& labels) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U with average ranks for ties.
  std::vector<double> rank(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) ++j;
    const double r = 0.5 * (i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  double pos = 0, sum_pos = 0;
  for (size_t i = 0; i < n; ++i)
    if (labels[i] == 1) {
      ++pos;
      sum_pos += rank[i];
    }
  const double neg = static_cast<double>(n) - pos;
  if (pos == 0 || neg == 0) return -1;
  return (sum_pos - pos * (pos + 1) / 2) / (pos * neg);
}

ClassificationMetrics compute_metrics(const std::vector<std::vector<double>>& probs, const std::vector<int64_t>& labels) {
  if (probs.size() != labels.size()) throw InvalidArgument("metrics: probs and labels must have the same length");
  ClassificationMetrics m;
  m.n = static_cast<int64_t>(labels.size());
  if (m.n == 0) return m;
  const size_t C = probs[0].size();
  std::vector<int64_t> tp(C, 0), fp(C, 0), fn(C, 0);
  int64_t correct = 0;
  double loss = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const auto& p = probs[i];
    const int64_t pred = std::max_element(p.begin(), p.end()) - p.begin();
    const int64_t y = labels[i];
    correct += pred == y;
    if (pred == y) ++tp[y];
    else {
      ++fp[pred];
      if (y >= 0 && y < static_cast<int64_t>(C)) ++fn[y];
    }
    if (y >= 0 && y < static_cast<int64_t>(C)) loss -= std::log(std::max(p[y], 1e-12));
  }
  m.accuracy = static_cast<double>(correct) / m.n;
  m.loss = loss / m.n;
  auto f1_of = [&](size_t c) {
    const double d = 2.0 * tp[c] + fp[c] + fn[c];
    return d > 0 ? 2.0 * tp[c] / d : 0.0;
  };
  if (C == 2) {
    m.f1 = f1_of(1);
    std::vector<double> s(probs.size());
    for (size_t i = 0; i < probs.size(); ++i) s[i] = probs[i][1];
    m.roc_auc = roc_auc(s, labels);
  } else {
    double sum = 0;
    for (size_t c = 0; c < C; ++c) sum += f1_of(c);
    m.f1 = sum / C;
  }
  return m;
}

}  // namespace lumen::train
