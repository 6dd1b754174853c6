// Known answers for the influence methods (issue #12, must show 1): influence functions against
// exact leave-one-out retraining of the last layer (logistic regression on fixed features),
// self-influence as the diagonal of pairwise influence, TracIn against a hand computation over
// two checkpoints, representer values summing to the logits, chunked streaming equal to one
// chunk, the differentiable mode equal to the fast path and twice differentiable, and the bad
// inputs reported rather than answered with numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "core/runtime.h"
#include "data/spec.h"
#include "influence/gradients.h"
#include "influence/influence.h"
#include "models/checkpoint.h"
#include "support/fixtures.h"

namespace lumen::influence {
namespace {

struct Task {
  data::Dataset ds;
  data::Vocab vocab;
  data::EncodedSet train, test;
};

const Task& task() {
  static Task t = [] {
    configure_threads(0);
    Task r;
    r.ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=150&length=8"));
    std::vector<const std::vector<std::string>*> texts;
    for (const auto& e : r.ds.train) texts.push_back(&e.tokens);
    r.vocab = data::Vocab::build(texts, 1);
    std::vector<data::Example> train(r.ds.train.begin(), r.ds.train.begin() + std::min<size_t>(80, r.ds.train.size()));
    std::vector<data::Example> test(r.ds.test.begin(), r.ds.test.begin() + 4);
    r.train = data::EncodedSet::from(train, r.vocab, false);
    r.test = data::EncodedSet::from(test, r.vocab, false);
    return r;
  }();
  return t;
}

models::ModelConfig config(const std::string& encoder) {
  models::ModelConfig c = test::tiny_config(encoder, "additive", false);
  c.vocab_size = task().vocab.size();
  return c;
}

models::TextClassifier make_model(const std::string& encoder, uint64_t seed = 1) {
  torch::manual_seed(seed);
  models::TextClassifier m(config(encoder));
  m->to(torch::kDouble);
  m->eval();
  return m;
}

double pearson(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.reshape({-1}) - a.mean(), y = b.reshape({-1}) - b.mean();
  return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
}

// The decoder trained to the minimum of the training objective (logistic regression on the
// encoder's fixed features), written into the model.
void fit_decoder(models::TextClassifier& model, const train::TrainingLoss& loss, const data::EncodedSet& train) {
  ParameterSelection sel = select_parameters(model, "last");
  const auto fit = minimise_newton(training_objective(model, loss, sel, train, {}), detached_values(sel));
  ASSERT_TRUE(fit.converged);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < sel.tensors.size(); ++i) sel.tensors[i].copy_(fit.x[i]);
}

InfluenceInputs inputs(models::TextClassifier& model, const train::TrainingLoss& loss, const data::EncodedSet& train,
                       const data::EncodedSet& test) {
  InfluenceInputs in;
  in.model = model;
  in.config = model->config();
  in.train = &train;
  in.test = &test;
  in.loss = loss;
  in.test_labels = test.labels;
  return in;
}

TEST(Influence, FunctionsMatchExactLeaveOneOutRetrainingOfTheLastLayer) {
  const Task& t = task();
  auto model = make_model("average");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 0.05);
  fit_decoder(model, loss, t.train);
  ParameterSelection sel = select_parameters(model, "last");
  const auto theta = detached_values(sel);
  const Features ftest = decoder_features(model, t.test);
  const at::Tensor yt = torch::tensor(t.test.labels, torch::kLong);
  const auto tl = test_loss(loss);
  auto test_losses = [&](const std::vector<at::Tensor>& p) {
    return tl.per_example(model->decoder_with(p, ftest.context, ftest.query), yt);
  };
  // Exact leave-one-out: retrain without each of the first 40 points from the optimum.
  const int64_t N = 40;
  at::Tensor actual = torch::zeros({t.test.size(), N}, torch::kDouble);
  const at::Tensor base = test_losses(theta);
  for (int64_t i = 0; i < N; ++i) {
    std::vector<int64_t> rows;
    for (int64_t j = 0; j < t.train.size(); ++j)
      if (j != i) rows.push_back(j);
    const auto fit = minimise_newton(training_objective(model, loss, sel, t.train, rows), theta);
    ASSERT_TRUE(fit.converged);
    actual.select(1, i).copy_(test_losses(fit.x) - base);
  }
  for (const std::string method : {"if-exact", "if-cg", "if-lissa"}) {
    InfluenceOptions o;
    o.method = method;
    o.keep_scores = true;
    o.solve.lissa_scale = 10;
    o.solve.lissa_depth = 3000;
    const InfluenceResult r = compute_influence(inputs(model, loss, t.train, t.test), o);
    ASSERT_TRUE(r.scores.defined()) << method << ": " << r.diagnostics.dump();
    const double p = pearson(r.scores.narrow(1, 0, N), actual);
    EXPECT_GE(p, method == "if-lissa" ? 0.9 : 0.98) << method;
    RecordProperty("pearson_" + method, std::to_string(p));
    ASSERT_EQ(r.tests.size(), static_cast<size_t>(t.test.size()));
    for (const auto& ti : r.tests) {
      for (const auto& e : ti.proponents) EXPECT_GT(e.score, 0);
      for (const auto& e : ti.opponents) EXPECT_LT(e.score, 0);
    }
  }
}

