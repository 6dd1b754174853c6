// Fast paths for single-text models with the fused BiLSTM encoder: gradient attributions
// through the LSTM input projections. (Leave-one-out and occlusion reuse the prefix and suffix
// states through the variant evaluator, perturb/variant_evaluator.h.)
//
// The LSTM reads each embedding e only through its input projection q = W_ih e (one 4H block per
// direction, + bias). So the gradient with respect to e is W_ih^T dP, with dP the gradient with
// respect to the projection (the kernel's pre-activation gate gradients), and
//   gradient x input        g . e = dP . q
//   integrated gradients    (e - e0) . mean_a grad(e0 + a (e - e0)) = mean_a dP(a) . (q - q0),
// where the path itself runs on projections q0 + a (q - q0) (linear in e). No input product is
// computed per path point or per position: projections once per distinct token, then only the
// recurrence forward and backward. Saliency (|W_ih^T dP|) needs one product over the real
// positions. The generic path (ExplainOptions::fast = false) is the twin the tests hold equal.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "explain/explainer.h"

namespace lumen::explain {

struct LstmProjection {
  at::Tensor w_ih;   // [8H, E]
  at::Tensor w_hh;   // [8H, H]
  at::Tensor bias;   // [8H] = b_ih + b_hh
  models::ForwardOptions forward;  // the options' forward options (the attention edit)
};

// The encoder's weights (detached) when `model` is a single-text model with the fused BiLSTM
// encoder and options.fast is set; nullopt otherwise (the caller takes the generic path).
std::optional<LstmProjection> lstm_projection(models::TextClassifier& model, const ExplainOptions& options);

// W_ih e (no bias) at every position of ids [B, T], one product per distinct id: [B, T, 8H].
at::Tensor token_projections(models::TextClassifier& model, const LstmProjection& p, const at::Tensor& ids);

// The target probability of every row of `batch` run from projections proj [R, T, 8H] (bias
// included) and its gradient with respect to proj. targets empty: the class the same pass
// predicts (returned in `targets`).
struct ProjectionGradients {
  at::Tensor prob;  // [R], detached
  at::Tensor grad;  // [R, T, 8H]
  std::vector<int64_t> targets;
};
ProjectionGradients projection_gradients(models::TextClassifier& model, const LstmProjection& p,
                                         const data::Batch& batch, const at::Tensor& proj,
                                         const std::vector<int64_t>& targets);

// The target probability without gradients from projections proj (bias included).
at::Tensor projection_probability(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                  const at::Tensor& proj, const std::vector<int64_t>& targets);

// |W_ih^T dP| per position [B, T] (float64, 0 outside token_mask): the L2 norm of the embedding
// gradient, one product over the real positions split over the cores.
at::Tensor embedding_gradient_norms(const LstmProjection& p, const at::Tensor& grad, const at::Tensor& token_mask);

}  // namespace lumen::explain
