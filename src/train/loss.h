// The training objective, written once: the trainer minimises it and influence (issue #12)
// differentiates it.
//   L(theta) = (1/n) sum_i w_{y_i} nll_i(theta) + (weight_decay / 2) sum_{p decayed} |p|^2
// nll_i the cross-entropy of example i, w_c the class weight (TrainOptions::class_weight), and
// "decayed" every parameter but the attention scorer's (the paper trains it without decay).
// The trainer's Adam adds weight_decay * p to each decayed gradient, which is the gradient of the
// second term, so the two are the same objective.
//
// Three optional auxiliary terms (0 = off) join the cross-entropy per example, for the fixes of
// the attention debate (issue #14):
//   diversity_weight * conicity_b   (Mohankumar et al. 2020's Diversity LSTM; conicity_penalty)
//   rationale_weight * rationale_b  (supervised attention; rationale_penalty)
//   - faithfulness_weight * reward_b (Moradi et al. 2021's faithfulness objective;
//                                     faithfulness_reward)
// so that L = (1/n) sum_i [w_{y_i} nll_i + aux_i] + decay. Influence differentiates the
// cross-entropy objective only and refuses runs trained with an auxiliary term.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "models/classifier.h"

namespace lumen::train {

struct TrainOptions;

struct TrainingLoss {
  at::Tensor class_weights;  // [C] float32
  double weight_decay = 0;
  double diversity_weight = 0, rationale_weight = 0;
  // Moradi et al.'s faithfulness reward (faithfulness_reward), its weight and the cap on each
  // counterfactual's negative log-likelihood. Needs `decoder`.
  double faithfulness_weight = 0, faithfulness_cap = 2.5;
  // The model's decoder: context [B, m] (and query [B, m] for pairs, else undefined) -> logits.
  // The faithfulness reward decodes counterfactual contexts with it; the trainer sets it.
  std::function<at::Tensor(const at::Tensor& context, const at::Tensor& query)> decoder;

  // The weights the trainer uses for `train` under `class_weight` (auto | none | balanced).
  static TrainingLoss make(const data::EncodedSet& train, int64_t num_classes, bool pair, const std::string& class_weight,
                           double weight_decay);
  // Weighted cross-entropy per example [B] (dtype of logits): w_{y_b} nll_b.
  at::Tensor per_example(const at::Tensor& logits, const at::Tensor& labels) const;
  // The batch mean of per_example.
  at::Tensor mean(const at::Tensor& logits, const at::Tensor& labels) const;
  bool has_auxiliary() const { return diversity_weight > 0 || rationale_weight > 0 || faithfulness_weight > 0; }
  // The auxiliary terms per example [B] for a forward pass `out` of `batch` (zeros when off):
  // diversity_weight * conicity_penalty(out.states) + rationale_weight *
  // rationale_penalty(out.pooling_attention, batch.rationale) - faithfulness_weight *
  // faithfulness_reward(decoder, out, batch.token_mask, faithfulness_cap).
  at::Tensor auxiliary(const models::ModelOutput& out, const data::Batch& batch) const;
  // What the trainer back-propagates: the batch mean of per_example + auxiliary.
  at::Tensor batch_objective(const models::ModelOutput& out, const data::Batch& batch) const;
  // Conicity of each row's states over its real tokens, as the Diversity LSTM's reference code
  // penalises it: (1/n) sum_t |cos(h_t, hbar)|, hbar = (1/n) sum_t h_t, cos(x, y) =
  // x.y / (max(|x|, 1e-6) max(|y|, 1e-6)). states [B, T, m], token_mask [B, T] bool -> [B].
  static at::Tensor conicity_penalty(const at::Tensor& states, const at::Tensor& token_mask);
  // Cross-entropy of the attention against the rationale's uniform distribution r (1/|R| on
  // each rationale position): -(1/|R|) sum_{t in R} log alpha_t = KL(r || alpha) + log |R|,
  // 0 for a row without a rationale. attention [B, T]; rationale [B, T] bool (undefined: all
  // zero) -> [B].
  static at::Tensor rationale_penalty(const at::Tensor& attention, const at::Tensor& rationale);
  // Moradi et al. (2021)'s faithfulness objective, as their reference code
  // (sfu-natlang/attention_regularization, onmt/utils/loss.py and modules/global_attention.py)
  // writes it for one attention: the model is rewarded when a counterfactual attention changes
  // its decision. For each counterfactual k of the pooling attention alpha (Counterfactual,
  // computed from alpha detached, so that no gradient reaches the attention scorer) the context
  // c_k = sum_t alpha_k,t h_t is decoded, and
  //   reward_b = sum_k lambda_k min(cap, -log p_k(yhat_b)),
  // yhat_b the model's own decision on the unperturbed attention (argmax of out.logits), the
  // lambdas kFaithfulnessLambdas (the reference's run: zero-max 0.568, permute 0.142, uniform
  // 0.285), cap 2.5 in the reference. Gradients reach the states h and the decoder. A row with
  // fewer than 2 real tokens has reward 0 (every counterfactual is its own attention there).
  // `keys` [B, T] uniform numbers order the permutation (undefined: drawn with torch::rand).
  enum class Counterfactual { kZeroMax, kPermute, kUniform };
  static constexpr std::array<double, 3> kFaithfulnessLambdas = {0.568, 0.142, 0.285};
  // The counterfactual attention over the real tokens of `token_mask` [B, T] bool, from
  // `attention` [B, T] (0 elsewhere): kZeroMax the largest weight set to 0 and the rest
  // renormalised (softmax of the scores with the top score at -inf; uniform over the others if
  // their weights underflowed to 0); kPermute the weights permuted among the real tokens, in the
  // order of `keys`; kUniform 1/n on each real token. Returned detached.
  static at::Tensor counterfactual_attention(const at::Tensor& attention, const at::Tensor& token_mask, Counterfactual kind,
                                             const at::Tensor& keys = {});
  static at::Tensor faithfulness_reward(
      const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& decoder, const models::ModelOutput& out,
      const at::Tensor& token_mask, double cap, const std::array<double, 3>& lambdas = kFaithfulnessLambdas,
      const at::Tensor& keys = {});
  // (weight_decay / 2) sum |p|^2 over those of `params` that `model` decays (a 0-d tensor).
  at::Tensor regulariser(models::TextClassifier& model, const std::vector<at::Tensor>& params) const;
  // Whether `model` decays parameter `p`.
  static bool decayed(models::TextClassifier& model, const at::Tensor& p);
  Json to_json() const;
};

// Wiegreffe & Pinter (2019, section 4)'s adversarial objective per example [B], for a model
// output `out` and its base model's `base` on the same batch: TVD(p, p_base) - lambda
// KL(alpha || alpha_base), the KL over the real tokens (0 log 0 = 0; alpha_base floored at 1e-10).
at::Tensor adversarial_loss(const models::ModelOutput& out, const models::ModelOutput& base, const data::Batch& batch,
                            double lambda);

}  // namespace lumen::train
