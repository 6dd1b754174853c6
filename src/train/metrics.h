// Classification metrics: accuracy, macro-F1 (binary: F1 of the positive class, index 1) and
// ROC-AUC (binary, ties counted half, as scikit-learn's roc_auc_score).
#pragma once
#include <cstdint>
#include <vector>

#include "core/json.h"

namespace lumen::train {

struct ClassificationMetrics {
  int64_t n = 0;
  double loss = 0;
  double accuracy = 0;
  double f1 = 0;         // binary: positive-class F1; otherwise macro-F1
  double roc_auc = -1;   // binary only; -1 when undefined (a single class present)
  Json to_json() const;
};

// probs [n][C] (rows sum to 1), labels [n] in 0..C-1.
ClassificationMetrics compute_metrics(const std::vector<std::vector<double>>& probs, const std::vector<int64_t>& labels);

// ROC-AUC of scores for labels in {0, 1}; -1 when one class is absent.
double roc_auc(const std::vector<double>& scores, const std::vector<int64_t>& labels);

}  // namespace lumen::train
