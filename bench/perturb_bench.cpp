// The variant evaluator (perturb/variant_evaluator.h) on the analysis benchmark's data shape: a
// BiLSTM (300-d embeddings, hidden 128) trained 2 epochs on the keyword task, 987 texts of mean
// length 26. Variants: one random word replaced per position of every text (~25,700, a
// different replacement per variant), the workload of an attack's candidate scoring.
// Counters: variants per second with prefix/suffix reuse, with plain batches, and one variant
// at a time (measured on the first 400 variants), and the ratios between them.
// Run: build/lumen_bench --benchmark_filter=Variant
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>

#include "core/rng.h"
#include "core/runtime.h"
#include "data/encoded_set.h"
#include "data/spec.h"
#include "models/eval_guard.h"
#include "perturb/variant_evaluator.h"
#include "train/trainer.h"

namespace {
using namespace lumen;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void BM_VariantEvaluator_Lstm(benchmark::State& state) {
  configure_threads(0);
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=4925&length=26"));
  std::vector<const std::vector<std::string>*> texts;
  for (auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  data::EncodedSet train = data::EncodedSet::from(ds.train, vocab, false);
  torch::manual_seed(0);
  models::ModelConfig c;
  c.vocab_size = vocab.size();
  models::TextClassifier model(c);
  train::TrainOptions to;
  to.epochs = 2;
  to.progress = false;
  to.select = "last";
  train::fit(model, train, {}, to);
  std::vector<perturb::Text> originals;
  for (const auto* part : {&ds.dev, &ds.test})
    for (const auto& e : *part)
      if (originals.size() < 987) originals.push_back({vocab.encode(e.tokens), {}});
  Rng rng(1);
  std::vector<perturb::Variant> variants;
  for (size_t r = 0; r < originals.size(); ++r)
    for (size_t p = 0; p < originals[r].a.size(); ++p) {
      perturb::Variant v{static_cast<int64_t>(r), originals[r].a, {}};
      v.a[p] = 4 + static_cast<int64_t>(rng.uniform_int(vocab.size() - 4));
      variants.push_back(std::move(v));
    }
  double reuse_s = 0, plain_s = 0, single_s = 0;
  perturb::EvaluatorStats stats;
  const size_t singles = std::min<size_t>(400, variants.size());
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(perturb::evaluate_variants(model, originals, variants, {}, &stats).data_ptr());
    reuse_s = seconds_since(t0);
    perturb::EvaluatorOptions plain;
    plain.reuse = false;
    t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(perturb::evaluate_variants(model, originals, variants, plain).data_ptr());
    plain_s = seconds_since(t0);
    // One at a time: a one-row pass per variant, as a per-candidate attack loop evaluates.
    t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < singles; ++i)
      benchmark::DoNotOptimize(
          perturb::evaluate_variants(model, {}, {variants[i]}, plain).data_ptr());
    single_s = seconds_since(t0) / singles * variants.size();
  }
  const double n = static_cast<double>(variants.size());
  state.counters["variants"] = n;
  state.counters["mean_batch"] = stats.mean_batch();
  state.counters["reuse_per_s"] = n / reuse_s;
  state.counters["plain_per_s"] = n / plain_s;
  state.counters["single_per_s"] = n / single_s;
  state.counters["reuse_x_plain"] = plain_s / reuse_s;
  state.counters["reuse_x_single"] = single_s / reuse_s;
}
BENCHMARK(BM_VariantEvaluator_Lstm)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