TEST(Influence, FastIfEqualsInfluenceFunctionsOnItsCandidatesAndScoresOnlyThem) {
  const Task& t = task();
  auto model = make_model("average");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 0.05);
  fit_decoder(model, loss, t.train);
  InfluenceOptions o;
  o.method = "if-exact";
  const InfluenceResult exact = compute_influence(inputs(model, loss, t.train, t.test), o);
  o.method = "fastif";
  o.fastif_candidates = 10;
  const InfluenceResult fast = compute_influence(inputs(model, loss, t.train, t.test), o);
  ASSERT_TRUE(fast.scores.defined());
  const Features ftrain = decoder_features(model, t.train), ftest = decoder_features(model, t.test);
  for (int64_t i = 0; i < t.test.size(); ++i) {
    const auto& cand = fast.diagnostics["candidate_rows"][i];
    ASSERT_EQ(cand.size(), 10u);
    const double radius = (ftest.context[i] - ftrain.context[cand[9].get<int64_t>()]).norm().item<double>();
    int64_t scored = 0;
    for (int64_t j = 0; j < t.train.size(); ++j) {
      const bool is_candidate = std::find(cand.begin(), cand.end(), j) != cand.end();
      const double s = fast.scores[i][j].item<double>();
      if (is_candidate) {
        EXPECT_NEAR(s, exact.scores[i][j].item<double>(), 1e-6 * std::abs(exact.scores[i][j].item<double>()) + 1e-12);
        ++scored;
      } else {
        EXPECT_EQ(s, 0.0);
        EXPECT_GE((ftest.context[i] - ftrain.context[j]).norm().item<double>(), radius - 1e-12);  // the nearest were taken
      }
    }
    EXPECT_EQ(scored, 10);
  }
}

TEST(Influence, SelfInfluenceIsTheDiagonalOfPairwiseInfluence) {
  const Task& t = task();
  auto model = make_model("average");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "none", 0.05);  // test loss = training loss
  fit_decoder(model, loss, t.train);
  for (const std::string method : {"if-exact", "if-cg", "tracin"}) {
    test::TempDir dir;
    InfluenceInputs in = inputs(model, loss, t.train, t.train);
    if (method == "tracin") {
      models::save_weights(model, dir.file("epoch-001.pt"));
      in.checkpoints = {{1, dir.file("epoch-001.pt"), 0.01}};
    }
    InfluenceOptions o;
    o.method = method;
    o.self_influence = true;
    const InfluenceResult r = compute_influence(in, o);
    ASSERT_TRUE(r.scores.defined());
    ASSERT_EQ(r.self_influence.size(), static_cast<size_t>(t.train.size()));
    for (int64_t i = 0; i < t.train.size(); ++i)
      EXPECT_NEAR(r.self_influence[i], r.scores[i][i].item<double>(), 1e-9 * std::max(1.0, std::abs(r.self_influence[i]))) << method;
  }
}

