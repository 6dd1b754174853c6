// Integrated gradients' adaptive mode (PathOptions::tolerance): on a trained model the
// instances reach the completeness-gap tolerance with their own step counts (those that do not
// stop at max_steps), reported in their details, and the attributions agree with a fine fixed-step sum (fast and plain paths); a coarse
// tolerance stops at the first 4 intervals, where the scores are the trapezoid rule's formula.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "data/spec.h"
#include "explain/common.h"
#include "explain/explainer.h"
#include "explain/options.h"
#include "support/fixtures.h"
#include "train/trainer.h"

namespace lumen::explain {
namespace {

TEST(AdaptiveIg, InstancesOfATrainedModelReachTheToleranceWithTheirOwnStepCounts) {
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=1000&length=14"));
  std::vector<const std::vector<std::string>*> texts;
  for (auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  torch::manual_seed(0);
  models::ModelConfig c = test::tiny_config("lstm", "additive", false);
  c.vocab_size = vocab.size();
  c.embed_dim = 16;
  c.hidden = 8;
  models::TextClassifier model(c);
  train::TrainOptions to;
  to.progress = false;
  to.epochs = 6;
  to.lr = 0.01;
  const auto test_set = data::EncodedSet::from(ds.test, vocab, false);
  train::fit(model, data::EncodedSet::from(ds.train, vocab, false), data::EncodedSet::from(ds.dev, vocab, false), to);
  ASSERT_GT(train::evaluate(model, test_set).accuracy, 0.8);
  std::vector<int64_t> rows(40);
  for (int64_t i = 0; i < 40; ++i) rows[i] = i;
  const data::Batch batch = test_set.batch(rows);

  const auto ig = make_explainer("ig");
  for (bool fast : {true, false}) {
    ExplainOptions o;
    o.fast = fast;
    o.path.tolerance = 1e-3;
    const BatchAttribution a = ig->explain(model, batch, o);
    // The same attributions as a fine fixed-step midpoint sum wherever both integrate well.
    ExplainOptions fine;
    fine.fast = fast;
    fine.path.steps = 512;
    const BatchAttribution f = ig->explain(model, batch, fine);
    int64_t least = 1 << 30, most = 0, reached = 0, compared = 0;
    for (int64_t r = 0; r < batch.size(); ++r) {
      const int64_t steps = a.details[r]["steps"].get<int64_t>();
      EXPECT_EQ(a.details[r]["rule"], "trapezoid");
      // Doubling stops at the tolerance, or at max_steps: a trained BiLSTM can be so steep along
      // the path that 1,024 evenly spaced points do not resolve it (reported, not hidden).
      if (steps < o.path.max_steps) EXPECT_LE(a.completeness_gap[r], 1e-3) << "row " << r << " steps " << steps;
      reached += a.completeness_gap[r] <= 1e-3;
      least = std::min(least, steps);
      most = std::max(most, steps);
      if (a.completeness_gap[r] <= 1e-3 && f.completeness_gap[r] <= 1e-3) {
        ++compared;
        const double scale = f.scores[r].abs().max().item<double>();
        EXPECT_LT((a.scores[r] - f.scores[r]).abs().max().item<double>(), 0.02 * scale) << "row " << r;
      }
    }
    RecordProperty(fast ? "reached_fast" : "reached_plain", std::to_string(reached));
    EXPECT_GE(reached, 34) << "of 40 instances at gap <= 1e-3";
    EXPECT_GE(compared, 20);
    EXPECT_LT(least, most) << "every instance took the same steps";
    EXPECT_EQ(o.to_json()["path"]["tolerance"].get<double>(), 1e-3);
  }
}

TEST(AdaptiveIg, ACoarseToleranceStopsAtTheTrapezoidRuleOnFourIntervals) {
  torch::manual_seed(2);
  models::TextClassifier model(test::tiny_config("cnn", "additive", false));
  model->to(torch::kDouble);
  model->eval();
  const data::Batch batch = test::batch_of({{4, 5, 6}, {7, 8}});
  ExplainOptions o;
  o.path.tolerance = 1e9;
  const BatchAttribution a = make_explainer("ig")->explain(model, batch, o);
  for (const auto& d : a.details) EXPECT_EQ(d["steps"].get<int64_t>(), 4);
  // (1/4) [g(0)/2 + g(1/4) + g(1/2) + g(3/4) + g(1)/2] . (x - x0), g the gradient of the target
  // probability at x0 + alpha (x - x0).
  const at::Tensor x = model->embed(batch.ids).detach();
  const at::Tensor x0 = baseline_embeddings(model, batch.ids, batch.token_mask, Baseline::kPad);
  const at::Tensor targets = targets_tensor(a.targets);
  at::Tensor mean = torch::zeros_like(x);
  for (int k = 0; k <= 4; ++k) {
    const at::Tensor point = x0 + (k / 4.0) * (x - x0);
    const at::Tensor g = embedding_gradients(model, batch, point, {}, targets).grad_a;
    mean = mean + (k == 0 || k == 4 ? 0.5 : 1.0) * g / 4.0;
  }
  EXPECT_TRUE(torch::allclose(a.scores, token_dot(mean, x - x0, batch.token_mask), 1e-10, 1e-13)) << a.scores;
}

}  // namespace
}  // namespace lumen::explain
