#include "perturb/neighbours.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/parallel.h"

namespace lumen::perturb {

double NeighbourTable::cosine_of(int64_t a, int64_t b) const {
  if (!unit.defined() || a < 0 || b < 0 || a >= unit.size(0) || b >= unit.size(0)) return 0.0;
  const float* ua = unit[a].data_ptr<float>();
  const float* ub = unit[b].data_ptr<float>();
  double s = 0;
  for (int64_t e = 0; e < unit.size(1); ++e) s += static_cast<double>(ua[e]) * ub[e];
  return s;
}

NeighbourTable build_neighbours(const at::Tensor& vectors, const std::vector<char>& eligible, int64_t k) {
  if (vectors.dim() != 2) throw InvalidArgument("neighbours: vectors must be [V, E]");
  const int64_t V = vectors.size(0);
  if (static_cast<int64_t>(eligible.size()) != V) throw InvalidArgument("neighbours: one eligibility flag per word");
  if (k < 1) throw InvalidArgument("neighbours: k must be at least 1");
  torch::NoGradGuard no_grad;
  at::Tensor x = vectors.detach().to(torch::kFloat).contiguous();
  at::Tensor norm = x.norm(2, 1, true);
  at::Tensor mask = torch::tensor(std::vector<uint8_t>(eligible.begin(), eligible.end()), torch::kUInt8).to(torch::kBool);
  mask = mask & (norm.squeeze(1) > 0);
  NeighbourTable t;
  t.unit = torch::where(mask.unsqueeze(1), x / norm.clamp_min(1e-12), torch::zeros_like(x)).contiguous();
  const int64_t K = std::min<int64_t>(k, std::max<int64_t>(V - 1, 1));
  t.ids = torch::full({V, K}, -1, torch::kInt64);
  t.cosine = torch::zeros({V, K}, torch::kFloat);
  const at::Tensor excluded = mask.logical_not();
  const int64_t block = 512;
  parallel_chunks((V + block - 1) / block, 1, [&](int64_t b0, int64_t b1) {
    torch::NoGradGuard ng;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * block, n = std::min(block, V - r0);
      at::Tensor sim = torch::mm(t.unit.narrow(0, r0, n), t.unit.t());  // [n, V]
      sim.masked_fill_(excluded.unsqueeze(0), -2.0f);
      sim.index_put_({torch::arange(n), torch::arange(r0, r0 + n)}, -2.0f);  // not itself
      auto [val, idx] = sim.topk(K, 1);
      idx = torch::where(val > -1.5f, idx, torch::full_like(idx, -1));
      val = torch::where(val > -1.5f, val, torch::zeros_like(val));
      // Words that are not eligible have no neighbours.
      const at::Tensor rows_ok = mask.narrow(0, r0, n).unsqueeze(1);
      t.ids.narrow(0, r0, n).copy_(torch::where(rows_ok, idx, torch::full_like(idx, -1)));
      t.cosine.narrow(0, r0, n).copy_(torch::where(rows_ok, val, torch::zeros_like(val)));
    }
  });
  return t;
}

}  // namespace lumen::perturb
