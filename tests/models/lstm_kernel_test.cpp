// The fused BiLSTM against its plain twin, LibTorch's own LSTM module, and finite differences.
#include <gtest/gtest.h>

#include <random>
#include <torch/torch.h>

#include "core/error.h"
#include "models/lstm_kernel.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

struct Weights {
  at::Tensor w_ih, w_hh, bias;
};
Weights random_weights(int64_t E, int64_t H, int64_t D, torch::Dtype dtype) {
  return {torch::randn({D * 4 * H, E}, dtype) * 0.4, torch::randn({D * 4 * H, H}, dtype) * 0.4,
          torch::randn({D * 4 * H}, dtype) * 0.2};
}

class FusedLstm : public test::SeededTest {};

TEST_F(FusedLstm, EqualsThePlainTwinForwardAndBackwardWithRaggedLengths) {
  for (int64_t D : {1, 2}) {
    const int64_t B = 4, T = 7, E = 5, H = 3;
    auto w = random_weights(E, H, D, torch::kDouble);
    auto x = torch::randn({B, T, E}, torch::kDouble);
    auto lengths = torch::tensor({7, 3, 1, 5}, torch::kInt64);
    auto grad_out = torch::randn({B, T, D * H}, torch::kDouble);
    auto grad_final = torch::randn({B, D * H}, torch::kDouble);
    std::vector<at::Tensor> grads[2];
    at::Tensor outs[2], finals[2];
    for (int impl = 0; impl < 2; ++impl) {
      auto xi = x.clone().requires_grad_(), wi = w.w_ih.clone().requires_grad_(), wh = w.w_hh.clone().requires_grad_(),
           b = w.bias.clone().requires_grad_();
      LstmResult r = impl == 0 ? fused_lstm(xi, lengths, wi, wh, b, D) : plain_lstm(xi, lengths, wi, wh, b, D);
      ((r.output * grad_out).sum() + (r.final_h * grad_final).sum()).backward();
      outs[impl] = r.output.detach();
      finals[impl] = r.final_h.detach();
      grads[impl] = {xi.grad(), wi.grad(), wh.grad(), b.grad()};
    }
    EXPECT_TRUE(torch::allclose(outs[0], outs[1], 1e-10, 1e-12)) << "directions " << D;
    EXPECT_TRUE(torch::allclose(finals[0], finals[1], 1e-10, 1e-12));
    for (size_t k = 0; k < 4; ++k) EXPECT_TRUE(torch::allclose(grads[0][k], grads[1][k], 1e-9, 1e-11)) << "grad " << k;
    // Padding is exactly zero in the output.
    EXPECT_EQ(outs[0][2].narrow(0, 1, T - 1).abs().max().item<double>(), 0.0);
  }
}

TEST_F(FusedLstm, MatchesLibTorchLstmOnEachSequenceAloneTo1e5) {
  const int64_t E = 6, H = 5;
  torch::nn::LSTM ref(torch::nn::LSTMOptions(E, H).bidirectional(true).batch_first(true));
  // torch::nn::LSTM keeps per-direction weights; stack them in Lumen's layout.
  auto p = ref->named_parameters();
  at::Tensor w_ih = torch::cat({p["weight_ih_l0"], p["weight_ih_l0_reverse"]}).detach().requires_grad_();
  at::Tensor w_hh = torch::cat({p["weight_hh_l0"], p["weight_hh_l0_reverse"]}).detach().requires_grad_();
  at::Tensor bias = torch::cat({p["bias_ih_l0"] + p["bias_hh_l0"], p["bias_ih_l0_reverse"] + p["bias_hh_l0_reverse"]})
                        .detach()
                        .requires_grad_();
  const std::vector<int64_t> lens = {9, 4, 6};
  auto x = torch::randn({3, 9, E});
  auto xr = x.clone().requires_grad_();
  auto r = fused_lstm(xr, torch::tensor(lens), w_ih, w_hh, bias, 2);
  r.output.pow(2).sum().backward();
  for (size_t b = 0; b < lens.size(); ++b) {
    auto xb = x[b].narrow(0, 0, lens[b]).unsqueeze(0).clone().requires_grad_();
    auto out = std::get<0>(ref->forward(xb));
    EXPECT_TRUE(torch::allclose(out[0], r.output[b].narrow(0, 0, lens[b]), 1e-5, 1e-5)) << "row " << b;
    out.pow(2).sum().backward();
    EXPECT_TRUE(torch::allclose(xb.grad()[0], xr.grad()[b].narrow(0, 0, lens[b]), 1e-5, 1e-5)) << "row " << b;
  }
}

