// Leave-one-out (Li et al. 2016; Jain & Wallace 2019 with deletion): the score of token t is
// p(target | x) - p(target | x with t removed), removal by deletion, <pad> or <unk>. Every
// removal of the batch is one variant, evaluated in length-sorted batches over both cores.
// For pairs the tokens of both texts are removed one at a time.
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

class LeaveOneOut : public Explainer {
 public:
  std::string name() const override { return "loo"; }
  std::string description() const override {
    return "leave-one-out: p(target | x) - p(target | x without the token); positive = the token supports the target";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const int64_t B = batch.size();
    const bool pair = batch.pair();
    const auto a = real_ids(batch.ids, batch.token_mask);
    const auto b = pair ? real_ids(batch.ids_b, batch.token_mask_b) : std::vector<std::vector<int64_t>>(B);
    std::vector<Variant> variants;
    for (int64_t r = 0; r < B; ++r) {
      variants.push_back({r, a[r], b[r]});
      for (size_t t = 0; t < a[r].size(); ++t) {
        std::vector<char> rm(a[r].size(), 0);
        rm[t] = 1;
        variants.push_back({r, remove_tokens(a[r], rm, o.removal), b[r]});
      }
      for (size_t t = 0; pair && t < b[r].size(); ++t) {
        std::vector<char> rm(b[r].size(), 0);
        rm[t] = 1;
        variants.push_back({r, a[r], remove_tokens(b[r], rm, o.removal)});
      }
    }
    const auto p = variant_probabilities(model, variants, out.targets, o.max_tokens);
    std::vector<std::vector<double>> sa(B), sb(B);
    size_t k = 0;
    for (int64_t r = 0; r < B; ++r) {
      const double full = p[k++];
      for (size_t t = 0; t < a[r].size(); ++t) sa[r].push_back(full - p[k++]);
      for (size_t t = 0; pair && t < b[r].size(); ++t) sb[r].push_back(full - p[k++]);
      out.details.push_back({{"removal", to_string(o.removal)}, {"p_input", full}});
    }
    out.scores = scatter_rows(sa, batch.token_mask);
    if (pair) out.scores_b = scatter_rows(sb, batch.token_mask_b);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_loo_explainer() { return std::make_unique<LeaveOneOut>(); }

}  // namespace lumen::explain
