// LIME for text (Ribeiro et al. 2016), as the reference implementation samples it: the first
// sample keeps every token; each other one removes a uniformly drawn number (1..d) of uniformly
// drawn tokens. Samples are weighted by exp(-D^2 / (2 w^2)), D the cosine distance between the
// sample's mask and the full mask, w the kernel width (0.25: the reference's 25 on distances x
// 100); a ridge regression (alpha = ExplainOptions::ridge, 1 in the reference) with intercept
// on the binary masks gives one coefficient per token: the change of p(target) it explains.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "explain/methods.h"
#include "explain/surrogate.h"

namespace lumen::explain {
namespace {

class Lime : public Explainer {
 public:
  std::string name() const override { return "lime"; }
  std::string description() const override {
    return "LIME: coefficient of the token in a locally weighted ridge surrogate of p(target); signed";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    SurrogateDesign design;
    design.ridge = o.surrogate.ridge;
    const int64_t S = o.surrogate.samples;
    const double width = o.surrogate.kernel_width;
    design.sample = [S, width](Rng& rng, int64_t d, std::vector<std::vector<char>>& masks, std::vector<double>& w) {
      std::vector<int64_t> idx(d);
      for (int64_t s = 0; s < S; ++s) {
        std::vector<char> m(d, 1);
        if (s > 0) {
          const int64_t remove = 1 + static_cast<int64_t>(rng.uniform_int(d));
          std::iota(idx.begin(), idx.end(), 0);
          for (int64_t i = 0; i < remove; ++i) {  // partial Fisher-Yates
            std::swap(idx[i], idx[i + rng.uniform_int(d - i)]);
            m[idx[i]] = 0;
          }
        }
        const double kept = static_cast<double>(std::count(m.begin(), m.end(), 1));
        const double dist = kept > 0 ? 1.0 - kept / std::sqrt(kept * d) : 1.0;
        masks.push_back(std::move(m));
        w.push_back(std::exp(-dist * dist / (2 * width * width)));
      }
    };
    return fit_surrogates(model, batch, o, design, "lime");
  }
};

}  // namespace

std::unique_ptr<Explainer> make_lime_explainer() { return std::make_unique<Lime>(); }

}  // namespace lumen::explain
