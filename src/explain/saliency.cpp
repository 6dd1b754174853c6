// Saliency (Simonyan et al. 2014, for text as in Li et al. 2016): the L2 norm of the gradient of
// the target probability with respect to each token's embedding. Unsigned (>= 0).
#include <torch/torch.h>

#include "explain/common.h"
#include "explain/lstm_fast.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

class Saliency : public Explainer {
 public:
  std::string name() const override { return "saliency"; }
  std::string description() const override {
    return "L2 norm of d p(target) / d embedding of the token (>= 0, probability per embedding unit)";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    if (const auto lp = lstm_projection(model, o)) {  // BiLSTM: |W_ih^T dP|, one kernel pass
      auto g = input_projection_gradients(model, *lp, batch, o.targets.empty() ? o.targets : resolve_targets(model, batch, o),
                                          true);
      out.targets = std::move(g.targets);
      out.scores = embedding_gradient_norms(*lp, g.grad, batch.token_mask);
      return out;
    }
    out.targets = resolve_targets(model, batch, o);
    const auto g = input_gradients(model, batch, out.targets, o.forward()).grads;
    out.scores = (g.grad_a.to(torch::kDouble).norm(2, 2) * batch.token_mask.to(torch::kDouble)).contiguous();
    if (batch.pair()) out.scores_b = (g.grad_b.to(torch::kDouble).norm(2, 2) * batch.token_mask_b.to(torch::kDouble)).contiguous();
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_saliency_explainer() { return std::make_unique<Saliency>(); }

}  // namespace lumen::explain
