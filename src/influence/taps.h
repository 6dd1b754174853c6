// Internal: batched per-example gradients from a forward pass's recorded linear maps
// (models::TapRecorder), shared by (E)K-FAC and the per-example gradients of parameter
// selections beyond the decoder (TracIn on all parameters). For a map with inputs a (with a 1
// for its bias) and pre-activation gradients s, example b's gradient is sum_r s_br [a_br, 1]^T.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "models/classifier.h"

namespace lumen::influence {

struct BatchTaps {
  std::vector<models::LinearTap> taps;
  at::Tensor logits;
  // The embeddings the forward pass started from (leaves with gradients when asked).
  at::Tensor embeddings, embeddings_b;
};

// One forward pass in eval mode with a tap recorder; with `embedding_leaves` the embeddings are
// leaves that require gradients (for the embedding's per-example gradient).
BatchTaps forward_taps(models::TextClassifier& model, const data::Batch& batch, bool embedding_leaves = false,
                       models::TapRecorder::Mode mode = models::TapRecorder::Mode::kFast);

// d objective / d output of the taps `chosen` (padding rows zeroed), in the model's dtype [B, R, out] each;
// entries of other taps are undefined. Taps that share an output tensor are differentiated once.
// `extra` tensors (e.g. embeddings) are differentiated in the same pass into `extra_grads`.
std::vector<at::Tensor> output_gradients(const at::Tensor& objective, const std::vector<models::LinearTap>& taps,
                                         const std::vector<int>& chosen, bool retain, const std::vector<at::Tensor>& extra = {},
                                         std::vector<at::Tensor>* extra_grads = nullptr);

// A tap's inputs in `dtype` with the bias column when the map has a bias, padding rows zeroed.
at::Tensor augmented_input(const models::LinearTap& t, at::ScalarType dtype = at::kDouble);

// Per-example gradient [B, out, in] (float64) of the map recorded by taps `idx`, its products in
// the model's dtype; rotated into an eigenbasis (Q_S^T G Q_A) when qa / qs are given.
at::Tensor example_gradient(const std::vector<models::LinearTap>& taps, const std::vector<at::Tensor>& s,
                            const std::vector<int>& idx, const at::Tensor& qa = {}, const at::Tensor& qs = {});

// Items 0..n-1 dealt round-robin to one worker per core: worker w gets w, w + W, w + 2W, ...
// (length-sorted batches then balance, and every worker's sum is the same whatever the timing).
// f(worker, item); workers() is W.
int round_robin_workers();
void round_robin(int64_t n, const std::function<void(int64_t worker, int64_t item)>& f);

// Taps of each named layer: layer index -> tap indices.
std::vector<std::vector<int>> taps_by_layer(const std::vector<models::LinearTap>& taps, const std::vector<std::string>& layers);

}  // namespace lumen::influence
