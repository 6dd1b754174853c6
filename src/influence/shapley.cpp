#include "influence/shapley.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace lumen::influence {

void ShapleyOptions::validate() const {
  if (algorithm != "exact" && algorithm != "tmc" && algorithm != "g-shapley")
    throw InvalidArgument("shapley: the algorithm must be exact, tmc or g-shapley; got '" + algorithm + "'");
  if (max_permutations < 1 || min_permutations < 1 || min_permutations > max_permutations)
    throw InvalidArgument("shapley: need 1 <= min permutations <= max permutations");
  if (!(tolerance >= 0) || !(convergence > 0) || convergence_window < 1)
    throw InvalidArgument("shapley: tolerance >= 0, convergence > 0 and a window >= 1");
}

Json ShapleyOptions::to_json() const {
  return {{"algorithm", algorithm}, {"max_permutations", max_permutations}, {"min_permutations", min_permutations},
          {"tolerance", tolerance}, {"convergence", convergence},           {"convergence_window", convergence_window},
          {"seed", seed}};
}

Json ShapleyResult::to_json() const {
  Json j{{"permutations", permutations}, {"evaluations", evaluations}, {"converged", converged},
         {"full_utility", full_utility}, {"empty_utility", empty_utility}};
  if (!diagnosis.empty()) j["diagnosis"] = diagnosis;
  return j;
}

ShapleyResult exact_shapley(int64_t n, const Utility& u) {
  if (n < 1 || n > 20) throw InvalidArgument("shapley: exact enumeration needs 1 <= n <= 20 players, got " + std::to_string(n));
  const uint64_t subsets = uint64_t(1) << n;
  std::vector<double> value(subsets);
  for (uint64_t m = 0; m < subsets; ++m) {
    std::vector<int64_t> s;
    for (int64_t i = 0; i < n; ++i)
      if (m >> i & 1) s.push_back(i);
    value[m] = u(s);
  }
  // weight(k) = k! (n-k-1)! / n!
  std::vector<double> weight(n);
  for (int64_t k = 0; k < n; ++k) weight[k] = std::exp(std::lgamma(k + 1.0) + std::lgamma(n - k + 0.0) - std::lgamma(n + 1.0));
  ShapleyResult r;
  r.values.assign(n, 0.0);
  r.standard_error.assign(n, 0.0);
  for (uint64_t m = 0; m < subsets; ++m)
    for (int64_t i = 0; i < n; ++i)
      if (!(m >> i & 1)) r.values[i] += weight[__builtin_popcountll(m)] * (value[m | (uint64_t(1) << i)] - value[m]);
  r.evaluations = static_cast<int64_t>(subsets);
  r.converged = true;
  r.full_utility = value[subsets - 1];
  r.empty_utility = value[0];
  return r;
}

namespace {

// Running means and variances of the marginals, with the convergence rule.
struct Accumulator {
  std::vector<double> mean, m2;
  std::vector<std::vector<double>> history;  // the means after each permutation (last window + 1)
  int64_t count = 0;
  explicit Accumulator(int64_t n) : mean(n, 0.0), m2(n, 0.0) {}
  void add(const std::vector<double>& marginal, int64_t window) {
    ++count;
    for (size_t i = 0; i < mean.size(); ++i) {
      const double d = marginal[i] - mean[i];
      mean[i] += d / count;
      m2[i] += d * (marginal[i] - mean[i]);
    }
    history.push_back(mean);
    if (static_cast<int64_t>(history.size()) > window + 1) history.erase(history.begin());
  }
  // Mean over points of |phi_t - phi_{t-window}| / |phi_t| (points with phi_t = 0 skipped).
  double relative_change() const {
    if (history.size() < 2) return INFINITY;
    const auto& now = history.back();
    const auto& then = history.front();
    double sum = 0;
    int64_t k = 0;
    for (size_t i = 0; i < now.size(); ++i)
      if (std::abs(now[i]) > 1e-12) {
        sum += std::abs(now[i] - then[i]) / std::abs(now[i]);
        ++k;
      }
    return k > 0 ? sum / k : 0.0;
  }
  void finish(ShapleyResult& r) const {
    r.values = mean;
    r.standard_error.resize(mean.size());
    for (size_t i = 0; i < mean.size(); ++i) r.standard_error[i] = count > 1 ? std::sqrt(m2[i] / (count - 1) / count) : INFINITY;
    r.permutations = count;
  }
};

template <class Scan>
ShapleyResult monte_carlo(int64_t n, const ShapleyOptions& o, Scan scan) {
  o.validate();
  Rng rng(o.seed ^ 0x5AA9ULL);
  Accumulator acc(n);
  ShapleyResult r;
  std::vector<int64_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double change = INFINITY;
  for (int64_t t = 0; t < o.max_permutations; ++t) {
    rng.shuffle(perm);
    std::optional<std::vector<double>> m;
    if (o.memo && o.memo->recall) m = o.memo->recall(t);
    if (!m || static_cast<int64_t>(m->size()) != n) {
      m = scan(perm, r);
      if (o.memo && o.memo->remember) o.memo->remember(t, *m);
    }
    acc.add(*m, o.convergence_window);
    change = acc.relative_change();
    if (acc.count >= std::max(o.min_permutations, o.convergence_window + 1) && change < o.convergence) {
      r.converged = true;
      break;
    }
  }
  acc.finish(r);
  if (!r.converged) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "not converged after %lld permutations (mean relative change %.3g over the last %lld, the rule is < %.3g): "
                  "raise the permutation budget",
                  static_cast<long long>(r.permutations), change, static_cast<long long>(o.convergence_window), o.convergence);
    r.diagnosis = buf;
  }
  return r;
}

}  // namespace

ShapleyResult tmc_shapley(int64_t n, const Utility& u, const ShapleyOptions& o) {
  if (n < 1) throw InvalidArgument("shapley: no players");
  const double full = u(std::vector<int64_t>(
      [&] {
        std::vector<int64_t> all(n);
        std::iota(all.begin(), all.end(), 0);
        return all;
      }()));
  const double empty = u({});
  ShapleyResult r = monte_carlo(n, o, [&](const std::vector<int64_t>& perm, ShapleyResult& res) {
    std::vector<double> marginal(n, 0.0);
    std::vector<int64_t> prefix;
    double prev = empty;
    for (int64_t j = 0; j < n; ++j) {
      if (std::abs(full - prev) <= o.tolerance * std::abs(full)) break;  // truncation: the rest add ~0
      prefix.push_back(perm[j]);
      const double v = u(prefix);
      ++res.evaluations;
      marginal[perm[j]] = v - prev;
      prev = v;
    }
    return marginal;
  });
  r.full_utility = full;
  r.empty_utility = empty;
  r.evaluations += 2;
  return r;
}

ShapleyResult g_shapley(int64_t n, IncrementalLearner& learner, double empty, const ShapleyOptions& o) {
  if (n < 1) throw InvalidArgument("shapley: no players");
  double last = empty;
  ShapleyResult r = monte_carlo(n, o, [&](const std::vector<int64_t>& perm, ShapleyResult& res) {
    std::vector<double> marginal(n, 0.0);
    learner.reset();
    double prev = empty;
    for (int64_t j = 0; j < n; ++j) {
      learner.step(perm[j]);
      const double v = learner.utility();
      ++res.evaluations;
      marginal[perm[j]] = v - prev;
      prev = v;
    }
    last = prev;
    return marginal;
  });
  r.full_utility = last;
  r.empty_utility = empty;
  return r;
}

}  // namespace lumen::influence
