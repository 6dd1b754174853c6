// Attribution methods against known answers (TESTING.md fixtures M1, M3, M5): integrated
// gradients on linear and piecewise-linear functions, completeness on a trained model in
// float64, leave-one-out against one-at-a-time recomputation, rollout and flow against hand
// computation, Grad-SAM and AttAttr against finite differences.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/spec.h"
#include "explain/common.h"
#include "explain/methods.h"
#include "support/fixtures.h"
#include "train/trainer.h"

namespace lumen::explain {
namespace {

using test::batch_of;
using test::tiny_config;

TEST(IntegratedGradients, ExactOnALinearModelForAnyStepCount) {
  // M1: f = w . sum_i e_i over a [3, 4] "sentence" of embeddings.
  torch::manual_seed(3);
  const at::Tensor w = torch::randn({4}, torch::kDouble);
  const at::Tensor x = torch::randn({3, 4}, torch::kDouble), x0 = torch::randn({3, 4}, torch::kDouble);
  auto f = [&](const at::Tensor& p) { return (p.sum(1) * w).sum(1); };
  const at::Tensor expected = (x - x0) * w;
  for (int64_t steps : {1, 2, 3, 7, 50, 301}) {
    const at::Tensor a = integrated_gradients(f, x, x0, steps, 4);
    EXPECT_LT((a - expected).abs().max().item<double>(), 1e-12) << steps << " steps";
    // Completeness holds exactly as well.
    EXPECT_NEAR(a.sum().item<double>(), (f(x.unsqueeze(0)) - f(x0.unsqueeze(0))).item<double>(), 1e-12);
  }
}

TEST(IntegratedGradients, MatchesTheClosedFormOnTwoImplementationsOfOneFunction) {
  // M3 (Sundararajan et al. 2017, implementation invariance): both functions are
  // relu(2a - 1) along the path a (3, 1); IG = [1.5, -0.5] whenever the kink a = 1/2 falls on a
  // step boundary of the midpoint rule (even step counts).
  auto f1 = [](const at::Tensor& p) {
    const at::Tensor x1 = p.select(1, 0), x2 = p.select(1, 1);
    return torch::relu(torch::relu(x1) - 1 - torch::relu(x2));
  };
  auto f2 = [](const at::Tensor& p) {
    const at::Tensor x1 = p.select(1, 0), x2 = p.select(1, 1);
    return torch::relu(torch::relu(x1 - 1) - torch::relu(x2));
  };
  const at::Tensor x = torch::tensor({3.0, 1.0}, torch::kDouble), x0 = torch::zeros({2}, torch::kDouble);
  for (int64_t steps : {2, 10, 50, 512}) {
    const at::Tensor a1 = integrated_gradients(f1, x, x0, steps, 7);
    const at::Tensor a2 = integrated_gradients(f2, x, x0, steps);
    EXPECT_NEAR(a1[0].item<double>(), 1.5, 1e-12) << steps;
    EXPECT_NEAR(a1[1].item<double>(), -0.5, 1e-12) << steps;
    EXPECT_TRUE(torch::equal(a1, a2)) << steps << " steps: " << a1 << " vs " << a2;
  }
}

// M5: a tiny attention classifier trained on the keyword task, returned in float64.
models::TextClassifier trained_fixture(const std::string& encoder, data::Vocab* vocab_out = nullptr,
                                       data::Dataset* ds_out = nullptr) {
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=400&length=12&seed=5"));
  std::vector<const std::vector<std::string>*> texts;
  for (auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  torch::manual_seed(0);
  models::ModelConfig c = tiny_config(encoder, "additive", false);
  c.vocab_size = vocab.size();
  c.embed_dim = 16;
  c.hidden = 8;
  models::TextClassifier model(c);
  train::TrainOptions to;
  to.epochs = 4;
  to.progress = false;
  train::fit(model, data::EncodedSet::from(ds.train, vocab, false), data::EncodedSet::from(ds.dev, vocab, false), to);
  model->to(torch::kDouble);
  if (vocab_out) *vocab_out = vocab;
  if (ds_out) *ds_out = ds;
  return model;
}

TEST(IntegratedGradients, CompletenessWithinOneThousandthOnATrainedModelInFloat64) {
  for (const char* encoder : {"lstm", "transformer"}) {
    data::Vocab vocab;
    data::Dataset ds;
    auto model = trained_fixture(encoder, &vocab, &ds);
    std::vector<const data::Example*> ex;
    for (int i = 0; i < 8; ++i) ex.push_back(&ds.test[i]);
    const data::Batch batch = data::make_batch(ex, vocab, false);
    ExplainOptions o;
    o.path.steps = 1024;
    for (Baseline b : {Baseline::kPad, Baseline::kZero, Baseline::kUnk}) {
      o.path.baseline = b;
      const auto r = make_explainer("ig")->explain(model, batch, o);
      ASSERT_EQ(r.completeness_gap.size(), 8u);
      for (double g : r.completeness_gap) EXPECT_LT(g, 1e-3) << encoder << " baseline " << to_string(b);
    }
  }
}

TEST(LooExplainer, EqualsOneAtATimeRecomputationForEveryRemovalMode) {
  for (bool pair : {false, true}) {
    torch::manual_seed(1);
    models::TextClassifier model(tiny_config("lstm", "additive", pair, 3));
    model->to(torch::kDouble);
    model->eval();
    const std::vector<std::vector<int64_t>> a = {{5, 6, 7, 8}, {9, 10}}, b = {{11, 12}, {13, 14, 15}};
    const data::Batch batch = pair ? batch_of(a, b) : batch_of(a);
    for (Removal rm : {Removal::kDelete, Removal::kPad, Removal::kUnk}) {
      ExplainOptions o;
      o.removal = rm;
      o.targets = {2, 1};
      const auto res = make_explainer("loo")->explain(model, batch, o);
      auto prob = [&](const std::vector<int64_t>& x, const std::vector<int64_t>& y, int64_t target) {
        torch::NoGradGuard g;
        const data::Batch one = pair ? batch_of({x}, {y}) : batch_of({x});
        return torch::softmax(model->forward(one).logits, 1)[0][target].item<double>();
      };
      auto removed = [&](std::vector<int64_t> v, size_t t) {
        if (rm == Removal::kDelete) v.erase(v.begin() + t);
        else v[t] = rm == Removal::kPad ? 0 : 1;
        return v;
      };
      for (size_t r = 0; r < a.size(); ++r) {
        const double full = prob(a[r], pair ? b[r] : std::vector<int64_t>{}, o.targets[r]);
        for (size_t t = 0; t < a[r].size(); ++t)
          EXPECT_NEAR(res.scores[r][t + 1].item<double>(), full - prob(removed(a[r], t), pair ? b[r] : std::vector<int64_t>{}, o.targets[r]), 1e-12);
        for (size_t t = 0; pair && t < b[r].size(); ++t)
          EXPECT_NEAR(res.scores_b[r][t + 1].item<double>(), full - prob(a[r], removed(b[r], t), o.targets[r]), 1e-12);
      }
    }
  }
}

// A 2-layer, 3-token attention graph computed by hand.
std::vector<at::Tensor> hand_layers() {
  return {torch::tensor({1.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5}, torch::kDouble).view({3, 3}),
          torch::tensor({0.6, 0.4, 0.0, 0.0, 1.0, 0.0, 0.2, 0.2, 0.6}, torch::kDouble).view({3, 3})};
}

TEST(Rollout, EqualsTheHandComputedProductOfResidualAdjustedLayers) {
  // A^1 = [[1,0,0],[.25,.75,0],[.1,.15,.75]], A^2 = [[.8,.2,0],[0,1,0],[.1,.1,.8]]; R = A^2 A^1.
  const at::Tensor R = rollout_matrix(hand_layers());
  const at::Tensor expected =
      torch::tensor({0.85, 0.15, 0.0, 0.25, 0.75, 0.0, 0.205, 0.195, 0.6}, torch::kDouble).view({3, 3});
  EXPECT_LT((R - expected).abs().max().item<double>(), 1e-12) << R;
  // Through a pooling distribution [.5, .2, .3] at the top.
  const at::Tensor s = torch::tensor({0.5, 0.2, 0.3}, torch::kDouble).unsqueeze(0).mm(R).squeeze(0);
  EXPECT_LT((s - torch::tensor({0.5365, 0.2835, 0.18}, torch::kDouble)).abs().max().item<double>(), 1e-12);
}

TEST(Flow, EqualsTheHandComputedMaximumFlows) {
  // Output capacities [.5, .2, .3]: input 0 is cut by {in0->(1,1) .25, in0->(1,2) .1,
  // (1,0)->(2,2) .1, (2,0)->out .5} = 0.95; input 1 by {in1->(1,2) .15, (1,1)->(2,0) .2,
  // (1,1)->(2,2) .1, (2,1)->out .2} = 0.65; input 2 only reaches (2,2): 0.3.
  const auto f = flow_to_output(hand_layers(), {0.5, 0.2, 0.3});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_NEAR(f[0], 0.95, 1e-12);
  EXPECT_NEAR(f[1], 0.65, 1e-12);
  EXPECT_NEAR(f[2], 0.3, 1e-12);
  // Input 0 to top 0: min(1, .8) + min(.25, .2) = 1.0; input 2 reaches top 0 not at all.
  const at::Tensor m = flow_matrix(hand_layers());
  EXPECT_NEAR(m[0][0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(m[0][2].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(m[2][2].item<double>(), 0.75, 1e-12);  // in2->(1,2) .75, (1,2)->(2,2) .8
}

TEST(Flow, MaxFlowIsBoundedByRolloutsPathCapacitiesAndNeverNegative) {
  torch::manual_seed(4);
  std::vector<at::Tensor> layers;
  for (int l = 0; l < 3; ++l) layers.push_back(torch::softmax(torch::randn({6, 6}, torch::kDouble), 1));
  const auto f = flow_to_output(layers, std::vector<double>(6, 1.0 / 6));
  double total = 0;
  for (double v : f) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0 + 1e-12);  // the output node receives at most 1
    total += v;
  }
  EXPECT_GT(total, 0.0);
}

// Central differences (eps 1e-6) of p(target | row 0) in every entry of the scale S applied to
// attention `layer` (-1: pooling), at S = `scale`.
at::Tensor scale_gradient_fd(models::TextClassifier& model, const data::Batch& batch, int64_t layer, int64_t target,
                             const at::Tensor& scale) {
  auto y = [&](const at::Tensor& s) {
    models::ForwardOptions fo;
    fo.interventions.push_back({models::AttentionIntervention::Mode::kScale, layer, s});
    torch::NoGradGuard g;
    return torch::softmax(model->forward(batch, fo).logits, 1)[0][target].item<double>();
  };
  at::Tensor fd = torch::zeros(scale.sizes(), torch::kDouble);
  const double eps = 1e-6;
  for (int64_t i = 0; i < scale.numel(); ++i) {
    at::Tensor sp = scale.clone(), sm = scale.clone();
    sp.view({-1})[i] += eps;
    sm.view({-1})[i] -= eps;
    fd.view({-1})[i] = (y(sp) - y(sm)) / (2 * eps);
  }
  return fd;
}

TEST(GradSam, EqualsRectifiedFiniteDifferencesOfTheAttentionScale) {
  torch::manual_seed(2);
  models::TextClassifier model(tiny_config("transformer", "additive", false, 3));
  model->to(torch::kDouble);
  model->eval();
  const data::Batch batch = batch_of({{4, 5, 6}});
  ExplainOptions o;
  o.targets = {1};
  const auto res = make_explainer("grad_sam")->explain(model, batch, o);
  const AttentionMaps maps = attention_maps(model, batch);
  // Finite differences of y in each scale entry; Grad-SAM per layer = sum over queries of
  // relu(dy/dS), mean over heads; the method's score = mean over the 3 layers.
  const int64_t T = batch.ids.size(1);
  at::Tensor expected = torch::zeros({T}, torch::kDouble);
  const std::vector<int64_t> layers = {0, 1, -1};
  for (int64_t l : layers) {
    const at::Tensor a = l < 0 ? maps.pooling : maps.layers[l];
    at::Tensor r = torch::relu(scale_gradient_fd(model, batch, l, 1, torch::ones(a.sizes(), torch::kDouble)));
    if (r.dim() == 4) r = (r.mean(1) * batch.mask.to(torch::kDouble).unsqueeze(2)).sum(1);
    expected += r[0];
  }
  expected = expected / 3.0 * batch.token_mask[0].to(torch::kDouble);
  EXPECT_LT((res.scores[0] - expected).abs().max().item<double>(), 1e-7) << res.scores[0] << expected;
  EXPECT_GT(res.scores.abs().sum().item<double>(), 0.0);
}

TEST(AttAttr, EqualsARiemannSumOfFiniteDifferencesAndIsComplete) {
  torch::manual_seed(2);
  models::TextClassifier model(tiny_config("transformer", "additive", false, 3));
  model->to(torch::kDouble);
  model->eval();
  const data::Batch batch = batch_of({{4, 5, 6}});
  ExplainOptions o;
  o.targets = {2};
  o.path.steps = 8;
  o.attention.layer = 1;
  const auto res = make_explainer("att_attr")->explain(model, batch, o);
  const AttentionMaps maps = attention_maps(model, batch);
  const at::Tensor a = maps.layers[1];
  at::Tensor attr = torch::zeros(a.sizes(), torch::kDouble);
  for (int64_t j = 0; j < o.path.steps; ++j) {
    const double alpha = (j + 0.5) / o.path.steps;
    attr += scale_gradient_fd(model, batch, 1, 2, torch::full(a.sizes(), alpha, torch::kDouble)) / o.path.steps;
  }
  const at::Tensor expected =
      (attr.mean(1) * batch.mask.to(torch::kDouble).unsqueeze(2)).sum(1)[0] * batch.token_mask[0].to(torch::kDouble);
  EXPECT_LT((res.scores[0] - expected).abs().max().item<double>(), 1e-7) << res.scores[0] << expected;
  // With many steps the map's attributions add up to y(A) - y(0).
  o.path.steps = 400;
  const auto fine = make_explainer("att_attr")->explain(model, batch, o);
  EXPECT_LT(fine.completeness_gap[0], 1e-3);
}

}  // namespace
}  // namespace lumen::explain
