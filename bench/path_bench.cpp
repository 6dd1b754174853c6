// One pass of the integrated-gradients kernel (models/lstm_path.h) at the explain benchmark's
// sizes: copies x 32 path points (second argument; 14 is IG's default pass) of lengths 15..41, BiLSTM 2 x 128, additive
// attention over m = 256. Arg 0: the recurrence alone (a fixed state gradient); arg 1: with the
// decoder's gradient by hand; arg 2: the decoder's gradient alone. Counter gflops: the products'
// FLOPs (recurrence forward + backward over the real steps; the decoder's two attention
// products over the padded positions) per second.
// Run: build/lumen_bench --benchmark_filter=PathPass
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "models/classifier.h"
#include "models/decoder_gradient.h"
#include "models/lstm_path.h"

namespace {
using namespace lumen;

void BM_PathPass(benchmark::State& state) {
  configure_threads(0);
  torch::manual_seed(0);
  const int64_t B = 32, copies = state.range(1), T = 41, H = 128, D = 2, m = D * H;
  models::ModelConfig c;
  c.vocab_size = 100;
  models::TextClassifier model(c);
  model->eval();
  const at::Tensor lengths = torch::randint(15, T + 1, {B}, torch::kInt64);
  lengths[0] = T;
  const at::Tensor base = torch::randn({B, T, D * 4 * H}) * 0.3, diff = torch::randn({B, T, D * 4 * H}) * 0.3;
  const at::Tensor w_hh = torch::randn({D * 4 * H, H}) * 0.05;
  models::LstmPathRequests req;
  for (int64_t k = 0; k < copies; ++k)
    for (int64_t b = 0; b < B; ++b) req.add(b, (k + 0.5) / copies, 1.0 / copies);
  const int64_t mode = state.range(0);
  auto tm_of = [&](const at::Tensor& states, const std::vector<int64_t>& rows) {
    at::Tensor tm = torch::zeros({states.size(0), states.size(1)}, torch::kBool);
    for (size_t j = 0; j < rows.size(); ++j) tm[j].narrow(0, 1, lengths[rows[j]].item<int64_t>() - 2).fill_(true);
    return tm;
  };
  const models::StateGradient grad = [&](const at::Tensor& states, const std::vector<int64_t>& rows) {
    if (mode == 0) return torch::full_like(states, 1e-3);
    return models::decoder_gradient_by_hand(*model, states, tm_of(states, rows), std::vector<int64_t>(rows.size(), 1),
                                            {})->grad;
  };
  double steps = 0;
  for (int64_t b = 0; b < B; ++b) steps += lengths[b].item<int64_t>();
  steps *= copies;
  const at::Tensor states = torch::randn({B * copies, T, m}) * 0.5;
  std::vector<int64_t> rows(B * copies);
  for (int64_t i = 0; i < B * copies; ++i) rows[i] = i % B;
  const at::Tensor tm = tm_of(states, rows);
  for (auto _ : state) {
    if (mode == 2) {
      benchmark::DoNotOptimize(models::decoder_gradient_by_hand(*model, states, tm, std::vector<int64_t>(rows.size(), 1), {})
                                   ->grad.data_ptr());
      continue;
    }
    at::Tensor scores = torch::zeros({B, T}, torch::kDouble);
    models::lstm_path_scores(base, diff, lengths, w_hh, D, req, 0, grad, scores);
    benchmark::DoNotOptimize(scores.data_ptr());
  }
  const double rec = 2.0 * 2 * D * steps * H * 4 * H, dec = 2.0 * 2 * B * copies * T * m * (m / 2);
  const double flops = mode == 0 ? rec : mode == 1 ? rec + dec : dec;
  state.counters["gflops"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PathPass)->Args({0, 14})->Args({1, 14})->Args({2, 14})->Args({1, 4})->Args({1, 8})->Args({1, 28})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
