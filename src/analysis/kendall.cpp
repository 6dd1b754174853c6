#include "analysis/kendall.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"

namespace lumen::analysis {

Json KendallResult::to_json() const {
  return {{"tau", tau ? Json(*tau) : Json(nullptr)},
          {"p_value", p_value ? Json(*p_value) : Json(nullptr)},
          {"method", method},
          {"n", n}};
}

double kendall_exact_p(int64_t n, int64_t c) {
  if (n <= 0 || c < 0) throw InvalidArgument("kendall: n must be > 0 and c >= 0");
  const int64_t tot = n * (n - 1) / 2;
  c = std::min(c, tot - c);
  if (n <= 2 || 4 * c == n * (n - 1)) return 1.0;  // the observed count is the distribution's centre
  // prob[k] = P(k inversions) for a random permutation of j items, k <= c. Inserting item j
  // adds 0..j-1 inversions with equal probability: prob_j(k) = (1/j) sum_{i<j} prob_{j-1}(k-i).
  std::vector<double> prob(c + 1, 0.0), next(c + 1);
  prob[0] = 1.0;
  for (int64_t j = 2; j <= n; ++j) {
    double window = 0.0;
    for (int64_t k = 0; k <= c; ++k) {
      window += prob[k];
      if (k - j >= 0) window -= prob[k - j];
      next[k] = window / static_cast<double>(j);
    }
    prob.swap(next);
  }
  double lower_tail = 0.0;
  for (double v : prob) lower_tail += v;
  return std::min(1.0, 2.0 * lower_tail);
}

namespace {

struct TieStats {
  double pairs = 0;   // sum t (t - 1) / 2
  double v0 = 0;      // sum t (t - 1) (t - 2)
  double v1 = 0;      // sum t (t - 1) (2t + 5)
};

TieStats tie_stats(const std::vector<double>& v) {
  std::map<double, int64_t> counts;
  for (double x : v) ++counts[x];
  TieStats s;
  for (const auto& [value, t] : counts) {
    if (t < 2) continue;
    const double d = static_cast<double>(t);
    s.pairs += d * (d - 1) / 2;
    s.v0 += d * (d - 1) * (d - 2);
    s.v1 += d * (d - 1) * (2 * d + 5);
  }
  return s;
}

}  // namespace

KendallResult kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw InvalidArgument("kendall: x and y must have the same length, got " + std::to_string(x.size()) + " and " +
                          std::to_string(y.size()));
  KendallResult r;
  const int64_t n = static_cast<int64_t>(x.size());
  r.n = n;
  if (n < 2) return r;
  for (double v : x)
    if (std::isnan(v)) throw InvalidArgument("kendall: x contains NaN");
  for (double v : y)
    if (std::isnan(v)) throw InvalidArgument("kendall: y contains NaN");
  double con = 0, dis = 0;  // pairs tied in x or in y count in neither
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 || dy == 0) continue;
      if ((dx > 0) == (dy > 0)) ++con;
      else ++dis;
    }
  const TieStats tx = tie_stats(x), ty = tie_stats(y);
  const double tot = static_cast<double>(n) * (n - 1) / 2;
  if (tx.pairs == tot || ty.pairs == tot) return r;  // a constant vector: tau is undefined
  const double s = con - dis;
  r.tau = std::min(1.0, std::max(-1.0, s / std::sqrt(tot - tx.pairs) / std::sqrt(tot - ty.pairs)));
  if (tx.pairs == 0 && ty.pairs == 0 && (n <= 33 || std::min(dis, tot - dis) <= 1)) {
    r.method = "exact";
    r.p_value = kendall_exact_p(n, static_cast<int64_t>(tot - dis));
  } else {
    // Variance of S under independence with ties (Kendall 1970), as SciPy.
    const double m = static_cast<double>(n) * (n - 1);
    const double var = (m * (2.0 * n + 5) - tx.v1 - ty.v1) / 18 + (2 * tx.pairs * ty.pairs) / m +
                       tx.v0 * ty.v0 / (9 * m * (n - 2));
    const double z = s / std::sqrt(var);
    r.method = "asymptotic";
    r.p_value = std::erfc(std::abs(z) / std::sqrt(2.0));  // 2 * P(Z > |z|)
  }
  return r;
}

}  // namespace lumen::analysis
