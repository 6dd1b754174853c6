#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/parallel_linear.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

TEST(ParallelLinear, EqualsTheLinearFunctionForwardAndBackward) {
  torch::manual_seed(0);
  for (int64_t rows : {3, 1000}) {  // below and above the split threshold
    auto x = torch::randn({rows / 3 + 1, 3, 16}, torch::kDouble);
    auto w = torch::randn({8, 16}, torch::kDouble), b = torch::randn({8}, torch::kDouble);
    auto gy = torch::randn({rows / 3 + 1, 3, 8}, torch::kDouble);
    std::vector<at::Tensor> grads[2];
    at::Tensor ys[2];
    for (int k = 0; k < 2; ++k) {
      auto xi = x.clone().requires_grad_(), wi = w.clone().requires_grad_(), bi = b.clone().requires_grad_();
      ys[k] = k == 0 ? parallel_linear(xi, wi, bi) : torch::nn::functional::linear(xi, wi, bi);
      (ys[k] * gy).sum().backward();
      grads[k] = {xi.grad(), wi.grad(), bi.grad()};
    }
    EXPECT_TRUE(torch::allclose(ys[0], ys[1], 1e-12, 1e-12));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-11, 1e-12)) << i;
  }
  auto x = torch::randn({500, 4}, torch::kDouble);
  auto w = torch::randn({2, 4}, torch::kDouble);
  EXPECT_LT(test::max_directional_error([&](const at::Tensor& xi) { return parallel_linear(xi, w, {}).pow(2).sum(); }, x),
            1e-6);
}

}  // namespace
}  // namespace lumen::models
