// The auxiliary training terms of train/loss.h: the Diversity LSTM's conicity penalty and
// rationale supervision equal their formulas on hand examples, their gradients match float64
// finite differences through every encoder that uses them, padding changes neither, and the
// trainer refuses settings that would silently train something else.
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

TEST(DiversityPenalty, EqualsItsFormulaOnAHandExample) {
  // Row 0: <s> (1,0) (0,1) (1,1) </s>: mean (2/3, 2/3); |cos| = 1/sqrt2, 1/sqrt2, 1.
  // Row 1: <s> (1,0) (-1,0) (2,0) </s> pad: mean (2/3, 0); cos = 1, -1, 1, so |cos| = 1.
  // <s>, </s> and padding hold large states that must not count.
  const at::Tensor states = torch::tensor({{{9., 9.}, {1., 0.}, {0., 1.}, {1., 1.}, {-7., 3.}, {0., 0.}},
                                           {{5., 5.}, {1., 0.}, {-1., 0.}, {2., 0.}, {4., -4.}, {0., 0.}}},
                                          torch::kDouble);
  const at::Tensor tokens = torch::tensor({{0, 1, 1, 1, 0, 0}, {0, 1, 1, 1, 0, 0}}, torch::kBool);
  const at::Tensor p = TrainingLoss::conicity_penalty(states, tokens);
  EXPECT_NEAR(p[0].item<double>(), (2 / std::sqrt(2.0) + 1) / 3, 1e-12);
  EXPECT_NEAR(p[1].item<double>(), 1.0, 1e-12);
}

TEST(RationalePenalty, EqualsTheCrossEntropyAgainstTheRationaleDistribution) {
  const at::Tensor att = torch::tensor({{0.0, 0.5, 0.25, 0.25, 0.0}, {0.0, 0.1, 0.2, 0.7, 0.0}}, torch::kDouble);
  const at::Tensor r = torch::tensor({{0, 1, 1, 0, 0}, {0, 0, 0, 0, 0}}, torch::kBool);
  const at::Tensor p = TrainingLoss::rationale_penalty(att, r);
  EXPECT_NEAR(p[0].item<double>(), -(std::log(0.5) + std::log(0.25)) / 2, 1e-12);
  EXPECT_EQ(p[1].item<double>(), 0.0);  // no rationale: no term
  // Attention equal to the rationale distribution reaches the minimum, log |R|.
  const at::Tensor best = torch::tensor({{0.0, 0.5, 0.5, 0.0, 0.0}}, torch::kDouble);
  EXPECT_NEAR(TrainingLoss::rationale_penalty(best, r.narrow(0, 0, 1))[0].item<double>(), std::log(2.0), 1e-12);
  EXPECT_EQ(TrainingLoss::rationale_penalty(att, at::Tensor()).abs().sum().item<double>(), 0.0);
}

data::Batch batch_with_rationales() {
  data::EncodedSet s;
  s.ids = {{4, 5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}};
  s.labels = {1, 0, 1};
  s.rationales = {{1, 3}, {}, {0}};
  return s.batch({0, 1, 2});
}

TEST(AuxiliaryLoss, BatchesCarryRationalePositionsPastTheStartToken) {
  const data::Batch b = batch_with_rationales();
  ASSERT_TRUE(b.rationale.defined());
  EXPECT_TRUE(torch::equal(b.rationale[0], torch::tensor({0, 0, 1, 0, 1, 0, 0}, torch::kBool)));
  EXPECT_EQ(b.rationale[1].sum().item<int64_t>(), 0);
  EXPECT_TRUE(b.rationale[2][1].item<bool>());
  const data::Batch one = data::select_rows(b, torch::tensor({1}));
  EXPECT_EQ(one.rationale.sizes(), one.ids.sizes());
}

class AuxiliaryGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(AuxiliaryGradients, MatchFiniteDifferencesInFloat64AndIgnorePadding) {
  torch::manual_seed(0);
  models::TextClassifier model(test::tiny_config(GetParam(), "additive", false));
  model->to(torch::kDouble);
  model->eval();
  const data::Batch b = batch_with_rationales();
  TrainingLoss loss;
  loss.class_weights = torch::ones({2});
  loss.diversity_weight = 0.7;
  loss.rationale_weight = 1.3;
  auto f = [&](const at::Tensor& emb) { return loss.batch_objective(model->forward_from_embeddings(emb, b), b); };
  const at::Tensor emb = model->embed(b.ids).detach();
  EXPECT_LT(test::max_directional_error(f, emb), 1e-5);
  // Each row's auxiliary term is the same alone as in the padded batch.
  torch::NoGradGuard ng;
  const at::Tensor all = loss.auxiliary(model->forward(b), b);
  EXPECT_GT(all.abs().min().item<double>(), 0.0);
  for (int64_t i = 0; i < 3; ++i) {
    const data::Batch row = data::select_rows(b, torch::tensor({i}));
    EXPECT_NEAR(loss.auxiliary(model->forward(row), row)[0].item<double>(), all[i].item<double>(), 1e-10) << "row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Encoders, AuxiliaryGradients, ::testing::Values("lstm", "ortho-lstm"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return i.param == "lstm" ? std::string("lstm") : std::string("ortho_lstm");
                         });

TEST(AdversarialLoss, IsTheOutputTvdMinusLambdaTimesTheAttentionKl) {
  // p = (0.2, 0.8) against (0.5, 0.5): TVD 0.3. alpha = (0.5, 0.5) against (0.25, 0.75) on two
  // real tokens (<s>, </s> weigh 0): KL = 0.5 log 2 + 0.5 log(2/3).
  models::ModelOutput out, base;
  out.logits = torch::log(torch::tensor({{0.2, 0.8}}, torch::kDouble));
  base.logits = torch::zeros({1, 2}, torch::kDouble);
  out.pooling_attention = torch::tensor({{0.0, 0.5, 0.5, 0.0}}, torch::kDouble);
  base.pooling_attention = torch::tensor({{0.0, 0.25, 0.75, 0.0}}, torch::kDouble);
  data::Batch b;
  b.token_mask = torch::tensor({{0, 1, 1, 0}}, torch::kBool);
  const double kl = 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0);
  EXPECT_NEAR(adversarial_loss(out, base, b, 0.0)[0].item<double>(), 0.3, 1e-12);
  EXPECT_NEAR(adversarial_loss(out, base, b, 2.0)[0].item<double>(), 0.3 - 2 * kl, 1e-12);
}

TEST(AdversarialLoss, GradientsMatchFiniteDifferencesInFloat64) {
  torch::manual_seed(1);
  models::TextClassifier base(test::tiny_config("lstm", "additive", false)), adversary(test::tiny_config("lstm", "additive", false));
  base->to(torch::kDouble);
  adversary->to(torch::kDouble);
  base->eval();
  adversary->eval();
  const data::Batch b = batch_with_rationales();
  models::ModelOutput fixed;
  {
    torch::NoGradGuard ng;
    fixed = base->forward(b);
  }
  auto f = [&](const at::Tensor& emb) { return adversarial_loss(adversary->forward_from_embeddings(emb, b), fixed, b, 0.3).sum(); };
  EXPECT_LT(test::max_directional_error(f, adversary->embed(b.ids).detach()), 1e-5);
}

TEST(AuxiliaryLoss, TheTrainerRefusesSettingsThatWouldTrainSomethingElse) {
  data::EncodedSet s;
  s.ids = {{4, 5}, {6, 7}};
  s.labels = {0, 1};
  TrainOptions o;
  o.epochs = 1;
  o.progress = false;
  {
    models::TextClassifier m(test::tiny_config("diversity-lstm", "additive", false));
    o.diversity_weight = 0;
    EXPECT_THROW(fit(m, s, s, o), InvalidArgument);  // it would be the vanilla BiLSTM
    o.diversity_weight = -1;
    EXPECT_EQ(o.diversity_for(m->config()), 0.5);
    EXPECT_NO_THROW(fit(m, s, s, o));
  }
  {
    models::TextClassifier m(test::tiny_config("lstm", "additive", false));
    o.rationale_weight = 1;
    try {
      fit(m, s, s, o);
      FAIL() << "no rationales";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("rationale=FIELD"), std::string::npos) << e.what();
    }
    s.rationales = {{0}, {1}};
    EXPECT_NO_THROW(fit(m, s, s, o));
    o.rationale_weight = -1;
    EXPECT_THROW(o.validate(), InvalidArgument);
  }
}

}  // namespace
}  // namespace lumen::train
