// The fused Adam against its plain twin, torch::optim::Adam, with AMSGrad and weight decay.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "train/adam.h"
#include "support/fixtures.h"

namespace lumen::train {
namespace {

class FusedAdamTest : public test::SeededTest {};

TEST_F(FusedAdamTest, EqualsTorchAdamWithAmsgradAndPerGroupWeightDecay) {
  for (auto dtype : {torch::kDouble, torch::kFloat}) {
    auto a1 = torch::randn({300, 7}, dtype), b1 = torch::randn({5}, dtype);
    auto a2 = a1.clone(), b2 = b1.clone();
    a1.requires_grad_();
    b1.requires_grad_();
    a2.requires_grad_();
    b2.requires_grad_();
    AdamOptions o;
    o.lr = 0.01;
    FusedAdam fused({{{a1}, 1e-2}, {{b1}, 0.0}}, o);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<at::Tensor>{a2},
                        std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.01).amsgrad(true).weight_decay(1e-2)));
    groups.emplace_back(std::vector<at::Tensor>{b2},
                        std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.01).amsgrad(true)));
    torch::optim::Adam plain(groups, torch::optim::AdamOptions(0.01));
    for (int step = 0; step < 20; ++step) {
      // Gradients that change sign and size, so the AMSGrad maximum matters.
      const double s = std::sin(step * 1.3) * (1 + step % 3);
      fused.zero_grad();
      ((a1 * a1).sum() * s + (b1.pow(3)).sum()).backward();
      fused.step();
      plain.zero_grad();
      ((a2 * a2).sum() * s + (b2.pow(3)).sum()).backward();
      plain.step();
    }
    const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
    EXPECT_TRUE(torch::allclose(a1, a2, tol, tol));
    EXPECT_TRUE(torch::allclose(b1, b2, tol, tol));
  }
}

TEST_F(FusedAdamTest, SkipsParametersWithoutGradientAndValidatesOptions) {
  auto p = torch::ones({3}).requires_grad_();
  FusedAdam adam({{{p}, 0.0}}, {});
  adam.step();
  EXPECT_TRUE(torch::equal(p, torch::ones({3})));
  AdamOptions bad;
  bad.lr = 0;
  EXPECT_THROW(FusedAdam({{{p}, 0.0}}, bad), InvalidArgument);
}

}  // namespace
}  // namespace lumen::train
