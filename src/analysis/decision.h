// What the analyses of Jain & Wallace (2019) need from a model for one instance, taken from a
// single encoder pass: the pooling attention over the real tokens, the output distribution,
// and the decoder in a form that can be re-applied to other attention weights without running
// the encoder again (the permutation test and the adversarial search change attention only).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "models/classifier.h"

namespace lumen::analysis {

struct Decision {
  int64_t n = 0;        // real tokens
  int64_t classes = 0;  // output classes (2 for binary models: softmax([0, z]) = sigmoid(z))
  std::vector<double> attention;  // [n] pooling attention over the real tokens
  // [classes] the model's output distribution (affine decoders: as probs_for(attention)).
  std::vector<double> probs;
  // Affine decoders (single texts): logits(w) = sum_t w_t token_logits[t] + bias for any
  // weights w that sum to 1, with token_logits[t] = decoder(h_t) - decoder(0).
  std::vector<double> token_logits;  // [n * classes], row-major
  std::vector<double> bias;          // [classes]
  // Other decoders (pairs): the states of the real tokens [n, m] and the query [m] (float).
  at::Tensor states, query;
  bool affine() const { return !bias.empty(); }
  // Output distribution for attention weights w [n] (affine decoders only).
  std::vector<double> probs_for(const double* w) const;
};

// Softmax of logits [.., C] in float64.
at::Tensor output_probs(const at::Tensor& logits);
// Total variation distance 0.5 * sum |p - q|.
double tvd(const double* p, const double* q, int64_t c);
// Jensen-Shannon divergence with natural logs (0 <= JSD <= ln 2); 0 log 0 = 0.
double jsd(const double* p, const double* q, int64_t n);

// Decisions of the rows of `batch` from `encoded` (no gradients are taken). Requires a model
// with pooling attention.
std::vector<Decision> make_decisions(models::TextClassifier& model, const models::Encoded& encoded,
                                     const data::Batch& batch);

// Output distributions [k][classes] for attention weights `weights` ([k][n]) over the tokens
// of `d`, through the model's own decoder (any decoder; used for pairs and by the re-checks).
std::vector<std::vector<double>> decode_weights(models::TextClassifier& model, const Decision& d,
                                                const std::vector<std::vector<double>>& weights);

}  // namespace lumen::analysis