TEST(Influence, ClosedFormLastLayerGradientsEqualAutogradAndChunksMergeToOne) {
  const Task& t = task();
  auto model = make_model("lstm");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 1e-3);
  PerExampleGradients g(model, loss, select_parameters(model, "last"));
  std::vector<int64_t> rows = {0, 3, 5, 7, 11};
  const at::Tensor fast = g.compute(t.train, rows), plain = g.compute_plain(t.train, rows);
  EXPECT_LT((fast - plain).abs().max().item<double>(), 1e-12);
  // Predicted labels instead of gold ones change the gradient's sign where they differ.
  const std::vector<int64_t> flipped = {1, 1, 0, 0, 1};
  EXPECT_LT((g.compute(t.train, rows, flipped) - g.compute_plain(t.train, rows, flipped)).abs().max().item<double>(), 1e-12);
  // Streaming in one-row chunks gives the same TracIn scores as one chunk.
  test::TempDir dir;
  models::save_weights(model, dir.file("epoch-001.pt"));
  InfluenceInputs in = inputs(model, loss, t.train, t.test);
  in.checkpoints = {{1, dir.file("epoch-001.pt"), 1e-3}};
  InfluenceOptions o;
  o.method = "tracin";
  o.params = "all";
  const InfluenceResult whole = compute_influence(in, o);
  o.memory_bytes = 1;  // one row per chunk
  const InfluenceResult rows_one = compute_influence(in, o);
  EXPECT_LT((whole.scores - rows_one.scores).abs().max().item<double>(), 1e-15);
}

TEST(Influence, TracInEqualsAHandComputationOverTwoCheckpoints) {
  const Task& t = task();
  test::TempDir dir;
  auto m1 = make_model("lstm", 5), m2 = make_model("lstm", 6);
  models::save_weights(m1, dir.file("epoch-001.pt"));
  models::save_weights(m2, dir.file("epoch-002.pt"));
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 1e-5);
  const std::vector<double> lr = {0.01, 0.003};
  at::Tensor hand = torch::zeros({t.test.size(), t.train.size()}, torch::kDouble);
  at::Tensor self = torch::zeros({t.train.size()}, torch::kDouble);
  int k = 0;
  for (auto* m : {&m1, &m2}) {
    PerExampleGradients tr(*m, loss, select_parameters(*m, "all"));
    PerExampleGradients te(*m, test_loss(loss), select_parameters(*m, "all"));
    std::vector<int64_t> all_train, all_test;
    for (int64_t i = 0; i < t.train.size(); ++i) all_train.push_back(i);
    for (int64_t i = 0; i < t.test.size(); ++i) all_test.push_back(i);
    const at::Tensor a = tr.compute_plain(t.train, all_train), b = te.compute_plain(t.test, all_test);
    hand += lr[k] * torch::mm(b, a.t());
    self += lr[k] * (a * a).sum(1);
    ++k;
  }
  InfluenceInputs in = inputs(m2, loss, t.train, t.test);
  in.checkpoints = {{1, dir.file("epoch-001.pt"), lr[0]}, {2, dir.file("epoch-002.pt"), lr[1]}};
  InfluenceOptions o;
  o.method = "tracin";
  o.params = "all";
  o.self_influence = true;
  const InfluenceResult r = compute_influence(in, o);
  EXPECT_TRUE(r.diagnostics.at("batched").get<bool>());  // the recorded maps and the sparse embedding
  EXPECT_LT(((r.scores - hand).abs().max() / hand.abs().max()).item<double>(), 1e-10);
  for (int64_t i = 0; i < t.train.size(); ++i) EXPECT_NEAR(r.self_influence[i], self[i].item<double>(), 1e-10 * self[i].item<double>());
  // A CountSketch projection keeps the scores (dot products preserved in expectation).
  o.projection = 4096;
  const InfluenceResult p = compute_influence(in, o);
  EXPECT_GE(pearson(p.scores, hand), 0.95);
  // Only the asked epochs.
  o.projection = 0;
  o.checkpoints = {2};
  const InfluenceResult second = compute_influence(in, o);
  EXPECT_EQ(second.diagnostics["checkpoints"].size(), 1u);
}

