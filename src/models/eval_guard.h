// Eval mode for a scope: the model's previous training mode comes back when the guard goes,
// also when an exception leaves the scope. Everything that evaluates a model it did not create
// (explainers, analyses, evaluation during training) holds one.
#pragma once
#include "models/classifier.h"

namespace lumen::models {

class EvalGuard {
 public:
  explicit EvalGuard(TextClassifier& model) : model_(model), was_training_(model->is_training()) { model_->eval(); }
  ~EvalGuard() { model_->train(was_training_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  TextClassifier model_;
  bool was_training_;
};

}  // namespace lumen::models
