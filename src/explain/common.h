// Helpers shared by the attribution methods: eval-mode guard, targets, gradients of the target
// probability with respect to the embeddings, and batched evaluation of perturbed inputs.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "explain/explainer.h"
#include "models/eval_guard.h"
#include "perturb/variant_evaluator.h"

namespace lumen::explain {

using models::EvalGuard;

// The class explained in each row: options.targets (validated) or the predicted class.
std::vector<int64_t> resolve_targets(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o);

// Probability of class targets[r] in row r of `logits` [R, C] -> [R] (autograd kept).
at::Tensor target_probability(const at::Tensor& logits, const at::Tensor& targets);
at::Tensor targets_tensor(const std::vector<int64_t>& targets);

// Gradient of the summed target probabilities with respect to the embeddings emb_a (and emb_b
// for pairs); rows are independent, so each row receives its own gradient. prob: [R] detached.
struct EmbeddingGradients {
  at::Tensor prob, grad_a, grad_b;
};
EmbeddingGradients embedding_gradients(models::TextClassifier& model, const data::Batch& batch, const at::Tensor& emb_a,
                                       const at::Tensor& emb_b, const at::Tensor& targets,
                                       const models::ForwardOptions& options = {});

// The embedding that replaces a token at the start of the integrated-gradients path, for every
// position of `ids` [B, T] ([B, T, E]); <s>, </s> and padding keep their own embedding.
at::Tensor baseline_embeddings(models::TextClassifier& model, const at::Tensor& ids, const at::Tensor& token_mask,
                               Baseline baseline);

// Ids of the real tokens of each row (no <s>, </s>, padding).
std::vector<std::vector<int64_t>> real_ids(const at::Tensor& ids, const at::Tensor& token_mask);

// A perturbed input of row `row`: the token ids of its first (and second) text.
using perturb::Text;
using perturb::Variant;

// The target probability of every variant (targets[v.row]) through the variant evaluator
// (perturb/variant_evaluator.h): batches of at most `max_tokens` padded positions spread over the
// cores, the originals' BiLSTM states reused when `reuse`. originals[r]: row r's texts.
std::vector<double> variant_probabilities(models::TextClassifier& model, const std::vector<Text>& originals,
                                          const std::vector<Variant>& variants, const std::vector<int64_t>& targets,
                                          const ExplainOptions& options);

// Row r's texts of `batch` (real tokens).
std::vector<Text> batch_texts(const data::Batch& batch);

// `ids` with the positions flagged in `removed` deleted or replaced according to `r`.
std::vector<int64_t> remove_tokens(const std::vector<int64_t>& ids, const std::vector<char>& removed, Removal r);

// Per-row real-token values -> [B, T] float64, 0 outside token_mask.
at::Tensor scatter_rows(const std::vector<std::vector<double>>& rows, const at::Tensor& token_mask);

// Sum over the embedding dimension of x * y -> [B, T], zeroed outside token_mask, float64.
at::Tensor token_dot(const at::Tensor& x, const at::Tensor& y, const at::Tensor& token_mask);

// Self-attention maps [B, heads, T, T] of every Transformer layer and the pooling attention
// [B, T] (undefined with pooling=cls), from one forward pass without gradients.
struct AttentionMaps {
  std::vector<at::Tensor> layers;
  at::Tensor pooling;
};
AttentionMaps attention_maps(models::TextClassifier& model, const data::Batch& batch,
                             const models::ForwardOptions& options = {});

// Row r's self-attention layers over its n non-padding positions ([n, n] each; one head, or the
// mean over heads for head < 0), and the distribution the output reads at the top: the pooling
// attention, or a one-hot row at <s> for models pooled at <s>. float64.
std::vector<at::Tensor> row_layers(const AttentionMaps& maps, int64_t r, int64_t n, int64_t head);
at::Tensor row_output(const AttentionMaps& maps, int64_t r, int64_t n);

// Embeddings of both texts (b undefined for single texts) and the gradient of the target
// probabilities with respect to them, at the input itself.
struct InputGradients {
  at::Tensor emb_a, emb_b;
  EmbeddingGradients grads;
};
InputGradients input_gradients(models::TextClassifier& model, const data::Batch& batch,
                               const std::vector<int64_t>& targets, const models::ForwardOptions& options = {});

}  // namespace lumen::explain