TEST(Influence, AnInterruptedTracInResumesFromItsFinishedCheckpoints) {
  const Task& t = task();
  test::TempDir dir;
  auto m1 = make_model("lstm", 5), m2 = make_model("lstm", 6);
  models::save_weights(m1, dir.file("epoch-001.pt"));
  models::save_weights(m2, dir.file("epoch-002.pt"));
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 1e-5);
  InfluenceInputs in = inputs(m2, loss, t.train, t.test);
  in.checkpoints = {{1, dir.file("epoch-001.pt"), 0.01}, {2, dir.file("epoch-002.pt"), 0.003}};
  InfluenceOptions o;
  o.method = "tracin";
  o.params = "all";
  o.self_influence = true;
  const InfluenceResult whole = compute_influence(in, o);
  // Interrupted in the second checkpoint: the first one's contribution is on disk.
  const Json request{{"request", 1}};
  in.partial = PartialStore(dir.file("partial"), request);
  const int64_t n = t.train.size();
  in.progress = [n](const std::string&, int64_t done, int64_t) {
    if (done > n) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(compute_influence(in, o), std::runtime_error);
  in.progress = {};
  in.partial = PartialStore(dir.file("partial"), request);
  const InfluenceResult resumed = compute_influence(in, o);
  EXPECT_EQ(resumed.diagnostics.at("resumed_units").get<int64_t>(), 1);
  EXPECT_LT((resumed.scores - whole.scores).abs().max().item<double>(), 1e-12);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(resumed.self_influence[i], whole.self_influence[i], 1e-12);
  // Another request reuses nothing.
  in.partial = PartialStore(dir.file("partial"), Json{{"request", 2}});
  EXPECT_EQ(compute_influence(in, o).diagnostics.at("resumed_units").get<int64_t>(), 0);
  // A damaged unit is recomputed, not read.
  for (const auto& e : std::filesystem::directory_iterator(dir.file("partial")))
    if (e.path().extension() == ".pt") write_file_atomic(e.path().string(), "damaged");
  in.partial = PartialStore(dir.file("partial"), request);
  const InfluenceResult again = compute_influence(in, o);
  EXPECT_EQ(again.diagnostics.at("resumed_units").get<int64_t>(), 0);
  EXPECT_LT((again.scores - whole.scores).abs().max().item<double>(), 1e-12);
}

TEST(Influence, RepresenterValuesSumToTheLogitsOfTheFineTunedLastLayer) {
  const Task& t = task();
  auto model = make_model("average");
  const double lambda = 0.01;
  // The model's decoder at the optimum of wd/2 |theta|^2 with wd = 2 lambda: the fine-tuning
  // keeps it, so the values also reproduce the model's own logits.
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 2 * lambda);
  fit_decoder(model, loss, t.train);
  InfluenceOptions o;
  o.method = "representer";
  o.representer_l2 = lambda;
  o.self_influence = true;
  const InfluenceResult r = compute_influence(inputs(model, loss, t.train, t.test), o);
  const Json& ft = r.diagnostics["fine_tuning"];
  EXPECT_TRUE(ft["converged"].get<bool>());
  EXPECT_LT(ft["max_abs_sum_minus_logit"].get<double>(), 1e-8);
  EXPECT_GE(ft["pearson_finetuned_vs_model_logits"].get<double>(), 0.999);
  EXPECT_EQ(r.self_influence.size(), static_cast<size_t>(t.train.size()));
}

