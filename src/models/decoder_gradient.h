// The pooling attention and decoder of a single-text classifier with their gradient by hand:
// the target probability and its gradient with respect to the encoder states, from a few
// batched products and element passes, with no autograd graph (the attribution kernels call it
// once per pass of path points, where LibTorch's graph and its saved tensors cost as much as the
// recurrence). The plain twin is TextClassifierImpl::decode under autograd (tested equal).
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "models/classifier.h"

namespace lumen::models {

struct StateGradientResult {
  at::Tensor prob;  // [N] the target probability
  at::Tensor grad;  // [N, T, m] d prob / d states
  std::vector<int64_t> targets;  // [N] the classes explained (the predicted one where asked)
};

// states [N, T, m] (0 past each row's length), token_mask [N, T] (the positions attention may
// weigh), targets [N] (< 0: the class this pass predicts for the row). nullopt when the model or the options need the general decoder: text
// pairs, pooling = cls, uniform attention, attention interventions or edits, the unmasked
// diagnostic, a tap recorder or DifferentiableMode.
std::optional<StateGradientResult> decoder_gradient_by_hand(TextClassifierImpl& model, const at::Tensor& states,
                                                           const at::Tensor& token_mask,
                                                           const std::vector<int64_t>& targets,
                                                           const ForwardOptions& options);

}  // namespace lumen::models
