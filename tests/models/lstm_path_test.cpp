// The integrated-gradients kernel (models/lstm_path.h) against autograd through the
// differentiable projection entry point, and the decoder's gradient by hand
// (models/decoder_gradient.h) against autograd through the model's own decode, in float64.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "core/error.h"
#include "models/decoder_gradient.h"
#include "models/lstm_kernel.h"
#include "models/lstm_path.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

double max_rel(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item<double>();
}

// F(states) of one request: sum over positions of R[row] * tanh(states), a nonlinear output
// that depends on the row only, so that the kernel and autograd see the same function.
struct RowOutput {
  at::Tensor R;  // [B, T, D*H]
  at::Tensor value(const at::Tensor& states, const std::vector<int64_t>& rows) const {
    const at::Tensor r = R.index_select(0, torch::tensor(rows, torch::kInt64)).narrow(1, 0, states.size(1));
    return (r * states.tanh()).sum();
  }
};

TEST(LstmPathKernel, EqualsAutogradThroughTheProjectionEntryPointInFloat64) {
  torch::manual_seed(3);
  for (int64_t D : {1, 2}) {
    const int64_t B = 5, T = 9, H = 13, G = 4 * H;  // H = 13: full vectors and scalar tails
    const auto opt = torch::TensorOptions().dtype(torch::kDouble);
    const at::Tensor lengths = torch::tensor({int64_t(9), int64_t(1), int64_t(4), int64_t(9), int64_t(6)});
    const at::Tensor base = torch::randn({B, T, D * G}, opt) * 0.8, diff = torch::randn({B, T, D * G}, opt) * 0.8;
    const at::Tensor w_hh = torch::randn({D * G, H}, opt) * 0.3;
    const RowOutput f{torch::randn({B, T, D * H}, opt)};
    LstmPathRequests req;  // repeated rows, random coefficients and weights, across passes of 4
    for (int64_t i = 0; i < 14; ++i) req.add(i * 3 % B, (i % 7) / 6.0, 0.25 + 0.1 * i);
    std::vector<std::vector<int64_t>> seen;
    const StateGradient grad = [&](const at::Tensor& states, const std::vector<int64_t>& rows) {
      seen.push_back(rows);
      for (size_t j = 0; j < rows.size(); ++j) {
        const int64_t len = lengths[rows[j]].item<int64_t>();
        if (j > 0) EXPECT_LE(len, lengths[rows[j - 1]].item<int64_t>()) << "rows sorted by decreasing length";
        if (j == 0) EXPECT_EQ(states.size(1), len) << "the pass's states are as long as its longest row";
        if (len < states.size(1)) EXPECT_EQ(states[j].narrow(0, len, states.size(1) - len).abs().max().item<double>(), 0.0);
      }
      torch::AutoGradMode on(true);
      const at::Tensor leaf = states.detach().requires_grad_(true);
      return torch::autograd::grad({f.value(leaf, rows)}, {leaf})[0];
    };
    at::Tensor scores = torch::zeros({B, T}, torch::kDouble);
    lstm_path_scores(base, diff, lengths, w_hh, D, req, 4, grad, scores);
    EXPECT_EQ(seen.size(), 4u);  // ceil(14 / 4) passes
    // The twin: every request's path point through fused_lstm_projected, autograd for dF/dP.
    at::Tensor expected = torch::zeros({B, T}, torch::kDouble);
    for (size_t i = 0; i < req.size(); ++i) {
      const int64_t r = req.rows[i];
      const at::Tensor point = (base[r] + req.alphas[i] * diff[r]).unsqueeze(0).detach().requires_grad_(true);
      const at::Tensor states = fused_lstm_projected(point, lengths.narrow(0, r, 1), w_hh, D).output;
      const at::Tensor dp = torch::autograd::grad({f.value(states, {r})}, {point})[0][0];  // [T, D*4H]
      expected[r] += req.weights[i] * (dp * diff[r]).sum(1);
    }
    EXPECT_LT(max_rel(scores, expected), 1e-9) << "D = " << D;
    EXPECT_GT(scores.abs().sum().item<double>(), 0.0);
    // Scores accumulate across calls.
    lstm_path_scores(base, diff, lengths, w_hh, D, req, 0, grad, scores);
    EXPECT_LT(max_rel(scores, 2 * expected), 1e-9) << "D = " << D << ", one pass, accumulated";
  }
}

