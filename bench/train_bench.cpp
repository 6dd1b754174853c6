// Training throughput per encoder at the paper's sizes on the synthetic keyword set (4,000
// training examples, mean length 26, batch 32), and the BiLSTM's parts: the fused kernel
// against its plain twin and LibTorch's own LSTM module, forward and backward.
// Run: build/lumen_bench  (or `make bench`). Report ratios measured in one run.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "core/runtime.h"
#include "data/spec.h"
#include "models/classifier.h"
#include "models/lstm_kernel.h"
#include "train/trainer.h"
#include "targets.h"

namespace {
using namespace lumen;

struct Fixture {
  data::Dataset ds;
  data::Vocab vocab;
  data::EncodedSet train;
  Fixture() {
    configure_threads(0);
    auto spec = data::parse_data_spec("synthetic-keywords?n=5000&length=26");
    ds = data::load_dataset(spec);
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : ds.train) texts.push_back(&e.tokens);
    vocab = data::Vocab::build(texts, 1);
    train = data::EncodedSet::from(ds.train, vocab, false);
  }
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

models::ModelConfig config_for(const std::string& encoder, const std::string& lstm_impl = "fused") {
  models::ModelConfig c;
  c.encoder = encoder;
  c.lstm_impl = lstm_impl;
  c.vocab_size = fixture().vocab.size();
  return c;
}

// One training epoch (forward, backward, Adam step over every batch).
void train_epoch(benchmark::State& state, const std::string& encoder, const std::string& impl) {
  auto& f = fixture();
  torch::manual_seed(0);
  models::TextClassifier model(config_for(encoder, impl));
  train::TrainOptions o;
  o.epochs = 1;
  o.progress = false;
  o.select = "last";
  data::EncodedSet empty;
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    train::fit(model, f.train, empty, o);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["seconds"] = seconds / state.iterations();  // per epoch
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(f.train.tokens) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
  state.counters["examples"] = static_cast<double>(f.train.size());
}
void BM_TrainEpoch_Lstm(benchmark::State& s) { train_epoch(s, "lstm", "fused"); }
void BM_TrainEpoch_LstmPlain(benchmark::State& s) { train_epoch(s, "lstm", "plain"); }
void BM_TrainEpoch_Cnn(benchmark::State& s) { train_epoch(s, "cnn", "fused"); }
void BM_TrainEpoch_Average(benchmark::State& s) { train_epoch(s, "average", "fused"); }
void BM_TrainEpoch_Transformer(benchmark::State& s) { train_epoch(s, "transformer", "fused"); }
BENCHMARK(BM_TrainEpoch_Lstm)->Name("BM_TrainEpoch_LstmFused")->Unit(benchmark::kSecond)->Iterations(2);
BENCHMARK(BM_TrainEpoch_LstmPlain)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_TrainEpoch_Cnn)->Unit(benchmark::kSecond)->Iterations(2);
BENCHMARK(BM_TrainEpoch_Average)->Unit(benchmark::kSecond)->Iterations(2);
BENCHMARK(BM_TrainEpoch_Transformer)->Unit(benchmark::kSecond)->Iterations(2);

