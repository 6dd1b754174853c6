// Adam with AMSGrad and L2 weight decay (Kingma & Ba 2015; Reddi et al. 2018), as
// torch::optim::Adam computes it, but one fused pass per parameter instead of about ten
// whole-tensor operations: with a 300-d embedding over a large vocabulary the optimizer step is
// otherwise a large share of a training step. Its plain twin is torch::optim::Adam (tested equal).
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace lumen::train {

struct AdamOptions {
  // Learning rate.
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // AMSGrad: use the running maximum of the second moment (the paper's setting).
  bool amsgrad = true;
  void validate() const;
};

struct ParamGroup {
  std::vector<at::Tensor> params;
  // L2 penalty added to the gradient (1e-5 in the paper; 0 for attention parameters).
  double weight_decay = 0;
};

class FusedAdam {
 public:
  FusedAdam(std::vector<ParamGroup> groups, AdamOptions options);
  // Applies one update from the parameters' .grad(); parameters without a gradient are skipped.
  void step();
  // Clears the gradients (sets them undefined).
  void zero_grad();
  int64_t steps() const { return step_; }

 private:
  struct State {
    at::Tensor m, v, vmax;
  };
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<State>> state_;
  AdamOptions options_;
  int64_t step_ = 0;
};

}  // namespace lumen::train
