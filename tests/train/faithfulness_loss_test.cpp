// Moradi et al. (2021)'s faithfulness objective (train/loss.h): the counterfactual attentions
// of their reference code on hand examples, the reward equal to its formula (with the cap), its
// gradient (counterfactual attentions held fixed, as the reference detaches them) against
// float64 finite differences through the encoders, padding changing nothing, and the trainer's
// refusals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "data/encoded_set.h"
#include "train/loss.h"
#include "train/trainer.h"
#include "support/fixtures.h"

namespace lumen::train {
namespace {

using CF = TrainingLoss::Counterfactual;

bool near(const at::Tensor& a, const at::Tensor& b, double tol = 1e-12) {
  return a.sizes() == b.sizes() && (a - b).abs().max().item<double>() < tol;
}

TEST(FaithfulnessCounterfactuals, AreThoseOfTheReferenceCodeOverTheRealTokensOnly) {
  // <s> a b c </s> pad: the real tokens are positions 1..3.
  const at::Tensor att = torch::tensor({{0.0, 0.5, 0.3, 0.2, 0.0, 0.0}}, torch::kDouble);
  const at::Tensor tokens = torch::tensor({{0, 1, 1, 1, 0, 0}}, torch::kBool);
  // Top weight zeroed, the rest renormalised: softmax of the scores with the top one at -inf.
  EXPECT_TRUE(near(TrainingLoss::counterfactual_attention(att, tokens, CF::kZeroMax),
                   torch::tensor({{0.0, 0.0, 0.6, 0.4, 0.0, 0.0}}, torch::kDouble)));
  EXPECT_TRUE(near(TrainingLoss::counterfactual_attention(att, tokens, CF::kUniform),
                   torch::tensor({{0.0, 1 / 3.0, 1 / 3.0, 1 / 3.0, 0.0, 0.0}}, torch::kDouble)));
  // The keys order the real positions: keys (.9, .1, .5) on positions 1, 2, 3 put position 2's
  // weight first, then position 3's, then position 1's.
  const at::Tensor keys = torch::tensor({{0.0, 0.9, 0.1, 0.5, 0.0, 0.0}}, torch::kDouble);
  EXPECT_TRUE(near(TrainingLoss::counterfactual_attention(att, tokens, CF::kPermute, keys),
                   torch::tensor({{0.0, 0.3, 0.2, 0.5, 0.0, 0.0}}, torch::kDouble)));
  // A random permutation keeps the multiset of weights and the zeros off the real tokens.
  const at::Tensor p = TrainingLoss::counterfactual_attention(att, tokens, CF::kPermute);
  EXPECT_TRUE(near(std::get<0>(p.sort(1)), std::get<0>(att.sort(1))));
  EXPECT_EQ(p[0][0].item<double>() + p[0][4].item<double>() + p[0][5].item<double>(), 0.0);
  // All mass on one token: the other weights underflowed, so zero-max falls back to uniform
  // over the other real tokens.
  const at::Tensor peaked = torch::tensor({{0.0, 0.0, 1.0, 0.0, 0.0}}, torch::kDouble);
  EXPECT_TRUE(near(TrainingLoss::counterfactual_attention(peaked, torch::tensor({{0, 1, 1, 1, 0}}, torch::kBool), CF::kZeroMax),
                   torch::tensor({{0.0, 0.5, 0.0, 0.5, 0.0}}, torch::kDouble)));
}

// A decoder on 1-d states: logits [0, 2c - 1], so p(class 1) = sigmoid(2c - 1).
at::Tensor line_decoder(const at::Tensor& c, const at::Tensor&) {
  return torch::cat({torch::zeros({c.size(0), 1}, c.options()), 2 * c - 1}, 1);
}

double log_sigmoid(double z) { return -std::log1p(std::exp(-z)); }

TEST(FaithfulnessReward, EqualsTheCappedNegativeLogLikelihoodOfTheOwnDecisionUnderEachCounterfactual) {
  // States h = (<s>) 2, 1, 0 (</s>) on three real tokens; attention (0.5, 0.3, 0.2).
  models::ModelOutput out;
  out.states = torch::tensor({{{9.0}, {2.0}, {1.0}, {0.0}, {9.0}}}, torch::kDouble);
  out.pooling_attention = torch::tensor({{0.0, 0.5, 0.3, 0.2, 0.0}}, torch::kDouble);
  out.logits = line_decoder(torch::tensor({{1.3}}, torch::kDouble), {});  // c = 0.5*2 + 0.3*1 = 1.3: decision 1
  const at::Tensor tokens = torch::tensor({{0, 1, 1, 1, 0}}, torch::kBool);
  const at::Tensor keys = torch::tensor({{0.0, 0.9, 0.1, 0.5, 0.0}}, torch::kDouble);  // permuted (0.3, 0.2, 0.5)
  // Contexts: zero-max (0, 0.6, 0.4) -> 0.6; permuted 0.3*2 + 0.2*1 = 0.8; uniform 1.
  const double zero_max = -log_sigmoid(2 * 0.6 - 1), permute = -log_sigmoid(2 * 0.8 - 1), uniform = -log_sigmoid(1.0);
  const auto& l = TrainingLoss::kFaithfulnessLambdas;
  EXPECT_NEAR(TrainingLoss::faithfulness_reward(line_decoder, out, tokens, 2.5, l, keys)[0].item<double>(),
              l[0] * zero_max + l[1] * permute + l[2] * uniform, 1e-12);
  // The cap bounds each counterfactual's term.
  EXPECT_NEAR(TrainingLoss::faithfulness_reward(line_decoder, out, tokens, 0.4, l, keys)[0].item<double>(),
              l[0] * std::min(0.4, zero_max) + l[1] * std::min(0.4, permute) + l[2] * std::min(0.4, uniform), 1e-12);
  // One counterfactual alone.
  EXPECT_NEAR(TrainingLoss::faithfulness_reward(line_decoder, out, tokens, 2.5, {1.0, 0.0, 0.0}, keys)[0].item<double>(), zero_max,
              1e-12);
  // A row with one real token has no counterfactual: reward 0.
  const at::Tensor one = torch::tensor({{0, 1, 0, 0, 0}}, torch::kBool);
  models::ModelOutput single = out;
  single.pooling_attention = torch::tensor({{0.0, 1.0, 0.0, 0.0, 0.0}}, torch::kDouble);
  EXPECT_EQ(TrainingLoss::faithfulness_reward(line_decoder, single, one, 2.5)[0].item<double>(), 0.0);
  // The auxiliary term subtracts the weighted reward from the objective.
  TrainingLoss loss;
  loss.class_weights = torch::ones({2});
  loss.faithfulness_weight = 0.7;
  loss.decoder = line_decoder;
  data::Batch b;
  b.token_mask = tokens;
  const double reward_mean = TrainingLoss::faithfulness_reward(line_decoder, out, tokens, 2.5, l, keys)[0].item<double>();
  const double reward_drawn = -loss.auxiliary(out, b)[0].item<double>() / 0.7;
  // Only the permutation is random: the drawn reward lies between its extremes.
  EXPECT_NEAR(reward_drawn, reward_mean, l[1] * 0.5);
  EXPECT_THROW(TrainingLoss::faithfulness_reward({}, out, tokens, 2.5), InvalidArgument);
}

data::Batch three_rows() {
  data::EncodedSet s;
  s.ids = {{4, 5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}};
  s.labels = {1, 0, 1};
  return s.batch({0, 1, 2});
}

class FaithfulnessGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(FaithfulnessGradients, MatchFiniteDifferencesInFloat64AndIgnorePadding) {
  torch::manual_seed(0);
  models::TextClassifier model(test::tiny_config(GetParam(), "additive", false));
  model->to(torch::kDouble);
  model->eval();
  const data::Batch b = three_rows();
  TrainingLoss loss;
  loss.class_weights = torch::ones({2});
  loss.faithfulness_weight = 0.9;
  loss.faithfulness_cap = 50;  // no row at the cap's kink
  loss.decoder = [model](const at::Tensor& c, const at::Tensor& q) mutable { return model->decoder(c, q); };
  // The counterfactual attentions are functions of alpha taken without gradient (as in the
  // reference code): the objective's gradient is that of the function with the counterfactual
  // attentions frozen at their value. Check that function against finite differences, and the
  // trainer's objective's gradient against it at the point.
  const at::Tensor emb = model->embed(b.ids).detach();
  at::Tensor alpha0;
  {
    torch::NoGradGuard ng;
    alpha0 = model->forward_from_embeddings(emb, b).pooling_attention.clone();
  }
  // The objective with the counterfactual attentions frozen at alpha0 and the permutation keys.
  auto frozen_with = [&](const at::Tensor& keys) {
    return [&, keys](const at::Tensor& e) {
      models::ModelOutput out = model->forward_from_embeddings(e, b);
      const at::Tensor ce = loss.per_example(out.logits, b.labels);
      out.pooling_attention = alpha0;
      return (ce - 0.9 * TrainingLoss::faithfulness_reward(loss.decoder, out, b.token_mask, 50,
                                                           TrainingLoss::kFaithfulnessLambdas, keys))
          .mean();
    };
  };
  const auto frozen = frozen_with(torch::rand(b.ids.sizes(), torch::kDouble));
  EXPECT_LT(test::max_directional_error(frozen, emb), 1e-5);
  auto grad_of = [&](const std::function<at::Tensor(const at::Tensor&)>& f) {
    const at::Tensor e = emb.clone().requires_grad_(true);
    return torch::autograd::grad({f(e)}, {e})[0];
  };
  // The trainer's objective draws the permutation from torch's generator; the same keys come
  // from the same seed.
  torch::manual_seed(11);
  const at::Tensor drawn = torch::rand(b.ids.sizes(), torch::kDouble);
  const auto frozen_drawn = frozen_with(drawn);
  const at::Tensor g_trainer = grad_of([&](const at::Tensor& e) {
    torch::manual_seed(11);
    return loss.batch_objective(model->forward_from_embeddings(e, b), b);
  });
  EXPECT_LT((g_trainer - grad_of(frozen_drawn)).abs().max().item<double>(), 1e-12);
  EXPECT_GT(g_trainer.abs().max().item<double>(), 0.0);
  // Each row's reward is the same alone as in the padded batch (same permutation keys).
  torch::NoGradGuard ng;
  const at::Tensor keys = torch::rand(b.ids.sizes(), torch::kDouble);
  const at::Tensor all = TrainingLoss::faithfulness_reward(loss.decoder, model->forward(b), b.token_mask, 2.5,
                                                           TrainingLoss::kFaithfulnessLambdas, keys);
  EXPECT_GT(all.min().item<double>(), 0.0);
  for (int64_t i = 0; i < 3; ++i) {
    const data::Batch row = data::select_rows(b, torch::tensor({i}));
    const at::Tensor row_keys = keys.narrow(0, i, 1).narrow(1, 0, row.ids.size(1));
    EXPECT_NEAR(TrainingLoss::faithfulness_reward(loss.decoder, model->forward(row), row.token_mask, 2.5,
                                                  TrainingLoss::kFaithfulnessLambdas, row_keys)[0].item<double>(),
                all[i].item<double>(), 1e-10)
        << "row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Encoders, FaithfulnessGradients, ::testing::Values("lstm", "cnn", "transformer"));

TEST(FaithfulnessObjective, TheTrainerTrainsWithItAndRefusesAModelWithoutPoolingAttention) {
  data::EncodedSet s;
  s.ids = {{4, 5, 6}, {6, 7, 8}, {4, 9}, {7, 5}};
  s.labels = {0, 1, 0, 1};
  TrainOptions o;
  o.epochs = 2;
  o.progress = false;
  o.faithfulness_weight = 1;
  {
    torch::manual_seed(0);
    models::TextClassifier m(test::tiny_config("lstm", "additive", false));
    const TrainResult r = fit(m, s, s, o);
    EXPECT_EQ(r.epochs.size(), 2u);
    EXPECT_TRUE(std::isfinite(r.epochs[1].train_loss));
    EXPECT_EQ(o.to_json()["faithfulness_weight"].get<double>(), 1.0);
  }
  {
    models::ModelConfig c = test::tiny_config("transformer", "dot", false);
    c.pooling = "cls";
    models::TextClassifier m(c);
    EXPECT_THROW(fit(m, s, s, o), InvalidArgument);
  }
  o.faithfulness_weight = -0.5;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

}  // namespace
}  // namespace lumen::train
