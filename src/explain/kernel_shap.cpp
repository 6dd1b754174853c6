// Kernel SHAP (Lundberg & Lee 2017) over tokens: coalition sizes k in 1..d-1 are drawn with
// probability proportional to the Shapley kernel (d - 1) / (k (d - k)) and the kept tokens
// uniformly among the subsets of that size, so the samples carry equal regression weights; the
// full and the empty coalition enter with weight 1e6, which enforces efficiency (the scores add
// up to p(x) - p(empty)) up to a tiny error. Off tokens are removed as ExplainOptions::removal
// says.
#include <algorithm>
#include <numeric>

#include "explain/methods.h"
#include "explain/surrogate.h"

namespace lumen::explain {
namespace {

class KernelShap : public Explainer {
 public:
  std::string name() const override { return "kernel_shap"; }
  std::string description() const override {
    return "Kernel SHAP: Shapley value estimate of the token for p(target); signed, sums to p(x) - p(no tokens)";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    SurrogateDesign design;
    design.ridge = 1e-8;
    const int64_t S = o.surrogate.samples;
    design.sample = [S](Rng& rng, int64_t d, std::vector<std::vector<char>>& masks, std::vector<double>& w) {
      masks.push_back(std::vector<char>(d, 1));
      w.push_back(1e6);
      masks.push_back(std::vector<char>(d, 0));
      w.push_back(1e6);
      if (d < 2) return;
      std::vector<double> cdf;
      double total = 0;
      for (int64_t k = 1; k < d; ++k) cdf.push_back(total += (d - 1.0) / (static_cast<double>(k) * (d - k)));
      std::vector<int64_t> idx(d);
      for (int64_t s = 2; s < S; ++s) {
        const double u = rng.uniform() * total;
        const int64_t k = 1 + (std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
        std::vector<char> m(d, 0);
        std::iota(idx.begin(), idx.end(), 0);
        for (int64_t i = 0; i < std::min(k, d); ++i) {
          std::swap(idx[i], idx[i + rng.uniform_int(d - i)]);
          m[idx[i]] = 1;
        }
        masks.push_back(std::move(m));
        w.push_back(1.0);
      }
    };
    return fit_surrogates(model, batch, o, design, "kernel_shap");
  }
};

}  // namespace

std::unique_ptr<Explainer> make_kernel_shap_explainer() { return std::make_unique<KernelShap>(); }

}  // namespace lumen::explain
