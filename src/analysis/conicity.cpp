#include "analysis/conicity.h"

#include <torch/torch.h>

#include "core/error.h"

namespace lumen::analysis {

double conicity(const at::Tensor& states) {
  if (states.dim() != 2 || states.size(0) < 1) throw InvalidArgument("conicity: states must be [n >= 1, m]");
  const at::Tensor v = states.to(torch::kDouble);
  const at::Tensor mean = v.mean(0);
  const double mean_norm = mean.norm().item<double>();
  if (!(mean_norm > 0)) return 0;
  const at::Tensor norms = v.norm(2, 1).clamp_min(1e-300);
  return (v.matmul(mean) / (norms * mean_norm)).mean().item<double>();
}

}  // namespace lumen::analysis