// One batch 32 x 28 through the BiLSTM (300 -> 2 x 128): forward + backward.
void lstm_step(benchmark::State& state, int impl) {
  torch::manual_seed(0);
  const int64_t B = 32, T = 28, E = 300, H = 128;
  auto x = torch::randn({B, T, E}).requires_grad_();
  auto lengths = torch::full({B}, T, torch::kInt64);
  auto w_ih = (torch::randn({8 * H, E}) * 0.05).requires_grad_();
  auto w_hh = (torch::randn({8 * H, H}) * 0.05).requires_grad_();
  auto b = torch::zeros({8 * H}).requires_grad_();
  torch::nn::LSTM ref(torch::nn::LSTMOptions(E, H).bidirectional(true).batch_first(true));
  const bool backward = state.range(0) == 1;
  for (auto _ : state) {
    at::Tensor out;
    if (impl == 0) out = models::fused_lstm(x, lengths, w_ih, w_hh, b, 2).output;
    else if (impl == 1) out = models::plain_lstm(x, lengths, w_ih, w_hh, b, 2).output;
    else out = std::get<0>(ref->forward(x));
    if (backward) out.sum().backward();
    benchmark::DoNotOptimize(out.data_ptr());
  }
}
void BM_Lstm_Fused(benchmark::State& s) { lstm_step(s, 0); }
void BM_Lstm_Plain(benchmark::State& s) { lstm_step(s, 1); }
void BM_Lstm_LibTorchModule(benchmark::State& s) { lstm_step(s, 2); }
BENCHMARK(BM_Lstm_Fused)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lstm_Plain)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lstm_LibTorchModule)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// This machine's matrix-product peak: one single-threaded [512 x 512] x [512 x 512] float
// product per core, both cores at once (the kernel runs one direction per core).
double gemm_gflops_two_cores() {
  torch::NoGradGuard no_grad;
  const int64_t n = 512, reps = 40;
  auto run = [&](double& gflops) {
    const auto a = torch::randn({n, n}), b = torch::randn({n, n});
    auto c = torch::empty({n, n});
    at::mm_out(c, a, b);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t r = 0; r < reps; ++r) at::mm_out(c, a, b);
    gflops = 2.0 * n * n * n * reps / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 1e9;
  };
  double g0 = 0, g1 = 0;
  std::thread other([&] { run(g1); });
  run(g0);
  other.join();
  return g0 + g1;
}

// The kernel forward + backward on 128 rows x 28 steps (300 -> 2 x 128), from embeddings, as a
// share of the measured GEMM peak. FLOPs: forward 2 B T 4H (E + H) per direction (input and
// recurrent products), backward twice that (dW_ih, dx, dW_hh, dh): 24 B T H D (E + H) in all.
void BM_LstmKernelPeak(benchmark::State& state) {
  configure_threads(0);
  torch::manual_seed(0);
  const int64_t B = 128, T = 28, E = 300, H = 128, D = 2;
  auto x = torch::randn({B, T, E}).requires_grad_();
  auto lengths = torch::full({B}, T, torch::kInt64);
  auto w_ih = (torch::randn({8 * H, E}) * 0.05).requires_grad_();
  auto w_hh = (torch::randn({8 * H, H}) * 0.05).requires_grad_();
  auto b = torch::zeros({8 * H}).requires_grad_();
  const double peak = gemm_gflops_two_cores();
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    models::fused_lstm(x, lengths, w_ih, w_hh, b, D).output.sum().backward();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double flops = 24.0 * B * T * H * D * (E + H), gflops = flops * state.iterations() / seconds / 1e9;
  state.counters["kernel_gflops"] = gflops;
  state.counters["gemm_gflops"] = peak;
  state.counters["peak_fraction"] = gflops / peak;
}
BENCHMARK(BM_LstmKernelPeak)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace

// BENCHMARK_MAIN, after OpenBLAS's kernels are chosen as `lumen` chooses them.
int main(int argc, char** argv) {
  lumen::select_blas_kernels(argv);
  // --targets: only the benchmarks of issue #15's targets table.
  std::vector<char*> args(argv, argv + argc);
  std::string filter = "--benchmark_filter=" + lumen::bench::target_filter();
  for (auto& a : args)
    if (std::strcmp(a, "--targets") == 0) a = filter.data();
  argc = static_cast<int>(args.size());
  argv = args.data();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The console output, then the targets table of issue #15 for the targeted rows that ran.
  bool tabular = false;
  for (int i = 1; i < argc; ++i) tabular |= std::strcmp(argv[i], "--benchmark_counters_tabular=true") == 0;
  lumen::bench::TargetReporter reporter(tabular ? benchmark::ConsoleReporter::OO_Tabular
                                                : benchmark::ConsoleReporter::OO_Defaults);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
