// The "Attention is not Explanation" analysis (lumen analyze) on the data shape of the issue's
// reference timings: a binary keyword task, 3,940 training and 987 analysed instances of mean
// length 26, 300-d embeddings, hidden 128, paper defaults for every analysis (100
// permutations, K = 5 adversaries, 500 Adam steps). The model is trained for 2 epochs first
// (the analysis cost does not depend on how well it learned). Counters give each phase's
// seconds and the speed-up over the reference implementation (Python, same LibTorch and
// OpenBLAS, 2 cores): BiLSTM 4.8 + 27.4 + 10.0 + 34.0 + 10.8 s = 87 s; Average 46 s in all.
// total_s includes building the summary, the records' JSON and the HTML report (the reference's
// last phase, 10.8 s, includes its figures).
// Run: build/lumen_bench --benchmark_filter=Analysis
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "analysis/jain_wallace.h"
#include "report/analysis_report.h"

#include <chrono>
#include "core/runtime.h"
#include "data/spec.h"
#include "train/trainer.h"

namespace {
using namespace lumen;

struct AnalysisFixture {
  data::Vocab vocab;
  data::EncodedSet train;
  std::vector<data::Example> analysed;
  AnalysisFixture() {
    configure_threads(0);
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=4925&length=26"));
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : ds.train) texts.push_back(&e.tokens);
    vocab = data::Vocab::build(texts, 1);
    train = data::EncodedSet::from(ds.train, vocab, false);
    train.ids.resize(3940);
    train.labels.resize(3940);
    // 987 analysed instances: dev + test of a second draw (unseen texts, same distribution).
    data::Dataset more = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=9870&length=26&seed=7"));
    for (auto* part : {&more.dev, &more.test})
      for (auto& e : *part)
        if (static_cast<int64_t>(analysed.size()) < 987) analysed.push_back(e);
  }
};
AnalysisFixture& afix() {
  static AnalysisFixture f;
  return f;
}

void analysis(benchmark::State& state, const std::string& encoder, double reference_total, bool fast) {
  auto& f = afix();
  torch::manual_seed(0);
  models::ModelConfig c;
  c.encoder = encoder;
  c.vocab_size = f.vocab.size();
  models::TextClassifier model(c);
  train::TrainOptions to;
  to.epochs = 2;
  to.progress = false;
  to.select = "last";
  train::fit(model, f.train, {}, to);
  analysis::AnalysisOptions o;
  o.progress = false;
  o.fast = fast;
  analysis::PhaseSeconds s;
  double report_s = 0;
  for (auto _ : state) {
    const auto res = analysis::analyze(model, f.analysed, f.vocab, false, o);
    s = res.seconds;
    // The reference's last phase includes its figures: summary, records and the HTML report.
    const auto t0 = std::chrono::steady_clock::now();
    report::AnalysisData a;
    a.name = encoder;
    a.summary = analysis::summarize(res.records, {"negative", "positive"}, o);
    for (const auto& r : res.records) a.records.push_back(r.to_json({"negative", "positive"}));
    const std::string html = report::render_analysis_report({a});
    benchmark::DoNotOptimize(html.data());
    report_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["instances"] = static_cast<double>(f.analysed.size());
  state.counters["gradient_s"] = s.gradient;
  state.counters["loo_s"] = s.loo;
  state.counters["perm_s"] = s.permutation;
  state.counters["adv_s"] = s.adversarial;
  state.counters["stats_s"] = s.statistics;
  state.counters["report_s"] = report_s;
  state.counters["total_s"] = s.total() + report_s;
  state.counters["seconds"] = s.total() + report_s;
  state.counters["x_reference"] = reference_total / (s.total() + report_s);
}
void BM_Analysis_Lstm(benchmark::State& s) { analysis(s, "lstm", 87.0, true); }
void BM_Analysis_Average(benchmark::State& s) { analysis(s, "average", 46.0, true); }
BENCHMARK(BM_Analysis_Lstm)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Analysis_Average)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

namespace {
// The plain twins (one-at-a-time leave-one-out, autograd adversarial search) on the same data:
// the fast paths' own speed-up, measured in the same run.
void BM_Analysis_LstmPlain(benchmark::State& s) { analysis(s, "lstm", 87.0, false); }
BENCHMARK(BM_Analysis_LstmPlain)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
}  // namespace
