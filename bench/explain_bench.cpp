// Token attributions on the BiLSTM model of the analysis benchmark (keyword task, 987 instances
// of mean length 26, 300-d embeddings, hidden 128, additive attention, trained 2 epochs), every
// instance explained for its predicted class in batches of 32. Counters: seconds for all 987
// instances, attributions per second, and the speed-up over Captum 0.8 on the same PyTorch
// model with OpenBLAS at one thread (the reference timings, this machine): saliency
// 1.0 s, gradient x input 1.05 s, leave-one-out by feature ablation 8.8 s, integrated gradients
// with 50 steps 43 s, LIME with 500 samples 178 s.
// Run: build/lumen_bench --benchmark_filter=Explain
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>

#include "core/runtime.h"
#include "data/batch.h"
#include "data/spec.h"
#include "explain/explainer.h"
#include "train/trainer.h"

namespace {
using namespace lumen;

struct ExplainFixture {
  data::Vocab vocab;
  std::vector<data::Example> explained;
  models::TextClassifier model{nullptr};
  ExplainFixture() {
    configure_threads(0);
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=4925&length=26"));
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : ds.train) texts.push_back(&e.tokens);
    vocab = data::Vocab::build(texts, 1);
    auto train = data::EncodedSet::from(ds.train, vocab, false);
    train.ids.resize(3940);
    train.labels.resize(3940);
    data::Dataset more = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=9870&length=26&seed=7"));
    for (auto* part : {&more.dev, &more.test})
      for (auto& e : *part)
        if (static_cast<int64_t>(explained.size()) < 987) explained.push_back(e);
    torch::manual_seed(0);
    models::ModelConfig c;
    c.vocab_size = vocab.size();
    model = models::TextClassifier(c);
    train::TrainOptions to;
    to.epochs = 2;
    to.progress = false;
    to.select = "last";
    train::fit(model, train, {}, to);
  }
};
ExplainFixture& fix() {
  static ExplainFixture f;
  return f;
}

void explain_all(benchmark::State& state, const std::string& method, double captum_seconds,
                 const std::function<void(explain::ExplainOptions&)>& configure) {
  auto& f = fix();
  const auto e = explain::make_explainer(method);
  explain::ExplainOptions o;
  if (configure) configure(o);
  double seconds = 0;
  std::vector<double> gaps;
  for (auto _ : state) {
    gaps.clear();
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t b = 0; b < f.explained.size(); b += 32) {
      std::vector<const data::Example*> ptrs;
      for (size_t i = b; i < std::min(f.explained.size(), b + 32); ++i) ptrs.push_back(&f.explained[i]);
      const data::Batch batch = data::make_batch(ptrs, f.vocab, false);
      const auto r = e->explain(f.model, batch, o);
      benchmark::DoNotOptimize(r.scores.data_ptr());
      gaps.insert(gaps.end(), r.completeness_gap.begin(), r.completeness_gap.end());
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["seconds"] = seconds;
  state.counters["attributions_per_s"] = f.explained.size() / seconds;
  if (captum_seconds > 0) state.counters["x_vs_captum"] = captum_seconds / seconds;
  if (!gaps.empty()) {  // path methods: the share of instances whose completeness gap is <= 1e-3 / 1e-2
    double within3 = 0, within2 = 0;
    for (double g : gaps) {
      within3 += g <= 1e-3;
      within2 += g <= 1e-2;
    }
    state.counters["gap_le_1e-3"] = within3 / gaps.size();
    state.counters["gap_le_1e-2"] = within2 / gaps.size();
  }
}

void BM_ExplainSaliency(benchmark::State& s) { explain_all(s, "saliency", 1.0, {}); }
void BM_ExplainGradInput(benchmark::State& s) { explain_all(s, "grad_input", 1.05, {}); }
void BM_ExplainLooPad(benchmark::State& s) {
  explain_all(s, "loo", 8.8, [](explain::ExplainOptions& o) { o.removal = explain::Removal::kPad; });
}
void BM_ExplainLooDelete(benchmark::State& s) { explain_all(s, "loo", 8.8, {}); }
void BM_ExplainIg50(benchmark::State& s) {
  explain_all(s, "ig", 43.0, [](explain::ExplainOptions& o) { o.path.steps = 50; });
}
// Adaptive: per instance, as many steps (trapezoid, doubling from 4) as reach a gap of 1e-3.
void BM_ExplainIgAdaptive(benchmark::State& s) {
  explain_all(s, "ig", 43.0, [](explain::ExplainOptions& o) { o.path.tolerance = 1e-3; });
}
void BM_ExplainLime500(benchmark::State& s) {
  explain_all(s, "lime", 178.0, [](explain::ExplainOptions& o) { o.surrogate.samples = 500; });
}
void BM_ExplainLime500Pad(benchmark::State& s) {
  explain_all(s, "lime", 178.0, [](explain::ExplainOptions& o) {
    o.surrogate.samples = 500;
    o.removal = explain::Removal::kPad;
  });
}
void BM_ExplainKernelShap500(benchmark::State& s) {
  explain_all(s, "kernel_shap", 0, [](explain::ExplainOptions& o) { o.surrogate.samples = 500; });
}
void BM_ExplainSmoothGrad(benchmark::State& s) { explain_all(s, "smoothgrad", 0, {}); }
void BM_ExplainAttention(benchmark::State& s) { explain_all(s, "attention", 0, {}); }
void BM_ExplainGradSam(benchmark::State& s) { explain_all(s, "grad_sam", 0, {}); }
void BM_ExplainAttAttr(benchmark::State& s) { explain_all(s, "att_attr", 0, {}); }
void BM_ExplainOcclusion(benchmark::State& s) { explain_all(s, "occlusion", 0, {}); }

#define EXPLAIN_BENCH(f) BENCHMARK(f)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime()
EXPLAIN_BENCH(BM_ExplainSaliency);
EXPLAIN_BENCH(BM_ExplainGradInput);
EXPLAIN_BENCH(BM_ExplainLooPad);
EXPLAIN_BENCH(BM_ExplainLooDelete);
EXPLAIN_BENCH(BM_ExplainIg50);
EXPLAIN_BENCH(BM_ExplainIgAdaptive);
EXPLAIN_BENCH(BM_ExplainLime500);
EXPLAIN_BENCH(BM_ExplainLime500Pad);
EXPLAIN_BENCH(BM_ExplainKernelShap500);
EXPLAIN_BENCH(BM_ExplainSmoothGrad);
EXPLAIN_BENCH(BM_ExplainAttention);
EXPLAIN_BENCH(BM_ExplainGradSam);
EXPLAIN_BENCH(BM_ExplainAttAttr);
EXPLAIN_BENCH(BM_ExplainOcclusion);

}  // namespace