TEST(Influence, DifferentiableModeEqualsTheFastPathAndIsTwiceDifferentiable) {
  const Task& t = task();
  for (const std::string encoder : {"lstm", "average", "transformer"}) {
    auto model = make_model(encoder);
    const data::Batch batch = t.train.batch({0, 1, 2, 3});
    const at::Tensor fast = model->forward(batch).logits;
    at::Tensor plain;
    {
      models::DifferentiableMode differentiable;
      plain = model->forward(batch).logits;
    }
    EXPECT_LT((fast - plain).abs().max().item<double>(), 1e-10) << encoder;
  }
  // An HVP of the encoder's training objective by double backward matches finite differences.
  auto model = make_model("lstm");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 1e-3);
  ParameterSelection sel = select_parameters(model, "encoder");
  const std::vector<int64_t> rows = {0, 1, 2, 3, 4, 5};
  const Objective f = training_objective(model, loss, sel, t.train, rows);
  torch::manual_seed(2);
  const at::Tensor v = torch::randn({sel.count}, torch::kDouble);
  const at::Tensor hv = flatten(hvp(f, sel.tensors, unflatten(v, sel.tensors)));
  auto set_to = [&](const at::Tensor& flat) {
    torch::NoGradGuard no_grad;
    auto parts = unflatten(flat, sel.tensors);
    for (size_t i = 0; i < sel.tensors.size(); ++i) sel.tensors[i].copy_(parts[i]);
  };
  const at::Tensor base = flatten(sel.tensors).clone();
  auto grad_at = [&](double eps) {
    set_to(base + eps * v);
    auto g = torch::autograd::grad({f(sel.tensors)}, sel.tensors);
    set_to(base);
    return flatten(g);
  };
  const double eps = 1e-5;
  const at::Tensor fd = (grad_at(eps) - grad_at(-eps)) / (2 * eps);
  EXPECT_LT(((hv - fd).norm() / fd.norm()).item<double>(), 1e-6);
}

TEST(Influence, BadInputsAreReportedNotAnswered) {
  const Task& t = task();
  auto model = make_model("average");
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 0.0);
  EXPECT_THROW(select_parameters(model, "decoderz"), InvalidArgument);
  EXPECT_THROW(select_parameters(make_model("average"), "attention,nothing"), InvalidArgument);
  InfluenceOptions o;
  o.method = "tracin";
  EXPECT_THROW(compute_influence(inputs(model, loss, t.train, t.test), o), ModelError);  // no checkpoints
  o.method = "banzhaf";
  EXPECT_THROW(compute_influence(inputs(model, loss, t.train, t.test), o), InvalidArgument);
  // Three training points and no damping: the last layer's Hessian (hidden + 1 parameters) is
  // singular; reported, no scores. With damping, finite scores.
  const data::EncodedSet three = [&] {
    data::EncodedSet s;
    for (int64_t i = 0; i < 3; ++i) {
      s.ids.push_back(t.train.ids[i]);
      s.labels.push_back(t.train.labels[i]);
    }
    return s;
  }();
  o.method = "if-exact";
  const InfluenceResult singular = compute_influence(inputs(model, loss, three, t.test), o);
  EXPECT_FALSE(singular.scores.defined());
  EXPECT_FALSE(singular.diagnostics["converged"].get<bool>());
  EXPECT_NE(singular.diagnostics["diagnosis"].get<std::string>().find("damping"), std::string::npos);
  o.solve.damping = 0.01;
  const InfluenceResult damped = compute_influence(inputs(model, loss, three, t.test), o);
  ASSERT_TRUE(damped.scores.defined());
  EXPECT_TRUE(torch::isfinite(damped.scores).all().item<bool>());
  // LiSSA with a scale below the largest eigenvalue diverges: reported, never numbers.
  o.method = "if-lissa";
  o.solve.lissa_scale = 1e-3;
  const InfluenceResult diverged = compute_influence(inputs(model, loss, three, t.test), o);
  EXPECT_FALSE(diverged.scores.defined());
}

}  // namespace
}  // namespace lumen::influence
