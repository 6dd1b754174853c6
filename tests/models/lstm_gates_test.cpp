// The BiLSTM's fused gate pass: the AVX2/FMA version against the portable one (cell by cell and
// through every kernel entry point), finite differences through the in-place entry points, and
// padding invariance, at hidden sizes that exercise full vectors and their scalar tails.
#include <gtest/gtest.h>

#include <random>
#include <torch/torch.h>

#include "models/lstm_gates.h"
#include "models/lstm_kernel.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

using lstm_internal::cell_backward;
using lstm_internal::cell_forward;
using lstm_internal::cell_simd;
using lstm_internal::use_portable_cells;

// Restores the run-time choice however a test ends.
struct PortableCells {
  explicit PortableCells(bool portable) { use_portable_cells(portable); }
  ~PortableCells() { use_portable_cells(false); }
};

template <typename T>
struct CellOut {
  std::vector<T> g, c, t, h, out, dc, dg;
};

// One forward and one backward cell step on random inputs of spread `scale` (large spreads
// saturate the gates and reach exp's clamped range).
template <typename T>
CellOut<T> run_cell(int64_t H, double scale, bool portable, bool with_x) {
  PortableCells mode(portable);
  std::mt19937 gen(7);
  std::normal_distribution<double> n(0, scale);
  auto draw = [&](int64_t k) {
    std::vector<T> v(k);
    for (auto& e : v) e = static_cast<T>(n(gen));
    return v;
  };
  CellOut<T> r;
  r.g = draw(4 * H);
  const std::vector<T> x = draw(4 * H), cprev = draw(H), dh = draw(H), gout = draw(H);
  r.c.resize(H);
  r.t.resize(H);
  r.h.resize(H);
  r.out.resize(H);
  if (!with_x)
    for (int64_t j = 0; j < 4 * H; ++j) r.g[j] += x[j];
  cell_forward(r.g.data(), with_x ? x.data() : nullptr, cprev.data(), r.c.data(), r.t.data(), r.h.data(), r.out.data(), H);
  r.dc = draw(H);
  r.dg.resize(4 * H);
  cell_backward(r.g.data(), cprev.data(), r.t.data(), dh.data(), gout.data(), r.dc.data(), r.dg.data(), H);
  return r;
}

template <typename T>
double max_error(const std::vector<T>& a, const std::vector<T>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i)
    e = std::max(e, std::abs(double(a[i]) - double(b[i])) / (1.0 + std::abs(double(a[i]))));
  return e;
}

TEST(LstmGates, TheVectorPassEqualsThePortableOneInFloat64AndFloat32) {
  if (!cell_simd()) GTEST_SKIP() << "this CPU has no AVX2/FMA: only the portable pass runs";
  for (int64_t H : {1, 3, 4, 13, 128})
    for (double scale : {0.3, 3.0, 40.0, 2000.0}) {
      const auto a = run_cell<double>(H, scale, true, true), b = run_cell<double>(H, scale, false, true);
      for (auto [x, y, what] : {std::tuple{&a.g, &b.g, "gates"}, {&a.c, &b.c, "cell"}, {&a.t, &b.t, "tanh"},
                                {&a.h, &b.h, "state"}, {&a.out, &b.out, "out"}, {&a.dc, &b.dc, "dc"}, {&a.dg, &b.dg, "dG"}})
        EXPECT_LT(max_error(*x, *y), 1e-12) << what << " H " << H << " scale " << scale;
      const auto af = run_cell<float>(H, scale, true, true), bf = run_cell<float>(H, scale, false, true);
      EXPECT_LT(max_error(af.h, bf.h), 2e-6) << "H " << H << " scale " << scale;
      EXPECT_LT(max_error(af.g, bf.g), 2e-6) << "H " << H << " scale " << scale;
      EXPECT_LT(max_error(af.dg, bf.dg), 2e-5) << "H " << H << " scale " << scale;
    }
}

TEST(LstmGates, AddingTheProjectionInThePassEqualsAddingItBefore) {
  for (bool portable : {true, false}) {
    const auto a = run_cell<double>(13, 2.0, portable, true), b = run_cell<double>(13, 2.0, portable, false);
    EXPECT_LT(max_error(a.h, b.h), 1e-15);
    EXPECT_LT(max_error(a.dg, b.dg), 1e-15);
    for (double v : a.g) EXPECT_TRUE(v >= -1 && v <= 1);  // activated gates
  }
}

struct Weights {
  at::Tensor w_ih, w_hh, bias;
};
Weights random_weights(int64_t E, int64_t H, torch::Dtype dtype) {
  return {torch::randn({8 * H, E}, dtype) * 0.4, torch::randn({8 * H, H}, dtype) * 0.4, torch::randn({8 * H}, dtype) * 0.2};
}

class FusedGates : public test::SeededTest {};

