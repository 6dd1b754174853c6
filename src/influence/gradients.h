// What every influence method reads from a model (issue #12): the parameters it differentiates,
// chosen by group, the decoder's input features, per-example gradients of the training loss in
// bounded chunks, and the training objective as a function of the chosen parameters for
// second-order solvers.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "influence/hessian.h"
#include "models/classifier.h"
#include "train/loss.h"

namespace lumen::influence {

// A set of the model's parameters, chosen by group: `all`, `last` (= `decoder`, the output
// layers), `attention` (the pooling attention's scorer), `encoder`, `embedding`, or a comma
// list of them. Throws InvalidArgument for an unknown group or one the model lacks.
struct ParameterSelection {
  std::string spec;
  std::vector<std::string> groups;  // decoder, attention, encoder, embedding (output first)
  std::vector<std::string> names;   // "out.weight", ...
  std::vector<at::Tensor> tensors;  // the model's own parameters, in that order
  int64_t count = 0;
  // Exactly the decoder: the methods then run on cached features, in float64, in closed form.
  bool decoder_only() const { return groups.size() == 1 && groups[0] == "decoder"; }
  Json to_json() const;
};
ParameterSelection select_parameters(models::TextClassifier model, const std::string& spec);

// The decoder's inputs for every row of `set` (eval mode, no gradients), float64:
// context [n, m] and, for pairs, query [n, m] (undefined otherwise).
struct Features {
  at::Tensor context, query;
  Features rows(const std::vector<int64_t>& rows) const;
};
Features decoder_features(models::TextClassifier& model, const data::EncodedSet& set, int64_t batch_rows = 64);
// [n, m] -> [n, m + 1] float64 with a last column of ones: a last layer's bias as a weight.
at::Tensor with_bias_column(const at::Tensor& features);

// Per-example gradients of a chunk of rows in parts: the selection's parameters before the
// embedding densely, and the embedding's gradient (when selected; always the selection's last
// tensor) sparsely, as each example's distinct token ids and their gradient rows. The embedding
// of a large vocabulary is most of the parameters, and an example touches few of its rows.
struct GradientParts {
  at::Tensor dense;                 // [B, D] float64, D = the parameters before the embedding
  std::vector<at::Tensor> tokens;   // per example [k] int64, ascending (empty: no embedding part)
  std::vector<at::Tensor> values;   // per example [k, E] float64
  int64_t embedding_dim = 0;        // E (0: no embedding part)
  int64_t rows() const { return dense.size(0); }
  // [B, D + V*E]: the flattened selection (V = vocab).
  at::Tensor to_dense(int64_t vocab) const;
  // [B] squared norms; [B, B'] dot products with another chunk of the same selection.
  at::Tensor squared_norms() const;
  at::Tensor dot(const GradientParts& other) const;
};

// Per-example gradients of `loss` (train/loss.h, without the regulariser: Koh & Liang's
// L(z, theta)) with respect to a parameter selection, float64 [rows, P], P in the selection's
// order flattened. Labels come from `labels` when given (e.g. the predicted class of a test
// point), else from the set.
class PerExampleGradients {
 public:
  PerExampleGradients(models::TextClassifier model, train::TrainingLoss loss, ParameterSelection params);
  // The fast paths: decoder-only selections of single-text models in closed form from the
  // features; selections made of recorded linear maps (models::LinearLayer) and the embedding
  // in batches from one backward pass each (batched()); otherwise one example at a time
  // through autograd.
  at::Tensor compute(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& labels = {});
  // The same gradients in parts (the embedding sparse), for products and norms without the
  // dense [rows, P] matrix. Without a batched path, `dense` holds everything.
  GradientParts compute_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                              const std::vector<int64_t>& labels = {});
  // Squared norms [rows] of the gradients, without assembling them (self-influence).
  at::Tensor squared_norms(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& labels = {});
  // Whether every selected tensor is covered by recorded linear maps or is the embedding.
  bool batched() const { return batched_; }
  // The plain twin: always one example at a time through autograd (tests hold compute() to it).
  at::Tensor compute_plain(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& labels = {});
  // Rows per chunk so that a chunk of gradients stays within `memory_bytes` (>= 1).
  int64_t chunk_rows(int64_t memory_bytes = int64_t(256) << 20) const;
  // Calls f(rows, gradients) for consecutive chunks of `rows` (all rows of the set when empty),
  // never holding more than one chunk: memory is flat in the set's size.
  void for_each_chunk(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                      const std::function<void(const std::vector<int64_t>&, const at::Tensor&)>& f,
                      const std::vector<int64_t>& labels = {}, int64_t memory_bytes = int64_t(256) << 20);
  // The same over compute_parts(): chunks sized by the dense part (plus an embedding part of
  // up to 256 rows an example).
  void for_each_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                      const std::function<void(const std::vector<int64_t>&, const GradientParts&)>& f,
                      const std::vector<int64_t>& labels = {}, int64_t memory_bytes = int64_t(256) << 20);
  const ParameterSelection& params() const { return params_; }
  const train::TrainingLoss& loss() const { return loss_; }

 private:
  models::TextClassifier model_;
  train::TrainingLoss loss_;
  ParameterSelection params_;
  // Cached features of the last set seen by the fast path.
  const data::EncodedSet* cached_set_ = nullptr;
  Features cached_;
  // The batched path's layout: per recorded map, where its weight rows and biases go in the
  // dense part (offsets into it; -1: not selected).
  struct MapSlot {
    std::string name;
    int64_t in = 0, rows = 0, weight_at = -1;
    std::vector<int64_t> bias_at;
  };
  std::vector<MapSlot> layout_;
  int64_t dense_count_ = 0;
  bool embedding_ = false, batched_ = false;
  GradientParts batched_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& y);
  // One backward pass per batch of rows: visit(rows' places, per-map gradients [b, rows, in(+1)]
  // (undefined: the map was not applied), embedding tokens, embedding rows).
  using BatchVisitor = std::function<void(const std::vector<int64_t>&, const std::vector<at::Tensor>&,
                                          const std::vector<at::Tensor>&, const std::vector<at::Tensor>&)>;
  void for_each_batch(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& y,
                      const BatchVisitor& visit);
};

// The training objective restricted to `rows` of `train`, as a function of the selection:
// (1/|rows|) sum w_y nll + the regulariser on the selection, for hvp()/solve(). Decoder-only
// selections evaluate the decoder on cached float64 features (params are the decoder's, any
// dtype); other selections run the whole model in differentiable mode on the model's own
// parameters (pass the selection's tensors as `params`; hessian.h then uses them in place).
Objective training_objective(models::TextClassifier model, const train::TrainingLoss& loss, const ParameterSelection& params,
                             const data::EncodedSet& train, const std::vector<int64_t>& rows);

// The selection's current values as float64 copies (for decoder-only objectives).
std::vector<at::Tensor> detached_values(const ParameterSelection& params);

}  // namespace lumen::influence
