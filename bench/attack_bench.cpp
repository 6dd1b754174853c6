// `lumen attack` on the analysis benchmark's data shape: a BiLSTM (300-d embeddings, hidden 128)
// trained 2 epochs on the keyword task, 987 unseen texts of mean length 26. Counters: examples
// per second over the whole attack (neighbour table included), model and constraint seconds,
// mean evaluator batch, success rate and queries per example. Issue #11's target for the greedy
// word-importance attack (textfooler): >= 50 examples/s and a mean batch >= 64.
// Run: build/lumen_bench --benchmark_filter=Attack
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "core/runtime.h"
#include "data/encoded_set.h"
#include "data/spec.h"
#include "train/trainer.h"

namespace {
using namespace lumen;

struct AttackFixture {
  data::Vocab vocab;
  std::vector<data::Example> attacked;
  models::TextClassifier model{nullptr};
  AttackFixture() {
    configure_threads(0);
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=4925&length=26"));
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : ds.train) texts.push_back(&e.tokens);
    vocab = data::Vocab::build(texts, 1);
    data::EncodedSet train = data::EncodedSet::from(ds.train, vocab, false);
    data::Dataset more = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=9870&length=26&seed=7"));
    for (auto* part : {&more.dev, &more.test})
      for (auto& e : *part)
        if (static_cast<int64_t>(attacked.size()) < 987) attacked.push_back(e);
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
AttackFixture& fix() {
  static AttackFixture f;
  return f;
}

void attack_bench(benchmark::State& state, const std::string& recipe, bool reuse,
                  attack::Search search = attack::Search::kGreedy) {
  auto& f = fix();
  attack::AttackOptions o = attack::recipe_options(recipe);
  attack::adapt_to_vectors(o, false);
  o.evaluator.reuse = reuse;
  if (search != attack::Search::kGreedy) o.search = search;
  attack::AttackRun run;
  for (auto _ : state) run = attack::run_attack(f.model, f.vocab, f.attacked, o);
  const Json s = attack::summarize(run, o);
  state.counters["examples"] = static_cast<double>(f.attacked.size());
  state.counters["examples_per_s"] = s["examples_per_second"].get<double>();
  state.counters["model_s"] = run.timings.model;
  state.counters["constraints_s"] = run.timings.constraints;
  state.counters["mean_batch"] = s["timings"]["mean_batch"].get<double>();
  state.counters["success_rate"] = s["success_rate"].is_null() ? 0.0 : s["success_rate"].get<double>();
  state.counters["queries"] = s["queries_per_example"].is_null() ? 0.0 : s["queries_per_example"].get<double>();
}
void BM_Attack_TextFooler(benchmark::State& s) { attack_bench(s, "textfooler", true); }
void BM_Attack_TextFoolerPlain(benchmark::State& s) { attack_bench(s, "textfooler", false); }
void BM_Attack_Pwws(benchmark::State& s) { attack_bench(s, "pwws", true); }
void BM_Attack_DeepWordBug(benchmark::State& s) { attack_bench(s, "deepwordbug", true); }
void BM_Attack_HotFlip(benchmark::State& s) { attack_bench(s, "hotflip", true); }
void BM_Attack_TextFoolerBeam(benchmark::State& s) { attack_bench(s, "textfooler", true, attack::Search::kBeam); }
void BM_Attack_Alzantot(benchmark::State& s) { attack_bench(s, "alzantot", true); }
void BM_Attack_SemAttack(benchmark::State& s) { attack_bench(s, "semattack", true); }
BENCHMARK(BM_Attack_TextFooler)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_TextFoolerPlain)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_Pwws)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_DeepWordBug)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_HotFlip)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_TextFoolerBeam)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_Alzantot)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_Attack_SemAttack)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
