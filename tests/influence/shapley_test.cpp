// Data Shapley (issue #12, must show 1): exact values of games with known Shapley values; TMC
// within its standard error of exact on N <= 12 (Spearman >= 0.95) and efficient; G-Shapley on
// an additive learner; a budget too small to converge marked as such; the model method values
// training points on the keyword task.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/runtime.h"
#include "data/spec.h"
#include "influence/influence.h"
#include "influence/methods.h"
#include "influence/shapley.h"
#include "support/fixtures.h"

namespace lumen::influence {
namespace {

double spearman(std::vector<double> a, std::vector<double> b) {
  auto rank = [](const std::vector<double>& v) {
    std::vector<size_t> i(v.size());
    std::iota(i.begin(), i.end(), 0);
    std::sort(i.begin(), i.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
    std::vector<double> r(v.size());
    for (size_t k = 0; k < i.size(); ++k) r[i[k]] = static_cast<double>(k);
    return r;
  };
  const auto ra = rank(a), rb = rank(b);
  const double n = static_cast<double>(a.size());
  double d = 0;
  for (size_t k = 0; k < ra.size(); ++k) d += (ra[k] - rb[k]) * (ra[k] - rb[k]);
  return 1 - 6 * d / (n * (n * n - 1));
}

TEST(Shapley, ExactValuesOfGamesWithKnownAnswers) {
  // Additive game: phi_i = w_i.
  const std::vector<double> w = {0.5, -0.2, 1.0, 0.3, 0.0};
  const auto add = exact_shapley(5, [&](const std::vector<int64_t>& s) {
    double v = 0;
    for (int64_t i : s) v += w[i];
    return v;
  });
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(add.values[i], w[i], 1e-12);
  // Glove game: one left glove (0) and two right gloves (1, 2); a pair is worth 1. phi = 2/3, 1/6, 1/6.
  const auto glove = exact_shapley(3, [](const std::vector<int64_t>& s) {
    const bool left = std::find(s.begin(), s.end(), 0) != s.end();
    const bool right = std::find(s.begin(), s.end(), 1) != s.end() || std::find(s.begin(), s.end(), 2) != s.end();
    return left && right ? 1.0 : 0.0;
  });
  EXPECT_NEAR(glove.values[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(glove.values[1], 1.0 / 6, 1e-12);
  EXPECT_NEAR(glove.values[2], 1.0 / 6, 1e-12);
  // Majority game of 3: symmetric, 1/3 each. Efficiency throughout.
  const auto maj = exact_shapley(3, [](const std::vector<int64_t>& s) { return s.size() >= 2 ? 1.0 : 0.0; });
  for (double v : maj.values) EXPECT_NEAR(v, 1.0 / 3, 1e-12);
  EXPECT_THROW(exact_shapley(21, [](const std::vector<int64_t>&) { return 0.0; }), InvalidArgument);
}

TEST(Shapley, TruncatedMonteCarloIsWithinItsStandardErrorOfExactAndEfficient) {
  // A non-additive game on 12 players: a saturating sum with interactions.
  const int64_t n = 12;
  std::vector<double> w(n);
  for (int64_t i = 0; i < n; ++i) w[i] = 0.1 + 0.07 * ((i * 5) % n);
  const Utility u = [&](const std::vector<int64_t>& s) {
    double v = 0;
    for (int64_t i : s) v += w[i];
    const bool pair = std::find(s.begin(), s.end(), 0) != s.end() && std::find(s.begin(), s.end(), 1) != s.end();
    return 1 - std::exp(-v) + (pair ? 0.2 : 0.0);
  };
  const auto exact = exact_shapley(n, u);
  ShapleyOptions o;
  o.tolerance = 0;  // no truncation: efficiency holds permutation by permutation
  o.max_permutations = 3000;
  o.min_permutations = 500;
  o.convergence = 0.01;
  const auto tmc = tmc_shapley(n, u, o);
  int64_t within = 0;
  for (int64_t i = 0; i < n; ++i) within += std::abs(tmc.values[i] - exact.values[i]) <= 3 * tmc.standard_error[i];
  EXPECT_GE(within, n - 1);
  EXPECT_GE(spearman(tmc.values, exact.values), 0.95);
  const double sum = std::accumulate(tmc.values.begin(), tmc.values.end(), 0.0);
  EXPECT_NEAR(sum, u(all_rows(n)) - u({}), 1e-12);
  EXPECT_NEAR(std::accumulate(exact.values.begin(), exact.values.end(), 0.0), u(all_rows(n)) - u({}), 1e-12);
  // A budget of 3 permutations cannot meet the convergence rule: marked, with the reason.
  o.max_permutations = 3;
  o.min_permutations = 3;
  const auto small = tmc_shapley(n, u, o);
  EXPECT_FALSE(small.converged);
  EXPECT_NE(small.diagnosis.find("permutation"), std::string::npos);
}

TEST(Shapley, GradientShapleyOfAnAdditiveLearnerIsItsStepValues) {
  struct Additive : IncrementalLearner {
    std::vector<double> w;
    double v = 0;
    void reset() override { v = 0; }
    void step(int64_t p) override { v += w[p]; }
    double utility() override { return v; }
  } learner;
  learner.w = {0.3, -0.1, 0.6, 0.2};
  ShapleyOptions o;
  o.algorithm = "g-shapley";
  o.max_permutations = 20;
  o.min_permutations = 5;
  o.convergence_window = 4;
  const auto r = g_shapley(4, learner, 0.0, o);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r.values[i], learner.w[i], 1e-12);
}

TEST(Shapley, TheModelMethodValuesTrainingPointsAndFlagsMislabels) {
  configure_threads(0);
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=60&length=8"));
  std::vector<const std::vector<std::string>*> texts;
  for (const auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  data::EncodedSet train = data::EncodedSet::from(ds.train, vocab, false), dev = data::EncodedSet::from(ds.dev, vocab, false);
  // Untrained encoder features still separate the keyword task linearly enough (Average's
  // bag of words); flip the first 5 labels.
  for (int i = 0; i < 5; ++i) train.labels[i] = 1 - train.labels[i];
  torch::manual_seed(1);
  models::ModelConfig c = test::tiny_config("average", "uniform", false);
  c.vocab_size = vocab.size();
  c.embed_dim = 32;
  c.hidden = 32;
  models::TextClassifier model(c);
  model->to(torch::kDouble);
  InfluenceInputs in;
  in.model = model;
  in.config = c;
  in.train = &train;
  in.dev = &dev;
  in.loss = train::TrainingLoss::make(train, 2, false, "none", 1e-3);
  InfluenceOptions o;
  o.method = "shapley";
  o.shapley_points = 1000;  // every training point
  o.shapley_permutations = 100;
  const InfluenceResult r = compute_influence(in, o);
  ASSERT_EQ(r.values.size(), static_cast<size_t>(train.size()));
  for (size_t i = 0; i < r.values.size(); ++i) EXPECT_TRUE(std::isfinite(r.values[i]));
  // The flipped points among the players are worth less than the rest on average.
  double flipped = 0, clean = 0;
  int nf = 0, nc = 0;
  for (size_t i = 0; i < r.values.size(); ++i)
    if (r.value_rows[i] < 5) flipped += r.values[i], ++nf;
    else clean += r.values[i], ++nc;
  ASSERT_EQ(nf, 5);
  EXPECT_LT(flipped / nf, clean / nc);
  EXPECT_TRUE(r.diagnostics.contains("shapley"));
  // Interrupted once a block of permutations is on disk, then resumed: the same values.
  test::TempDir dir;
  auto units = [&] {
    int k = 0;
    if (std::filesystem::exists(dir.file("partial")))
      for (const auto& e : std::filesystem::directory_iterator(dir.file("partial"))) k += e.path().extension() == ".json";
    return k;
  };
  in.partial = PartialStore(dir.file("partial"), Json{{"request", 1}});
  in.progress = [&](const std::string&, int64_t, int64_t) {
    if (units() > 0) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compute_influence(in, o), std::runtime_error);
  ASSERT_GT(units(), 0);
  in.progress = {};
  in.partial = PartialStore(dir.file("partial"), Json{{"request", 1}});
  const InfluenceResult resumed = compute_influence(in, o);
  EXPECT_GE(resumed.diagnostics.at("resumed_units").get<int64_t>(), 1);
  ASSERT_EQ(resumed.values.size(), r.values.size());
  for (size_t i = 0; i < r.values.size(); ++i) EXPECT_NEAR(resumed.values[i], r.values[i], 1e-12);
}

}  // namespace
}  // namespace lumen::influence
