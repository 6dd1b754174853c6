// Every registered attribution method through the same checks, on every encoder, single texts
// and pairs: scores are finite, exactly 0 on <s>, </s> and padding, the same for a row alone as
// inside a padded batch, filled for the second text when the method says so; and the method
// leaves the model's parameters, their gradients and its training mode as they were.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "explain/explainer.h"
#include "support/fixtures.h"

namespace lumen::explain {
namespace {

using test::batch_of;
using test::tiny_config;

struct Case {
  std::string method, encoder;
  bool pair;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.method << " on " << c.encoder << (c.pair ? " pairs" : " single"); }

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& m : explainer_names())
    for (const char* enc : {"lstm", "transformer", "average", "cnn"})
      for (bool pair : {false, true}) out.push_back({m, enc, pair});
  return out;
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return info.param.method + "_" + info.param.encoder + (info.param.pair ? "_pair" : "_single");
}

class EveryMethod : public testing::TestWithParam<Case> {};

TEST_P(EveryMethod, PassesTheSharedChecks) {
  const Case& c = GetParam();
  torch::manual_seed(7);
  models::TextClassifier model(tiny_config(c.encoder, "additive", c.pair, 3));
  model->to(torch::kDouble);
  const std::vector<std::vector<int64_t>> a = {{4, 5, 6, 7, 8}, {9, 10}, {11, 12, 13}};
  const std::vector<std::vector<int64_t>> b = {{14, 15}, {16, 17, 18, 19}, {5}};
  const data::Batch batch = c.pair ? batch_of(a, b) : batch_of(a);
  ExplainOptions o;
  o.path.steps = 8;
  o.surrogate.samples = 40;
  o.smoothgrad.samples = 4;
  // State to keep: parameters, one gradient set by hand, training mode on.
  model->train();
  std::vector<at::Tensor> before;
  for (auto& p : model->parameters()) before.push_back(p.detach().clone());
  auto params = model->parameters();
  params[0].mutable_grad() = torch::full_like(params[0], 0.25);
  const auto explainer = make_explainer(c.method);
  const BatchAttribution r = explainer->explain(model, batch, o);

  EXPECT_TRUE(model->is_training()) << "training mode changed";
  params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i].detach(), before[i])) << "parameter " << i << " changed";
    if (i == 0) {
      ASSERT_TRUE(params[0].grad().defined());
      EXPECT_TRUE(torch::equal(params[0].grad(), torch::full_like(params[0], 0.25))) << "gradient changed";
    } else {
      EXPECT_FALSE(params[i].grad().defined()) << "gradient " << i << " appeared";
    }
  }
  ASSERT_TRUE(r.scores.defined());
  ASSERT_EQ(r.scores.sizes(), batch.ids.sizes());
  ASSERT_EQ(r.targets.size(), 3u);
  EXPECT_TRUE(torch::isfinite(r.scores).all().item<bool>());
  EXPECT_EQ(r.scores.masked_select(batch.token_mask.logical_not()).abs().max().item<double>(), 0.0)
      << "nonzero score outside the real tokens";
  // Some class gets nonzero scores (rectified methods such as Grad-SAM may give all zeros for
  // one class when every attention gradient is negative).
  double mass = r.scores.abs().sum().item<double>();
  for (int64_t cls = 0; cls < 3 && mass == 0.0; ++cls) {
    ExplainOptions oc = o;
    oc.targets = {cls, cls, cls};
    mass = explainer->explain(model, batch, oc).scores.abs().sum().item<double>();
  }
  EXPECT_GT(mass, 0.0) << "all scores are 0 for every class";
  if (c.pair && explainer->covers_second_text()) {
    ASSERT_TRUE(r.scores_b.defined());
    ASSERT_EQ(r.scores_b.sizes(), batch.ids_b.sizes());
    EXPECT_EQ(r.scores_b.masked_select(batch.token_mask_b.logical_not()).abs().max().item<double>(), 0.0);
  }
  // Each row alone, with the batch's targets.
  for (int64_t row = 0; row < 3; ++row) {
    const data::Batch one = c.pair ? batch_of({a[row]}, {b[row]}) : batch_of({a[row]});
    ExplainOptions oo = o;
    oo.targets = {r.targets[row]};
    const BatchAttribution s = explainer->explain(model, one, oo);
    const int64_t T = one.ids.size(1);
    EXPECT_LT((s.scores[0] - r.scores[row].narrow(0, 0, T)).abs().max().item<double>(), 1e-9)
        << "row " << row << " alone differs from the padded batch";
    if (s.scores_b.defined()) {
      const int64_t Tb = one.ids_b.size(1);
      EXPECT_LT((s.scores_b[0] - r.scores_b[row].narrow(0, 0, Tb)).abs().max().item<double>(), 1e-9);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryMethod, testing::ValuesIn(cases()), case_name);

// The methods that repeat the batch (path points, noisy samples) take --chunk copies per pass,
// and the scores do not depend on how the copies are grouped.
TEST(Registry, RepeatingMethodsGiveTheSameScoresForEveryChunk) {
  torch::manual_seed(3);
  models::TextClassifier model(tiny_config("transformer", "additive", true, 3));
  model->to(torch::kDouble);
  const data::Batch batch = batch_of({{4, 5, 6, 7}, {8, 9}}, {{10, 11}, {12}});
  for (const char* m : {"ig", "att_attr", "smoothgrad"}) {
    ExplainOptions o;
    o.path.steps = 6;
    o.smoothgrad.samples = 5;
    const BatchAttribution all = make_explainer(m)->explain(model, batch, o);
    for (int64_t chunk : {1, 2, 4}) {
      o.chunk = chunk;
      const BatchAttribution c = make_explainer(m)->explain(model, batch, o);
      EXPECT_LT((c.scores - all.scores).abs().max().item<double>(), 1e-12) << m << " chunk " << chunk;
    }
  }
}

TEST(Registry, UnknownMethodsAreNamedInTheError) {
  try {
    make_explainer("shapley-magic");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("grad_sam"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lumen::explain
