// The Orthogonal BiLSTM (Mohankumar et al. 2020): in each direction every state is orthogonal to
// the mean of that direction's earlier states (to 1e-6 in float64), padding leaves the states
// unchanged, and without the projection the recurrence is the plain BiLSTM's. Its gradient
// checks and padding invariance run in the model contract (classifier_test, ortho_lstm cases).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/encoders.h"
#include "models/lstm_kernel.h"

namespace lumen::models {
namespace {

TEST(OrthoLstm, EachStateIsOrthogonalToTheMeanOfItsDirectionsEarlierStates) {
  torch::manual_seed(3);
  const int64_t E = 5, H = 6, B = 3, T = 9;
  OrthoLstmEncoderImpl enc(E, H);
  enc.to(torch::kDouble);
  const at::Tensor x = torch::randn({B, T, E}, torch::kDouble);
  const at::Tensor lengths = torch::tensor({9, 4, 7}, torch::kInt64);
  const at::Tensor mask = torch::arange(T).unsqueeze(0) < lengths.unsqueeze(1);
  torch::NoGradGuard ng;
  const EncoderOutput out = enc.encode(x, mask, lengths, {});
  ASSERT_EQ(out.states.sizes(), (std::vector<int64_t>{B, T, 2 * H}));
  double worst = 0, largest_before = 0;
  int64_t checked = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = lengths[b].item<int64_t>();
    if (n < T) EXPECT_EQ(out.states[b].narrow(0, n, T - n).abs().max().item<double>(), 0.0) << "padding must stay 0";
    for (int64_t d = 0; d < 2; ++d) {
      const at::Tensor h = out.states[b].narrow(1, d * H, H).narrow(0, 0, n);  // [n, H]
      for (int64_t k = 1; k < n; ++k) {
        // Direction d's k-th step reads position k (forward) or n-1-k (reverse).
        const int64_t pos = d == 0 ? k : n - 1 - k;
        const at::Tensor earlier = d == 0 ? h.narrow(0, 0, k) : h.narrow(0, pos + 1, n - 1 - pos);
        const at::Tensor mean = earlier.mean(0), ht = h[pos];
        const double cos = (ht.dot(mean) / (ht.norm() * mean.norm())).item<double>();
        worst = std::max(worst, std::abs(cos));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * (8 + 3 + 6));
  EXPECT_LT(worst, 1e-6);
  // The vanilla BiLSTM with the same weights is not orthogonal: the test can fail.
  const LstmResult plain = plain_lstm(x, lengths, enc.w_ih, enc.w_hh, enc.b_ih + enc.b_hh, 2);
  const at::Tensor h = plain.output[0].narrow(1, 0, H);
  for (int64_t k = 1; k < 9; ++k) {
    const at::Tensor mean = h.narrow(0, 0, k).mean(0);
    largest_before = std::max(largest_before, std::abs((h[k].dot(mean) / (h[k].norm() * mean.norm())).item<double>()));
  }
  EXPECT_GT(largest_before, 0.1);
}

TEST(OrthoLstm, TheFirstStepOfEachDirectionIsThePlainLstmStep) {
  // Nothing precedes the first step, so nothing is projected off: its state is the BiLSTM's.
  torch::manual_seed(4);
  OrthoLstmEncoderImpl enc(4, 3);
  enc.to(torch::kDouble);
  const at::Tensor x = torch::randn({2, 5, 4}, torch::kDouble);
  const at::Tensor lengths = torch::tensor({5, 3}, torch::kInt64);
  torch::NoGradGuard ng;
  const at::Tensor o = enc.encode(x, {}, lengths, {}).states;
  const at::Tensor p = plain_lstm(x, lengths, enc.w_ih, enc.w_hh, enc.b_ih + enc.b_hh, 2).output;
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t n = lengths[b].item<int64_t>();
    EXPECT_TRUE(torch::allclose(o[b][0].narrow(0, 0, 3), p[b][0].narrow(0, 0, 3), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(o[b][n - 1].narrow(0, 3, 3), p[b][n - 1].narrow(0, 3, 3), 1e-12, 1e-12));
    EXPECT_FALSE(torch::allclose(o[b][n - 1].narrow(0, 0, 3), p[b][n - 1].narrow(0, 0, 3), 1e-6, 1e-6));
  }
}

}  // namespace
}  // namespace lumen::models
