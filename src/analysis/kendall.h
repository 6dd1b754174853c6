// Kendall's tau-b with its two-sided p-value, computed as scipy.stats.kendalltau does
// (method "auto"): the exact permutation distribution when neither vector has ties and
// n <= 33 (or at most one discordant pair), otherwise the tie-corrected normal approximation.
// Kendall 1945; Jain & Wallace 2019 use it to compare attention with other importances.
#pragma once
#include <optional>
#include <vector>

#include "core/json.h"

namespace lumen::analysis {

struct KendallResult {
  // tau-b in [-1, 1]; undefined (nullopt) when n < 2 or either vector is constant.
  std::optional<double> tau;
  // Two-sided p-value; undefined exactly when tau is.
  std::optional<double> p_value;
  // "exact" or "asymptotic" (how the p-value was computed); "" when undefined.
  const char* method = "";
  int64_t n = 0;
  Json to_json() const;
};

// x and y must have the same length; throws InvalidArgument otherwise. O(n^2), meant for the
// per-instance vectors of token scores (n up to a few thousand).
KendallResult kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// P(|S| >= observed) for n items without ties, where c = min(concordant, discordant) pairs:
// 2 * #{permutations with <= c inversions} / n!, as SciPy's _kendall_p_exact.
double kendall_exact_p(int64_t n, int64_t c);

}  // namespace lumen::analysis
