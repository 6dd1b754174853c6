#include <gtest/gtest.h>

#include "train/metrics.h"

namespace lumen::train {
namespace {

TEST(Metrics, RocAucCountsTiesHalf) {
  // Positives {0.8, 0.4}, negatives {0.4, 0.1}: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4 -> 1/2, 0.4>0.1) = 3.5 / 4.
  EXPECT_DOUBLE_EQ(roc_auc({0.8, 0.4, 0.4, 0.1}, {1, 1, 0, 0}), 0.875);
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.9}, {0, 1}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.1}, {0, 1}), 0.0);
  EXPECT_EQ(roc_auc({0.5, 0.6}, {1, 1}), -1);  // undefined with one class
}

TEST(Metrics, AccuracyAndF1ByHand) {
  // Predictions 1, 1, 0, 0 for labels 1, 0, 0, 1: tp = 1, fp = 1, fn = 1 -> F1 = 0.5.
  const auto m = compute_metrics({{0.2, 0.8}, {0.4, 0.6}, {0.9, 0.1}, {0.7, 0.3}}, {1, 0, 0, 1});
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 0.5);
  // Three classes, all right: macro-F1 = 1.
  const auto m3 = compute_metrics({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 1, 2});
  EXPECT_DOUBLE_EQ(m3.f1, 1.0);
  EXPECT_LT(m3.roc_auc, 0);
}

}  // namespace
}  // namespace lumen::train
