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
#include "models/lstm_path.h"

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

// The target probability without gradients from projections proj (bias included).
at::Tensor projection_probability(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                  const at::Tensor& proj, const std::vector<int64_t>& targets);

// The gradient of the target probability with respect to the encoder states, for the path kernel
// (models/lstm_path.h): the states of requests for rows of `batch` run through the decoder and
// attention (the decoder's gradient by hand, models/decoder_gradient.h, or autograd over the
// decoder only when the options need the general one). targets [B] are per batch row; an entry
// < 0 is replaced by the class the pass predicts for that row. The returned function refers to
// `model`, `p`, `batch` and `targets`, which must outlive it.
models::StateGradient decoder_gradient(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                       std::vector<int64_t>& targets);

// Gradient x input and the projection gradient at the input itself, from one pass of the path
// kernel (alpha = 1, base = bias, diff = the projections q): dot [B, T] = dP . q (float64, 0
// outside token_mask) and, with keep_grad, dP [B, T, 8H]. targets empty: the predicted classes
// (returned).
struct KernelGradients {
  at::Tensor dot, grad;
  std::vector<int64_t> targets;
};
KernelGradients input_projection_gradients(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                          const std::vector<int64_t>& targets, bool keep_grad);

// |W_ih^T dP| per position [B, T] (float64, 0 outside token_mask): the L2 norm of the embedding
// gradient, one product over the real positions split over the cores.
at::Tensor embedding_gradient_norms(const LstmProjection& p, const at::Tensor& grad, const at::Tensor& token_mask);

}  // namespace lumen::explain