TEST_F(FusedLstm, GradientsMatchFiniteDifferencesInFloat64) {
  const int64_t B = 3, T = 5, E = 4, H = 3;
  auto w = random_weights(E, H, 2, torch::kDouble);
  auto lengths = torch::tensor({5, 2, 4}, torch::kInt64);
  auto x = torch::randn({B, T, E}, torch::kDouble);
  auto weights = torch::randn({B, T, 2 * H}, torch::kDouble);
  auto f_x = [&](const at::Tensor& xi) { return (fused_lstm(xi, lengths, w.w_ih, w.w_hh, w.bias, 2).output * weights).sum(); };
  EXPECT_LT(test::max_directional_error(f_x, x), 1e-5);
  auto f_whh = [&](const at::Tensor& wh) {
    auto r = fused_lstm(x, lengths, w.w_ih, wh, w.bias, 2);
    return (r.output * weights).sum() + r.final_h.pow(2).sum();
  };
  EXPECT_LT(test::max_directional_error(f_whh, w.w_hh), 1e-5);
  auto f_wih = [&](const at::Tensor& wi) { return (fused_lstm(x, lengths, wi, w.w_hh, w.bias, 2).output * weights).sum(); };
  EXPECT_LT(test::max_directional_error(f_wih, w.w_ih), 1e-5);
}

TEST_F(FusedLstm, RejectsLengthsOutsideTheSequence) {
  auto w = random_weights(3, 2, 2, torch::kFloat);
  auto x = torch::randn({2, 4, 3});
  EXPECT_THROW(fused_lstm(x, torch::tensor({0, 4}), w.w_ih, w.w_hh, w.bias, 2), InvalidArgument);
  EXPECT_THROW(fused_lstm(x, torch::tensor({5, 4}), w.w_ih, w.w_hh, w.bias, 2), InvalidArgument);
}

}  // namespace
}  // namespace lumen::models

namespace lumen::models {
namespace {

TEST(FusedLstmFromIds, EqualsTheKernelOnLookedUpEmbeddingsWithRepeatedTokens) {
  torch::manual_seed(3);
  const int64_t V = 9, E = 4, H = 3, D = 2;
  auto emb = torch::randn({V, E}, torch::kDouble);
  auto w = random_weights(E, H, D, torch::kDouble);
  // Repeated tokens within and across rows, ragged lengths, padding id 0.
  auto ids = torch::tensor({5, 3, 5, 5, 8, 2, 3, 0, 0, 0, 7, 7, 1, 0, 0}, torch::kInt64).view({3, 5});
  auto lengths = torch::tensor({5, 2, 3}, torch::kInt64);
  auto grad_out = torch::randn({3, 5, D * H}, torch::kDouble), grad_final = torch::randn({3, D * H}, torch::kDouble);
  std::vector<at::Tensor> g[2];
  at::Tensor o[2], f[2];
  for (int impl = 0; impl < 2; ++impl) {
    auto e = emb.clone().requires_grad_(), wi = w.w_ih.clone().requires_grad_(), wh = w.w_hh.clone().requires_grad_(),
         b = w.bias.clone().requires_grad_();
    LstmResult r = impl == 0 ? fused_lstm_from_ids(e, ids, lengths, wi, wh, b, D)
                             : fused_lstm(e.index_select(0, ids.flatten()).view({3, 5, E}), lengths, wi, wh, b, D);
    ((r.output * grad_out).sum() + (r.final_h * grad_final).sum()).backward();
    o[impl] = r.output.detach();
    f[impl] = r.final_h.detach();
    g[impl] = {e.grad(), wi.grad(), wh.grad(), b.grad()};
  }
  EXPECT_TRUE(torch::allclose(o[0], o[1], 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(f[0], f[1], 1e-12, 1e-12));
  for (size_t k = 0; k < 4; ++k) EXPECT_TRUE(torch::allclose(g[0][k], g[1][k], 1e-10, 1e-12)) << "grad " << k;
  EXPECT_THROW(fused_lstm_from_ids(emb, ids + 20, lengths, w.w_ih, w.w_hh, w.bias, D), InvalidArgument);
}

}  // namespace
}  // namespace lumen::models

namespace lumen::models {
namespace {

// The variant evaluator's kernel: random replacements, insertions and deletions of ragged
// sequences (edits at both ends included) equal running the kernel on each edited sequence from
// scratch, in one and two directions, reusing the shared prefix and suffix.
TEST(FusedLstmEdits, EqualsRerunningEachEditedSequence) {
  torch::manual_seed(3);
  std::mt19937 gen(5);
  for (int64_t D : {1, 2}) {
    const int64_t N = 9, E = 4, H = 3;
    at::Tensor emb = torch::randn({N, E}, torch::kDouble);
    at::Tensor w_ih = torch::randn({D * 4 * H, E}, torch::kDouble), w_hh = torch::randn({D * 4 * H, H}, torch::kDouble),
               bias = torch::randn({D * 4 * H}, torch::kDouble);
    const std::vector<std::vector<int64_t>> orig = {{1, 2, 3, 4, 5, 6, 7}, {8, 1}, {3}, {4, 4, 5, 4}};
    std::vector<std::vector<int64_t>> var;
    LstmEditPlan plan;
    for (int rep = 0; rep < 40; ++rep) {
      const int64_t r = gen() % orig.size();
      std::vector<int64_t> v = orig[r];
      const int kind = gen() % 3;
      const int64_t n = v.size();
      if (kind == 0) v[gen() % n] = gen() % N;
      else if (kind == 1) v.insert(v.begin() + gen() % (n + 1), gen() % N);
      else if (n > 1) v.erase(v.begin() + gen() % n);
      int64_t p = 0, q = 0;
      const int64_t m = std::min(v.size(), orig[r].size());
      while (p < m && v[p] == orig[r][p]) ++p;
      while (q < m - p && v[v.size() - 1 - q] == orig[r][orig[r].size() - 1 - q]) ++q;
      plan.rows.push_back(r);
      plan.prefix.push_back(p);
      plan.suffix.push_back(q);
      var.push_back(v);
    }
    auto pad = [](const std::vector<std::vector<int64_t>>& seqs, at::Tensor& ids, at::Tensor& len) {
      int64_t T = 0;
      for (const auto& x : seqs) T = std::max<int64_t>(T, x.size());
      ids = torch::zeros({static_cast<int64_t>(seqs.size()), T}, torch::kInt64);
      len = torch::empty({static_cast<int64_t>(seqs.size())}, torch::kInt64);
      for (size_t i = 0; i < seqs.size(); ++i) {
        for (size_t t = 0; t < seqs[i].size(); ++t) ids[i][t] = seqs[i][t];
        len[i] = static_cast<int64_t>(seqs[i].size());
      }
    };
    at::Tensor ids, len, ids_v, len_v;
    pad(orig, ids, len);
    pad(var, ids_v, len_v);
    const at::Tensor got = fused_lstm_edits(emb, ids, len, ids_v, len_v, w_ih, w_hh, bias, D, plan);
    const at::Tensor want =
        fused_lstm(emb.index_select(0, ids_v.view(-1)).view({ids_v.size(0), ids_v.size(1), E}), len_v, w_ih, w_hh, bias, D)
            .output;
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-12) << "D = " << D;
  }
}

}  // namespace
}  // namespace lumen::models

