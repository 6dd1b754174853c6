// Gradient x input (Shrikumar et al. 2016; Denil et al. 2014 for text): the signed dot product of
// the gradient of the target probability with the token's embedding, sum_d g_{t,d} e_{t,d}.
// (Jain & Wallace's gradient importance is its absolute value with the attention detached.)
#include <torch/torch.h>

#include "explain/common.h"
#include "explain/lstm_fast.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

class GradInput : public Explainer {
 public:
  std::string name() const override { return "grad_input"; }
  std::string description() const override {
    return "gradient x input: sum_d (d p(target) / d e_d) e_d, signed (positive supports the target)";
  }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    if (const auto lp = lstm_projection(model, o)) {  // BiLSTM: g . e = dP . W_ih e, one kernel pass
      auto g = input_projection_gradients(model, *lp, batch, o.targets.empty() ? o.targets : resolve_targets(model, batch, o),
                                          false);
      out.targets = std::move(g.targets);
      out.scores = g.dot;
      return out;
    }
    out.targets = resolve_targets(model, batch, o);
    const auto in = input_gradients(model, batch, out.targets, o.forward());
    out.scores = token_dot(in.grads.grad_a, in.emb_a, batch.token_mask);
    if (batch.pair()) out.scores_b = token_dot(in.grads.grad_b, in.emb_b, batch.token_mask_b);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_grad_input_explainer() { return std::make_unique<GradInput>(); }

}  // namespace lumen::explain
