// The training objective, written once: the trainer minimises it and influence (issue #12)
// differentiates it.
//   L(theta) = (1/n) sum_i w_{y_i} nll_i(theta) + (weight_decay / 2) sum_{p decayed} |p|^2
// nll_i the cross-entropy of example i, w_c the class weight (TrainOptions::class_weight), and
// "decayed" every parameter but the attention scorer's (the paper trains it without decay).
// The trainer's Adam adds weight_decay * p to each decayed gradient, which is the gradient of the
// second term, so the two are the same objective.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "models/classifier.h"

namespace lumen::train {

struct TrainOptions;

struct TrainingLoss {
  at::Tensor class_weights;  // [C] float32
  double weight_decay = 0;

  // The weights the trainer uses for `train` under `class_weight` (auto | none | balanced).
  static TrainingLoss make(const data::EncodedSet& train, int64_t num_classes, bool pair, const std::string& class_weight,
                           double weight_decay);
  // Weighted cross-entropy per example [B] (dtype of logits): w_{y_b} nll_b.
  at::Tensor per_example(const at::Tensor& logits, const at::Tensor& labels) const;
  // The batch mean of per_example: what the trainer back-propagates.
  at::Tensor mean(const at::Tensor& logits, const at::Tensor& labels) const;
  // (weight_decay / 2) sum |p|^2 over those of `params` that `model` decays (a 0-d tensor).
  at::Tensor regulariser(models::TextClassifier& model, const std::vector<at::Tensor>& params) const;
  // Whether `model` decays parameter `p`.
  static bool decayed(models::TextClassifier& model, const at::Tensor& p);
  Json to_json() const;
};

}  // namespace lumen::train