// Every entry point (inputs, ids, projections) with the vector pass equals the plain twin
// (LibTorch operations step by step) in float64 to 1e-9 relative, outputs and gradients.
TEST_F(FusedGates, EveryEntryPointEqualsThePlainTwinWithEitherPass) {
  const int64_t B = 5, T = 9, E = 6, H = 13, V = 11;
  const auto w = random_weights(E, H, torch::kDouble);
  const auto emb = torch::randn({V, E}, torch::kDouble);
  const auto ids = torch::randint(0, V, {B, T}, torch::kInt64);
  const auto lengths = torch::tensor({9, 4, 1, 7, 9}, torch::kInt64);
  const auto grad_out = torch::randn({B, T, 2 * H}, torch::kDouble), grad_final = torch::randn({B, 2 * H}, torch::kDouble);
  auto run = [&](int entry) {
    auto e = emb.clone().requires_grad_(), wi = w.w_ih.clone().requires_grad_(), wh = w.w_hh.clone().requires_grad_(),
         b = w.bias.clone().requires_grad_();
    const auto x = e.index_select(0, ids.flatten()).view({B, T, E});
    LstmResult r;
    if (entry == 0) r = plain_lstm(x, lengths, wi, wh, b, 2);
    else if (entry == 1) r = fused_lstm(x, lengths, wi, wh, b, 2);
    else if (entry == 2) r = fused_lstm_from_ids(e, ids, lengths, wi, wh, b, 2);
    else r = fused_lstm_projected(torch::addmm(b, x.view({B * T, E}), wi.t()).view({B, T, -1}), lengths, wh, 2);
    ((r.output * grad_out).sum() + (r.final_h * grad_final).sum()).backward();
    return std::vector<at::Tensor>{r.output.detach(), r.final_h.detach(), e.grad(), wi.grad(), wh.grad(), b.grad()};
  };
  const auto want = run(0);
  for (bool portable : {true, false}) {
    PortableCells mode(portable);
    for (int entry : {1, 2, 3}) {
      const auto got = run(entry);
      for (size_t k = 0; k < got.size(); ++k)
        EXPECT_TRUE(torch::allclose(got[k], want[k], 1e-9, 1e-12))
            << "entry " << entry << " tensor " << k << (portable ? " portable" : " vector");
    }
  }
}

TEST_F(FusedGates, InPlaceEntryPointsMatchFiniteDifferences) {
  const int64_t B = 3, T = 6, E = 5, H = 13, V = 7;
  const auto w = random_weights(E, H, torch::kDouble);
  const auto emb = torch::randn({V, E}, torch::kDouble);
  const auto ids = torch::randint(0, V, {B, T}, torch::kInt64);
  const auto lengths = torch::tensor({6, 2, 5}, torch::kInt64);
  const auto weights = torch::randn({B, T, 2 * H}, torch::kDouble);
  auto loss = [&](const LstmResult& r) { return (r.output * weights).sum() + r.final_h.pow(2).sum(); };
  EXPECT_LT(test::max_directional_error(
                [&](const at::Tensor& e) { return loss(fused_lstm_from_ids(e, ids, lengths, w.w_ih, w.w_hh, w.bias, 2)); },
                emb),
            1e-5);
  EXPECT_LT(test::max_directional_error(
                [&](const at::Tensor& wh) { return loss(fused_lstm_from_ids(emb, ids, lengths, w.w_ih, wh, w.bias, 2)); },
                w.w_hh),
            1e-5);
  const auto proj = torch::randn({B, T, 8 * H}, torch::kDouble);
  EXPECT_LT(test::max_directional_error(
                [&](const at::Tensor& p) { return loss(fused_lstm_projected(p, lengths, w.w_hh, 2)); }, proj),
            1e-5);
}

// A row's outputs and gradients do not depend on the rows beside it or on its padding.
TEST_F(FusedGates, ARowAloneEqualsThePaddedRowInABatch) {
  const int64_t T = 8, H = 13, L = 5;
  const auto w = random_weights(4, H, torch::kDouble);
  const auto proj = torch::randn({3, T, 8 * H}, torch::kDouble);
  const auto batch = fused_lstm_projected(proj, torch::tensor({int64_t(8), L, int64_t(3)}, torch::kInt64), w.w_hh, 2);
  auto alone_in = proj[1].narrow(0, 0, L).unsqueeze(0).clone().requires_grad_();
  const auto alone = fused_lstm_projected(alone_in, torch::tensor({L}, torch::kInt64), w.w_hh, 2);
  EXPECT_TRUE(torch::allclose(batch.output[1].narrow(0, 0, L), alone.output[0], 1e-13, 1e-14));
  EXPECT_TRUE(torch::allclose(batch.final_h[1], alone.final_h[0], 1e-13, 1e-14));
  EXPECT_EQ(batch.output[1].narrow(0, L, T - L).abs().max().item<double>(), 0.0);
  // The padded row's gradient is the lone row's, and zero on the padding.
  auto pb = proj.clone().requires_grad_();
  fused_lstm_projected(pb, torch::tensor({int64_t(8), L, int64_t(3)}, torch::kInt64), w.w_hh, 2).output[1].pow(2).sum().backward();
  alone.output.pow(2).sum().backward();
  EXPECT_TRUE(torch::allclose(pb.grad()[1].narrow(0, 0, L), alone_in.grad()[0], 1e-12, 1e-14));
  EXPECT_EQ(pb.grad()[1].narrow(0, L, T - L).abs().max().item<double>(), 0.0);
  EXPECT_EQ(pb.grad()[0].abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace lumen::models
