#include "models/effective_attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace lumen::models {

at::Tensor effective_attention(const at::Tensor& a, const at::Tensor& vm, const at::Tensor& mask) {
  if (a.dim() != 4 || vm.dim() != 4 || a.size(0) != vm.size(0) || a.size(1) != vm.size(1) || a.size(2) != a.size(3) ||
      vm.size(2) != a.size(3) || mask.dim() != 2 || mask.size(0) != a.size(0) || mask.size(1) != a.size(3))
    throw InvalidArgument("effective attention: attention [B, H, T, T], value maps [B, H, T, d] and mask [B, T] must match");
  const int64_t B = a.size(0), d = vm.size(3);
  const at::Tensor lengths = mask.sum(1).cpu();
  const double machine = a.scalar_type() == torch::kDouble ? std::numeric_limits<double>::epsilon()
                                                           : std::numeric_limits<float>::epsilon();
  at::Tensor out = torch::zeros_like(a);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = lengths[b].item<int64_t>();
    if (n == 0) continue;
    const at::Tensor t = vm[b].narrow(1, 0, n);  // [H, n, d]
    auto [u, s, vh] = torch::linalg_svd(t, /*full_matrices=*/false);  // u [H, n, k], s [H, k]
    const at::Tensor tol = s.amax(1, true) * (static_cast<double>(std::max(n, d)) * machine);
    const at::Tensor ur = u * (s > tol).to(u.scalar_type()).unsqueeze(1);   // drop the null directions
    const at::Tensor p = torch::matmul(ur, ur.transpose(1, 2));            // [H, n, n]
    const at::Tensor rows = a[b].narrow(1, 0, n).narrow(2, 0, n);          // [H, n queries, n keys]
    out[b].narrow(1, 0, n).narrow(2, 0, n).copy_(torch::matmul(rows, p));
  }
  return out;
}

}  // namespace lumen::models