namespace lumen::models {
namespace {

// The path-attribution entry point: from proj = x W_ih^T + bias it gives the kernel's states,
// and its gradient maps back to the input's (dx = dproj W_ih) and to W_hh.
TEST(FusedLstmProjected, EqualsTheKernelOnTheProjectionsOfItsInputs) {
  torch::manual_seed(5);
  for (int64_t D : {1, 2}) {
    const int64_t B = 4, T = 6, E = 5, H = 3;
    auto w = random_weights(E, H, D, torch::kDouble);
    auto x = torch::randn({B, T, E}, torch::kDouble);
    auto lengths = torch::tensor({6, 2, 1, 4}, torch::kInt64);
    auto grad_out = torch::randn({B, T, D * H}, torch::kDouble), grad_final = torch::randn({B, D * H}, torch::kDouble);
    auto xa = x.clone().requires_grad_(), wha = w.w_hh.clone().requires_grad_();
    LstmResult a = fused_lstm(xa, lengths, w.w_ih, wha, w.bias, D);
    ((a.output * grad_out).sum() + (a.final_h * grad_final).sum()).backward();
    auto proj = torch::addmm(w.bias, x.view({B * T, E}), w.w_ih.t()).view({B, T, -1}).requires_grad_();
    auto whb = w.w_hh.clone().requires_grad_();
    LstmResult b = fused_lstm_projected(proj, lengths, whb, D);
    ((b.output * grad_out).sum() + (b.final_h * grad_final).sum()).backward();
    EXPECT_TRUE(torch::allclose(a.output, b.output, 1e-12, 1e-13)) << "directions " << D;
    EXPECT_TRUE(torch::allclose(a.final_h, b.final_h, 1e-12, 1e-13));
    const at::Tensor dx = proj.grad().view({B * T, -1}).mm(w.w_ih).view({B, T, E});
    // Past a row's length the input has no effect: zero gradient from both entry points.
    EXPECT_TRUE(torch::allclose(xa.grad(), dx, 1e-10, 1e-12));
    EXPECT_EQ(proj.grad()[1].narrow(0, 2, T - 2).abs().max().item<double>(), 0.0);
    EXPECT_TRUE(torch::allclose(wha.grad(), whb.grad(), 1e-10, 1e-12));
  }
  const auto w = random_weights(3, 2, 2, torch::kDouble);
  EXPECT_THROW(fused_lstm_projected(torch::zeros({2, 4, 8}, torch::kDouble), torch::tensor({4, 4}), w.w_hh, 2),
               InvalidArgument);  // 8 != 2 * 4H
  EXPECT_THROW(fused_lstm_projected(torch::zeros({2, 4, 16}, torch::kDouble), torch::tensor({4, 5}), w.w_hh, 2),
               InvalidArgument);  // length past T
}

}  // namespace
}  // namespace lumen::models

