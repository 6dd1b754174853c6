// Shared by Grad-SAM and AttAttr: which attention layers a method covers, and how a layer's
// [B, H, T, T] (or pooling [B, T]) map of relevances becomes token scores [B, T].
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "data/batch.h"
#include "explain/explainer.h"

namespace lumen::explain {

// Layers covered: options.layer if >= 0 (a self-attention layer), else every self-attention
// layer and then the pooling attention (-1) when the model has one.
std::vector<int64_t> covered_layers(models::TextClassifier& model, const ExplainOptions& o);

// Token scores of one layer's relevance map: pooling [B, T] as is; self-attention [B, H, T, T]:
// the relevance of each key position summed over the non-padding queries, for one head or
// averaged over heads. Zero outside token_mask; float64.
at::Tensor layer_token_scores(const at::Tensor& relevance, const data::Batch& batch, int64_t head);

// Per-row JSON of per-layer token scores: {"layers": [{"layer": l, "scores": [...]}, ...]}.
std::vector<Json> layer_details(const std::vector<int64_t>& layers, const std::vector<at::Tensor>& scores,
                                const data::Batch& batch);

}  // namespace lumen::explain
