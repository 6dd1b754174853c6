// Data influence (issue #12) on the shapes of the targets. Models are initialised, not
// trained (the cost does not depend on the weights); "checkpoints" are copies of one model.
//   Influence_TracInSelfLast_Spam   TracIn self-influence, last layer, SpamAssassin's 4,836
//                                   training texts (max length 200, min count 3), 8 checkpoints
//                                   (target <= 5 s)
//   Influence_TracInSelfAll_Spam    the same on every parameter, measured on one checkpoint and
//                                   500 texts; extrapolated_s = 8 checkpoints x 4,836 texts
//                                   (target <= 60 s; batched per-example gradients)
//   Influence_ExactMatrix_Keywords  if-exact on the last layer, the whole 492 x 3,941 test x
//                                   train matrix, against pair_s: one pair computed from
//                                   scratch (Hessian, solve, two gradients) x the pairs
//   Influence_EkfacFit_Keywords     EK-FAC factors of every recorded layer of the keyword BiLSTM
//                                   vs one training epoch (target: no longer than the epoch)
// Run: build/lumen_bench --benchmark_filter=Influence
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/runtime.h"
#include "data/spec.h"
#include "data/tokenizer.h"
#include "influence/ekfac.h"
#include "influence/gradients.h"
#include "influence/influence.h"
#include "models/checkpoint.h"
#include "train/trainer.h"