TEST(LstmPathKernel, RejectsRowsOutsideTheBatchAndMismatchedShapes) {
  const at::Tensor base = torch::zeros({2, 3, 8}), lengths = torch::tensor({int64_t(3), int64_t(2)});
  const at::Tensor w_hh = torch::zeros({8, 2});
  const StateGradient grad = [](const at::Tensor& s, const std::vector<int64_t>&) { return torch::zeros_like(s); };
  at::Tensor scores = torch::zeros({2, 3}, torch::kDouble);
  LstmPathRequests bad;
  bad.add(2, 0.5, 1.0);
  EXPECT_THROW(lstm_path_scores(base, base, lengths, w_hh, 1, bad, 0, grad, scores), InvalidArgument);
  LstmPathRequests ok;
  ok.add(1, 0.5, 1.0);
  at::Tensor wrong = torch::zeros({2, 3});
  EXPECT_THROW(lstm_path_scores(base, base, lengths, w_hh, 1, ok, 0, grad, wrong), InvalidArgument);
  EXPECT_THROW(lstm_path_scores(base, base, lengths, torch::zeros({8, 3}), 1, ok, 0, grad, scores), InvalidArgument);
  EXPECT_NO_THROW(lstm_path_scores(base, base, lengths, w_hh, 1, ok, 0, grad, scores));
}

TEST(DecoderGradientByHand, EqualsAutogradThroughDecodeInFloat64) {
  torch::manual_seed(5);
  for (const char* attention : {"additive", "dot"})
    for (int64_t classes : {2, 3})
      for (bool detach : {false, true}) {
        TextClassifier model(test::tiny_config("lstm", attention, false, classes));
        model->to(torch::kDouble);
        model->eval();
        // Rows of different lengths; <s> and </s> are outside the token mask.
        const data::Batch batch = test::batch_of({{4, 5, 6, 7, 8}, {9}, {10, 11, 12}}, {}, {1, 0, 1});
        const int64_t N = batch.size(), T = batch.ids.size(1), m = model->config().output_dim();
        const at::Tensor states =
            torch::randn({N, T, m}, torch::kDouble) * batch.mask.to(torch::kDouble).unsqueeze(2);
        const std::vector<int64_t> targets = {1, 0, classes - 1};
        ForwardOptions fo;
        fo.detach_attention = detach;
        const auto by_hand = decoder_gradient_by_hand(*model, states, batch.token_mask, targets, fo);
        ASSERT_TRUE(by_hand.has_value());
        torch::AutoGradMode on(true);
        Encoded enc;
        enc.states = states.clone().requires_grad_(true);
        const at::Tensor probs = torch::softmax(model->decode(enc, batch, fo).logits, 1);
        const at::Tensor p = probs.gather(1, torch::tensor(targets, torch::kInt64).unsqueeze(1)).squeeze(1);
        const at::Tensor g = torch::autograd::grad({p.sum()}, {enc.states})[0];
        const std::string label = std::string(attention) + " classes " + std::to_string(classes) + (detach ? " detached" : "");
        EXPECT_LT(max_rel(by_hand->prob, p.detach()), 1e-12) << label;
        EXPECT_LT(max_rel(by_hand->grad, g), 1e-10) << label;
        EXPECT_EQ(by_hand->grad.masked_select(batch.token_mask.logical_not().unsqueeze(2).expand({N, T, m}))
                      .abs()
                      .max()
                      .item<double>(),
                  0.0)
            << label << ": no gradient where attention cannot look";
      }
}

TEST(DecoderGradientByHand, DeclinesWhatNeedsTheGeneralDecoder) {
  const data::Batch batch = test::batch_of({{4, 5, 6}});
  const std::vector<int64_t> targets = {1};
  TextClassifier pair(test::tiny_config("lstm", "additive", true));
  TextClassifier uniform(test::tiny_config("lstm", "uniform", false));
  TextClassifier additive(test::tiny_config("lstm", "additive", false));
  const int64_t m = additive->config().output_dim();
  const at::Tensor states = torch::randn({1, batch.ids.size(1), m});
  EXPECT_FALSE(decoder_gradient_by_hand(*pair, states, batch.token_mask, targets, {}).has_value());
  EXPECT_FALSE(decoder_gradient_by_hand(*uniform, states, batch.token_mask, targets, {}).has_value());
  ForwardOptions edited;
  edited.edit = [](const at::Tensor& w, int64_t) { return w; };
  EXPECT_FALSE(decoder_gradient_by_hand(*additive, states, batch.token_mask, targets, edited).has_value());
  ForwardOptions unmasked;
  unmasked.ignore_padding_mask = true;
  EXPECT_FALSE(decoder_gradient_by_hand(*additive, states, batch.token_mask, targets, unmasked).has_value());
  EXPECT_TRUE(decoder_gradient_by_hand(*additive, states, batch.token_mask, targets, {}).has_value());
  EXPECT_THROW(decoder_gradient_by_hand(*additive, states, batch.token_mask, {5}, {}), InvalidArgument);
}

}  // namespace
}  // namespace lumen::models
