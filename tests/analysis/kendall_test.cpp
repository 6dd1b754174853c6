// Kendall tau-b and its p-value: expected values derived by hand in the comments, plus the
// example of scipy.stats.kendalltau's documentation.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/kendall.h"
#include "core/error.h"
#include "core/rng.h"

namespace lumen::analysis {
namespace {

TEST(Kendall, IdenticalAndReversedOrdersUseTheExactDistribution) {
  // n = 5, all 10 pairs concordant: tau = 1; the only permutation with 0 inversions, and its
  // mirror, give p = 2 / 5! = 1/60.
  const auto same = kendall_tau_b({1, 2, 3, 4, 5}, {10, 20, 30, 40, 50});
  EXPECT_DOUBLE_EQ(*same.tau, 1.0);
  EXPECT_NEAR(*same.p_value, 1.0 / 60, 1e-15);
  EXPECT_STREQ(same.method, "exact");
  const auto rev = kendall_tau_b({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1});
  EXPECT_DOUBLE_EQ(*rev.tau, -1.0);
  EXPECT_NEAR(*rev.p_value, 1.0 / 60, 1e-15);
}

TEST(Kendall, OneSwapByHand) {
  // n = 4 with one discordant pair: S = 5 - 1 = 4, tau = 4/6. Permutations of 4 with <= 1
  // inversion: 1 + 3 = 4 of 24, two-sided p = 2 * 4/24 = 1/3.
  const auto r = kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4});
  EXPECT_NEAR(*r.tau, 4.0 / 6.0, 1e-15);
  EXPECT_NEAR(*r.p_value, 1.0 / 3.0, 1e-15);
  // Mahonian numbers for n = 5: 1, 4, 9, 15, 20, ... so c = 2 gives 2 * 14 / 120.
  EXPECT_NEAR(kendall_exact_p(5, 2), 28.0 / 120.0, 1e-15);
  // The centre of the distribution (4c = n(n-1)) has p = 1.
  EXPECT_DOUBLE_EQ(kendall_exact_p(4, 3), 1.0);
}

TEST(Kendall, WithTiesMatchesScipysDocumentedExample) {
  // scipy.stats.kendalltau documentation: x1 = [12, 2, 1, 12, 2], x2 = [1, 4, 7, 1, 0]
  // -> statistic -0.47140452079103173, pvalue 0.2827454599327748 (ties: asymptotic).
  const auto r = kendall_tau_b({12, 2, 1, 12, 2}, {1, 4, 7, 1, 0});
  EXPECT_NEAR(*r.tau, -0.47140452079103173, 1e-15);
  EXPECT_NEAR(*r.p_value, 0.2827454599327748, 1e-12);
  EXPECT_STREQ(r.method, "asymptotic");
}

TEST(Kendall, TauBByHandWithTies) {
  // x = [1, 2, 2, 3], y = [1, 2, 3, 4]: of 6 pairs, (2,3) is tied in x; the other 5 are
  // concordant. tau_b = 5 / sqrt((6 - 1) * 6) = 5 / sqrt(30).
  const auto r = kendall_tau_b({1, 2, 2, 3}, {1, 2, 3, 4});
  EXPECT_NEAR(*r.tau, 5.0 / std::sqrt(30.0), 1e-15);
  // Variance with ties in x only: (m (2n + 5) - x1) / 18 with m = 12, x1 = 2*1*9 = 18:
  // (12 * 13 - 18) / 18 = 138 / 18; z = 5 / sqrt(138/18); p = erfc(|z| / sqrt 2).
  EXPECT_NEAR(*r.p_value, std::erfc(5.0 / std::sqrt(138.0 / 18.0) / std::sqrt(2.0)), 1e-15);
}

TEST(Kendall, LargeSamplesWithoutTiesUseTheNormalApproximation) {
  // n = 40 > 33: variance n (n - 1) (2n + 5) / 18.
  std::vector<double> x, y;
  Rng rng(3);
  for (int i = 0; i < 40; ++i) {
    x.push_back(i);
    y.push_back(i + 15 * rng.normal());
  }
  const auto r = kendall_tau_b(x, y);
  EXPECT_STREQ(r.method, "asymptotic");
  double s = 0;
  for (int i = 0; i < 40; ++i)
    for (int j = i + 1; j < 40; ++j) s += ((y[j] - y[i]) > 0) ? 1 : -1;
  EXPECT_NEAR(*r.tau, s / 780.0, 1e-15);
  EXPECT_NEAR(*r.p_value, std::erfc(std::abs(s) / std::sqrt(40.0 * 39 * 85 / 18) / std::sqrt(2.0)), 1e-13);
  // Negating y negates tau and keeps the two-sided p-value.
  std::vector<double> neg;
  for (double v : y) neg.push_back(-v);
  const auto flipped = kendall_tau_b(x, neg);
  EXPECT_NEAR(*flipped.tau, -*r.tau, 1e-15);
  EXPECT_NEAR(*flipped.p_value, *r.p_value, 1e-15);
}

TEST(Kendall, ConstantOrTooShortVectorsAreUndefinedNotANumber) {
  EXPECT_FALSE(kendall_tau_b({1, 1, 1}, {1, 2, 3}).tau.has_value());
  EXPECT_FALSE(kendall_tau_b({1, 2, 3}, {4, 4, 4}).p_value.has_value());
  EXPECT_FALSE(kendall_tau_b({1}, {2}).tau.has_value());
  EXPECT_TRUE(kendall_tau_b({1, 1, 1}, {1, 2, 3}).to_json()["tau"].is_null());
  EXPECT_THROW(kendall_tau_b({1, 2}, {1}), InvalidArgument);
  EXPECT_THROW(kendall_tau_b({1, NAN}, {1, 2}), InvalidArgument);
}

TEST(Kendall, ExactDistributionSumsToOneAndMatchesEnumerationForSmallN) {
  // Enumerate all permutations of 6 items and count inversions.
  std::vector<int> perm = {0, 1, 2, 3, 4, 5};
  std::vector<double> count(16, 0);
  do {
    int inv = 0;
    for (int i = 0; i < 6; ++i)
      for (int j = i + 1; j < 6; ++j) inv += perm[i] > perm[j];
    ++count[inv];
  } while (std::next_permutation(perm.begin(), perm.end()));
  double cum = 0;
  for (int c = 0; c <= 7; ++c) {
    cum += count[c];
    EXPECT_NEAR(kendall_exact_p(6, c), std::min(1.0, 2 * cum / 720), 1e-14) << c;
  }
}

}  // namespace
}  // namespace lumen::analysis
