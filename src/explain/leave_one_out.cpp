// Leave-one-out (Li et al. 2016; Jain & Wallace 2019 with deletion): the score of token t is
// p(target | x) - p(target | x with t removed), removal by deletion, <pad> or <unk>: occlusion
// with windows of one token (window_drops), every removal of the batch evaluated in
// length-sorted batches over both cores. For pairs the tokens of both texts are removed one at a
// time.
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
    std::vector<double> full;
    BatchAttribution out = window_drops(model, batch, o, 1, &full);
    for (double p : full) out.details.push_back({{"removal", to_string(o.removal)}, {"p_input", p}});
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_loo_explainer() { return std::make_unique<LeaveOneOut>(); }

}  // namespace lumen::explain
