// The one batch planner: every item placed once, bounds held, one oversized item alone.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/batch_plan.h"

namespace lumen::data {
namespace {

TEST(BatchPlan, SortsByLengthStablyAndHoldsTheRowAndPaddedPositionBounds) {
  const std::vector<int64_t> lengths = {5, 3, 9, 3, 12, 1, 5};
  EXPECT_EQ(length_order(lengths), (std::vector<int64_t>{5, 1, 3, 0, 6, 2, 4}));
  // Rows: consecutive groups of at most 3 of the sorted order.
  EXPECT_EQ(length_sorted_batches(lengths, {3, 0}),
            (std::vector<std::vector<int64_t>>{{5, 1, 3}, {0, 6, 2}, {4}}));
  // Padded positions: rows x the longest length <= 12; the 12-token item fills a batch alone.
  const auto by_tokens = length_sorted_batches(lengths, {0, 12});
  EXPECT_EQ(by_tokens, (std::vector<std::vector<int64_t>>{{5, 1, 3}, {0, 6}, {2}, {4}}));
  // An item over the bound by itself still gets a batch; every item appears exactly once.
  const auto tiny = length_sorted_batches(lengths, {0, 4});
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& b : tiny) {
    int64_t longest = 0;
    for (int64_t i : b) ++seen[i], longest = std::max(longest, lengths[i]);
    EXPECT_TRUE(b.size() == 1 || static_cast<int64_t>(b.size()) * longest <= 4);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(length_sorted_batches({}, {3, 0}).size(), 0u);
  EXPECT_THROW(length_sorted_batches(lengths, {-1, 0}), InvalidArgument);
}

TEST(BatchPlan, CountsWeightedRowsAndKeepsAGivenOrder) {
  // Items that stand for several rows each (an instance's deletions): at most 6 rows a batch.
  const std::vector<int64_t> lengths = {4, 2, 3, 5};
  const std::vector<int64_t> rows = {4, 2, 3, 5};
  EXPECT_EQ(plan_batches({0, 1, 2, 3}, lengths, {6, 0}, rows),
            (std::vector<std::vector<int64_t>>{{0, 1}, {2}, {3}}));
  EXPECT_EQ(plan_batches({3, 2, 1, 0}, lengths, {0, 0}), (std::vector<std::vector<int64_t>>{{3, 2, 1, 0}}));
  EXPECT_THROW(plan_batches({0}, lengths, {1, 0}, {1}), InvalidArgument);
}

TEST(BatchPlan, ConsecutiveBatchesKeepTheInputOrder) {
  EXPECT_EQ(consecutive_batches(5, 2), (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4}}));
  EXPECT_EQ(consecutive_batches(0, 2).size(), 0u);
}

TEST(BatchPlan, CopiesPerPassFollowTheChunkOrTheTokenBudget) {
  EXPECT_EQ(copies_per_pass(3, 1 << 14, 10, 100), 3);
  EXPECT_EQ(copies_per_pass(0, 16384, 1, 2002), 8);
  EXPECT_EQ(copies_per_pass(0, 100, 10, 100), 1);  // at least one copy
}

}  // namespace
}  // namespace lumen::data
