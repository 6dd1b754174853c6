// Factories of the registered attribution methods (one file each; registry.cpp lists them) and
// the pure functions behind them that tests check against known answers.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

#include "explain/explainer.h"

namespace lumen::explain {

std::unique_ptr<Explainer> make_attention_explainer();      // attention.cpp
std::unique_ptr<Explainer> make_rollout_explainer();        // rollout.cpp
std::unique_ptr<Explainer> make_flow_explainer();           // flow.cpp
std::unique_ptr<Explainer> make_saliency_explainer();       // saliency.cpp
std::unique_ptr<Explainer> make_grad_input_explainer();     // grad_input.cpp
std::unique_ptr<Explainer> make_ig_explainer();             // integrated_gradients.cpp
std::unique_ptr<Explainer> make_smoothgrad_explainer();     // smoothgrad.cpp
std::unique_ptr<Explainer> make_loo_explainer();            // leave_one_out.cpp
std::unique_ptr<Explainer> make_occlusion_explainer();      // occlusion.cpp
std::unique_ptr<Explainer> make_lime_explainer();           // lime.cpp
std::unique_ptr<Explainer> make_kernel_shap_explainer();    // kernel_shap.cpp
std::unique_ptr<Explainer> make_grad_sam_explainer();       // grad_sam.cpp
std::unique_ptr<Explainer> make_att_attr_explainer();       // att_attr.cpp

// Occlusion by windows of `ngram` tokens (occlusion.cpp): a token's score is the mean drop
// p(target | x) - p(target | x without the window) over the windows covering it; ngram = 1 is
// leave-one-out. `full_probs` (optional) receives p(target | x) per row.
BatchAttribution window_drops(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o,
                              int64_t ngram, std::vector<double>* full_probs);

// The residual-adjusted layer of rollout and flow: 0.5 A + 0.5 I with rows renormalised
// (A [n, n], float64).
at::Tensor residual_adjusted(const at::Tensor& a);

// Integrated gradients of a scalar function f (rows [k, ...] -> [k]) at x from `baseline`
// along the straight path, midpoint Riemann sum with `steps` points evaluated `chunk` at a time
// (0: all at once): (x - x') * mean_j grad f(x' + a_j (x - x')), a_j = (j + 1/2) / steps.
// Exact for a linear f at any step count; for a piecewise-linear f whenever every kink of the
// path falls on a step boundary.
at::Tensor integrated_gradients(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x,
                                const at::Tensor& baseline, int64_t steps, int64_t chunk = 0);

// Attention rollout (Abnar & Zuidema 2020) over n positions: layers[l] is layer l's attention
// [n, n] (rows = queries, averaged over heads), each taken as 0.5 A + 0.5 I with rows
// renormalised; returns R = A^_L ... A^_1 [n, n] (row i: how much top position i draws on
// input position j). float64.
at::Tensor rollout_matrix(const std::vector<at::Tensor>& layers);

// Attention flow (Abnar & Zuidema 2020): the layer graph of rollout (nodes = positions at
// input and after each layer, edge capacities = the residual-adjusted attention), plus an
// output node fed by the top positions with capacities `output` [n] (the pooling attention, or
// a one-hot row for a single query). Returns, for each input position j, the maximum flow from
// (input, j) to the output node (a real max-flow, Dinic's algorithm).
std::vector<double> flow_to_output(const std::vector<at::Tensor>& layers, const std::vector<double>& output);
// Maximum flow from input position j to top position i for every (i, j) [n, n].
at::Tensor flow_matrix(const std::vector<at::Tensor>& layers);

// Weighted ridge regression with an unpenalised intercept: features X [S, d] (0/1), targets
// y [S], weights w [S] -> coefficients [d] (intercept dropped). float64. Shared by LIME and
// Kernel SHAP.
std::vector<double> weighted_ridge(const std::vector<std::vector<char>>& X, const std::vector<double>& y,
                                   const std::vector<double>& w, double ridge);

// A seed for one instance from the global seed and its token ids, so that sampled methods give
// a row the same samples alone as inside a batch.
uint64_t row_seed(uint64_t seed, const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace lumen::explain
