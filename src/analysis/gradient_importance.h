// Gradient importance (Jain & Wallace 2019, section 3.1): the forward pass runs with the pooling
// attention detached, so gradients reach the embeddings through the encoder states only; the
// importance of token t is |sum_d g_{t,d} e_{t,d}|, with g the gradient of the output
// probability of the predicted class with respect to the embedded token (the gradient with
// respect to the one-hot input of the actual word). One backward pass serves the whole batch:
// rows are independent, so the gradient of the summed probabilities is each row's own.
#pragma once
#include <vector>

#include "data/batch.h"
#include "models/classifier.h"

namespace lumen::analysis {

struct GradientPass {
  // [B][n_b]: importance of each real token of each row.
  std::vector<std::vector<double>> importance;
  // The encoder results of the same pass, detached (for the analyses that reuse states).
  models::Encoded encoded;
};

GradientPass gradient_importance(models::TextClassifier& model, const data::Batch& batch);

// Values of `x` ([B, T], any float type) at the real tokens of each row (`token_mask`).
std::vector<std::vector<double>> per_token(const at::Tensor& x, const at::Tensor& token_mask);

}  // namespace lumen::analysis
