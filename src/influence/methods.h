// Internal: the methods behind compute_influence (influence.h), one file each. Each fills
// result.scores [tests, train] (and result.self_influence when asked) or, when it cannot give
// numbers it trusts, leaves them undefined and says why in result.diagnostics.
#pragma once
#include "influence/gradients.h"
#include "influence/influence.h"

namespace lumen::influence {

void run_influence_functions(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);  // if-*
void run_fastif(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);
void run_sgd(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);
void run_tracin(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);
void run_kfac_influence(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);  // ekfac, kfac
void run_shapley(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);
void run_representer(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r);

// Data Shapley's removal curve: accuracy on `eval` of the last-layer learner (shapley_method.cpp)
// trained on the rows of `order` (the players) without its first fraction f, per f.
std::vector<double> last_layer_removal_curve(const InfluenceInputs& in, const std::vector<int64_t>& order,
                                             const std::vector<double>& fractions, const data::EncodedSet& eval);

// What influence functions and FastIF share: the model they differentiate (a float64 copy when
// the selection goes beyond the decoder), the selection, the training objective over the
// Hessian's rows (all, or `hessian_samples` drawn with the seed) and the point it is taken at.
struct SecondOrderSetup {
  models::TextClassifier model{nullptr};
  ParameterSelection sel;
  std::vector<int64_t> hessian_rows;
  Objective objective;
  std::vector<at::Tensor> at_params;
};
SecondOrderSetup second_order_setup(const InfluenceInputs& in, const InfluenceOptions& o);

// A copy of `model` (same configuration) in `dtype`, parameters copied.
models::TextClassifier clone_model(models::TextClassifier& model, const models::ModelConfig& config, at::ScalarType dtype);

// Rows 0..n-1.
std::vector<int64_t> all_rows(int64_t n);

}  // namespace lumen::influence
