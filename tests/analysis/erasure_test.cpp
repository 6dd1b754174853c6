// Serrano & Smith's erasure test (analysis/erasure.h): its closed form where the output is an
// attention-weighted sum of token scores, the running-sum fast path equal to the batched plain
// twin, the pair models' attention gradient against finite differences, and the analysis
// records and summary that `lumen analyze --only erasure` writes; and the conicity of states.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "analysis/conicity.h"
#include "analysis/erasure.h"
#include "analysis/jain_wallace.h"
#include "core/error.h"
#include "core/rng.h"
#include "support/fixtures.h"

namespace lumen::analysis {
namespace {

// A binary affine decision: logit(w) = sum_t w_t z_t (softmax([0, logit]) = sigmoid).
Decision binary(const std::vector<double>& attention, const std::vector<double>& z) {
  Decision d;
  d.n = static_cast<int64_t>(attention.size());
  d.classes = 2;
  d.attention = attention;
  for (double v : z) d.token_logits.insert(d.token_logits.end(), {0.0, v});
  d.bias = {0.0, 0.0};
  d.probs = d.probs_for(d.attention.data());
  return d;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

const ErasureOrder& order(const ErasureResult& r, const std::string& name) {
  for (const auto& o : r.orders)
    if (o.ranking == name) return o;
  throw std::runtime_error("no ranking " + name);
}

TEST(Erasure, HasItsClosedFormWhenTheOutputIsTheAttentionWeightedScore) {
  models::TextClassifier none{nullptr};  // affine decisions never reach the model
  // logit = 0.4*0.5 + 0.3*3 - 0.2 - 0.1 = 0.8: class 1.
  const Decision d = binary({0.4, 0.3, 0.2, 0.1}, {0.5, 3, -1, -1});
  const ErasureResult r = erasure_test(none, d, /*loo=*/{0, 0, 0, 1}, 11);
  // Attention order 0, 1, 2: without 0 the logit is (0.9 - 0.3) / 0.6 = 1; without 0 and 1 it
  // is -0.3 / 0.3 = -1: the decision flips after 2 of 4 items, 0.7 of the mass.
  EXPECT_EQ(order(r, "attention").removed, 2);
  EXPECT_DOUBLE_EQ(order(r, "attention").fraction, 0.5);
  EXPECT_NEAR(order(r, "attention").mass, 0.7, 1e-12);
  // d p1 / d a_t = p1 p0 z_t ranks item 1 first; without it the logit is -0.1 / 0.7.
  EXPECT_EQ(order(r, "gradient").removed, 1);
  EXPECT_NEAR(order(r, "gradient").mass, 0.3, 1e-12);
  EXPECT_EQ(order(r, "attention_gradient").removed, 1);
  // Leave-one-out ranks 3 first, then 0, 1, 2 (ties by position): flips after 3 (mass 0.8).
  EXPECT_EQ(order(r, "loo").removed, 3);
  EXPECT_NEAR(order(r, "loo").mass, 0.8, 1e-12);
  // The attention gradient itself.
  const std::vector<double> g = attention_gradient(none, d);
  const double p1 = sigmoid(0.8);
  const std::vector<double> z = {0.5, 3, -1, -1};
  for (int t = 0; t < 4; ++t) EXPECT_NEAR(g[t], p1 * (1 - p1) * z[t], 1e-12);
  // Single weight: i* = 0, whose erasure leaves logit 1; r is another item.
  EXPECT_EQ(r.top, 0);
  ASSERT_GE(r.random, 1);
  const double p[2] = {1 - p1, p1}, q[2] = {1 - sigmoid(1.0), sigmoid(1.0)};
  EXPECT_NEAR(r.jsd_top, jsd(p, q, 2), 1e-12);
  EXPECT_FALSE(r.flip_top);
  // A decision every erasure keeps never flips: fraction and mass 1, removed unset.
  const ErasureResult keep = erasure_test(none, binary({0.5, 0.3, 0.2}, {1, 2, 3}), {}, 3);
  for (const auto& o : keep.orders) {
    EXPECT_FALSE(o.removed.has_value()) << o.ranking;
    EXPECT_EQ(o.fraction, 1.0);
  }
  EXPECT_EQ(keep.orders.size(), 4u);  // no loo ranking without LOO importances
}

TEST(Erasure, RenormalisesTheRestAndRefusesWhenNothingIsLeft) {
  const std::vector<double> w = erase_weights({0.5, 0.25, 0.25}, {0});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 0);
  EXPECT_DOUBLE_EQ(w[1], 0.5);
  EXPECT_DOUBLE_EQ(w[2], 0.5);
  EXPECT_TRUE(erase_weights({1.0, 0.0}, {0}).empty());
}

class ErasureModels : public test::SeededTest {};

TEST_F(ErasureModels, TheRunningSumsEqualTheBatchedPlainTwin) {
  models::TextClassifier none{nullptr};
  Rng rng(5);
  int flips = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = 2 + trial % 30, classes = 2 + trial % 3;
    Decision d;
    d.n = n;
    d.classes = classes;
    double s = 0;
    for (int64_t t = 0; t < n; ++t) s += d.attention.emplace_back(std::exp(2 * rng.normal()));
    for (double& a : d.attention) a /= s;
    for (int64_t i = 0; i < n * classes; ++i) d.token_logits.push_back(rng.normal());
    for (int64_t c = 0; c < classes; ++c) d.bias.push_back(0.3 * rng.normal());
    d.probs = d.probs_for(d.attention.data());
    std::vector<double> loo(n);
    for (double& v : loo) v = rng.normal();
    const ErasureResult fast = erasure_test(none, d, loo, trial, true);
    const ErasureResult plain = erasure_test(none, d, loo, trial, false);
    ASSERT_EQ(fast.orders.size(), plain.orders.size());
    for (size_t o = 0; o < fast.orders.size(); ++o) {
      EXPECT_EQ(fast.orders[o].removed, plain.orders[o].removed) << trial << " " << fast.orders[o].ranking;
      EXPECT_NEAR(fast.orders[o].mass, plain.orders[o].mass, 1e-9) << trial;
      flips += fast.orders[o].removed.has_value();
    }
    EXPECT_EQ(fast.to_json().dump(), plain.to_json().dump()) << trial;
  }
  EXPECT_GT(flips, 200);  // the comparison covers many flips
}

TEST_F(ErasureModels, PairModelsTakeTheAttentionGradientThroughTheirDecoder) {
  models::TextClassifier model(test::tiny_config("lstm", "additive", true));
  model->eval();
  const data::Batch batch = test::batch_of({{5, 6, 7, 8, 9}}, {{10, 11, 12}});
  Decision d;
  {
    torch::NoGradGuard ng;
    models::Encoded enc = model->encode(model->embed(batch.ids), batch, {});
    d = make_decisions(model, enc, batch)[0];
  }
  ASSERT_FALSE(d.affine());
  const std::vector<double> g = attention_gradient(model, d);
  const int64_t y = std::max_element(d.probs.begin(), d.probs.end()) - d.probs.begin();
  for (int64_t t = 0; t < d.n; ++t) {
    std::vector<double> up = d.attention, down = d.attention;
    up[t] += 1e-3;
    down[t] -= 1e-3;
    const auto p = decode_weights(model, d, {up, down});
    EXPECT_NEAR(g[t], (p[0][y] - p[1][y]) / 2e-3, 1e-3 * std::max(1.0, std::abs(g[t]))) << t;
  }
  // The erasure test runs on the pair model through its decoder.
  const ErasureResult r = erasure_test(model, d, {}, 1);
  EXPECT_EQ(r.orders.size(), 4u);
}

TEST(Conicity, IsOneForAlignedStatesAndOneOverRootMForAnOrthonormalBasis) {
  const at::Tensor same = torch::tensor({1.0, 2.0, -1.0}).repeat({4, 1}) * torch::tensor({1.0, 2.0, 0.5, 3.0}).unsqueeze(1);
  EXPECT_NEAR(conicity(same), 1.0, 1e-12);
  for (int64_t m : {2, 5, 16}) EXPECT_NEAR(conicity(torch::eye(m, torch::kDouble)), 1 / std::sqrt(double(m)), 1e-12) << m;
  EXPECT_EQ(conicity(torch::tensor({{1.0, 0.0}, {-1.0, 0.0}}, torch::kDouble)), 0.0);  // the mean is zero
  EXPECT_THROW(conicity(torch::zeros({0, 3})), InvalidArgument);
}

}  // namespace
}  // namespace lumen::analysis