namespace {
using namespace lumen;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Prepared {
  data::Vocab vocab;
  data::EncodedSet train, test;
  models::ModelConfig config;
};

Prepared prepare(const std::string& spec, int64_t max_length, int64_t min_count) {
  configure_threads(0);
  Prepared p;
  data::Dataset ds = data::load_dataset(data::parse_data_spec(spec));
  data::TokenizerOptions t;
  t.max_length = max_length;
  data::tokenize_dataset(ds, data::Tokenizer(t));
  std::vector<const std::vector<std::string>*> texts;
  for (const auto& e : ds.train) texts.push_back(&e.tokens);
  p.vocab = data::Vocab::build(texts, min_count);
  p.train = data::EncodedSet::from(ds.train, p.vocab, false);
  p.test = data::EncodedSet::from(ds.test, p.vocab, false);
  p.config.vocab_size = p.vocab.size();
  return p;
}

const Prepared& spam() {
  static Prepared p = prepare("spamassassin", 200, 3);
  return p;
}
const Prepared& keywords() {
  static Prepared p = prepare("synthetic-keywords?n=4925&length=26", 0, 1);
  return p;
}

std::vector<models::CheckpointInfo> copies(models::TextClassifier& model, int64_t k, const std::string& dir) {
  std::filesystem::create_directories(dir);
  models::save_weights(model, dir + "/epoch-001.pt");
  std::vector<models::CheckpointInfo> out;
  for (int64_t e = 1; e <= k; ++e) out.push_back({e, dir + "/epoch-001.pt", 1e-3});
  return out;
}

influence::InfluenceInputs inputs(const Prepared& p, models::TextClassifier& model, const data::EncodedSet& train,
                                  const data::EncodedSet& test) {
  influence::InfluenceInputs in;
  in.model = model;
  in.config = p.config;
  in.train = &train;
  in.test = &test;
  in.loss = train::TrainingLoss::make(train, 2, false, "auto", 1e-5);
  in.test_labels = test.labels;
  return in;
}

void BM_Influence_TracInSelfLast_Spam(benchmark::State& state) {
  const Prepared& p = spam();
  torch::manual_seed(0);
  models::TextClassifier model(p.config);
  static const data::EncodedSet none;
  for (auto _ : state) {
    auto in = inputs(p, model, p.train, none);
    in.checkpoints = copies(model, 8, "/tmp/lumen-bench-tracin");
    influence::InfluenceOptions o;
    o.method = "tracin";
    o.self_influence = true;
    const auto t0 = std::chrono::steady_clock::now();
    influence::compute_influence(in, o);
    state.counters["seconds"] = seconds_since(t0);
  }
  state.counters["train"] = static_cast<double>(p.train.size());
  state.counters["target_s"] = 5;
}

void BM_Influence_TracInSelfAll_Spam(benchmark::State& state) {
  const Prepared& p = spam();
  torch::manual_seed(0);
  models::TextClassifier model(p.config);
  data::EncodedSet part = p.train;
  part.ids.resize(500);
  part.labels.resize(500);
  static const data::EncodedSet none;
  for (auto _ : state) {
    auto in = inputs(p, model, part, none);
    in.checkpoints = copies(model, 1, "/tmp/lumen-bench-tracin");
    influence::InfluenceOptions o;
    o.method = "tracin";
    o.params = "all";
    o.self_influence = true;
    const auto t0 = std::chrono::steady_clock::now();
    influence::compute_influence(in, o);
    const double s = seconds_since(t0);
    state.counters["seconds_500x1"] = s;
    state.counters["extrapolated_s"] = s * 8 * static_cast<double>(p.train.size()) / 500.0;
  }
  state.counters["target_s"] = 60;
}

void BM_Influence_ExactMatrix_Keywords(benchmark::State& state) {
  const Prepared& p = keywords();
  torch::manual_seed(0);
  models::TextClassifier model(p.config);
  for (auto _ : state) {
    auto in = inputs(p, model, p.train, p.test);
    influence::InfluenceOptions o;
    o.method = "if-exact";
    o.solve.damping = 1e-3;
    auto t0 = std::chrono::steady_clock::now();
    influence::compute_influence(in, o);
    const double matrix = seconds_since(t0);
    // One pair from scratch: the Hessian, its solve and the two gradients.
    t0 = std::chrono::steady_clock::now();
    const int64_t pairs = 3;
    for (int64_t k = 0; k < pairs; ++k) {
      auto sel = influence::select_parameters(model, "last");
      const auto f = influence::training_objective(model, in.loss, sel, p.train, {});
      influence::PerExampleGradients gt(model, influence::test_loss(in.loss), sel), gi(model, in.loss, sel);
      const at::Tensor a = gt.compute(p.test, {k}), b = gi.compute(p.train, {k});
      influence::SolveOptions so;
      so.solver = influence::Solver::kExact;
      so.damping = 1e-3;
      const auto x = influence::solve(f, influence::detached_values(sel), influence::unflatten(a[0], sel.tensors), so);
      benchmark::DoNotOptimize((influence::flatten(x.x) * b[0]).sum().item<double>());
    }
    const double pair = seconds_since(t0) / pairs;
    state.counters["matrix_s"] = matrix;
    state.counters["pair_s"] = pair;
    state.counters["pairwise_total_s"] = pair * p.test.size() * p.train.size();
    state.counters["x_pairwise"] = pair * p.test.size() * p.train.size() / matrix;
  }
}

void BM_Influence_EkfacFit_Keywords(benchmark::State& state) {
  const Prepared& p = keywords();
  torch::manual_seed(0);
  models::TextClassifier model(p.config);
  for (auto _ : state) {
    train::TrainOptions o;
    o.epochs = 1;
    o.progress = false;
    auto t0 = std::chrono::steady_clock::now();
    train::fit(model, p.train, data::EncodedSet{}, o);
    const double epoch = seconds_since(t0);
    const auto loss = train::TrainingLoss::make(p.train, 2, false, "auto", 1e-5);
    const auto layers = influence::kfac_layers(model, "all");
    t0 = std::chrono::steady_clock::now();
    const auto f = influence::fit_kfac(model, loss, p.train, layers, true, 0);
    const double fit = seconds_since(t0);
    state.counters["epoch_s"] = epoch;
    state.counters["ekfac_fit_s"] = fit;
    state.counters["fit_over_epoch"] = fit / epoch;
    state.counters["layers"] = static_cast<double>(f.layers.size());
  }
}

}  // namespace

BENCHMARK(BM_Influence_TracInSelfLast_Spam)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Influence_TracInSelfAll_Spam)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Influence_ExactMatrix_Keywords)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Influence_EkfacFit_Keywords)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
