// Grad-SAM (Barkan et al. 2021): the attention map times its rectified gradient, A * ReLU(dy/dA),
// with y the target probability. The gradient is taken through the model's own attention
// intervention: each covered attention is scaled by a tensor S of ones, and since A >= 0,
// dy/dS = A * dy/dA gives A * ReLU(dy/dA) = ReLU(dy/dS) (total derivatives: a layer's change
// still reaches the later layers). Per layer, a token's score is the relevance it receives as a
// key, summed over the queries (one head or the mean over heads); the method's score is the
// mean over the covered layers (every self-attention layer and the pooling attention, or the
// one --layer). Non-negative; covers the attention over the first text.
#include <torch/torch.h>

#include "explain/attention_gradients.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

class GradSam : public Explainer {
 public:
  std::string name() const override { return "grad_sam"; }
  std::string description() const override {
    return "Grad-SAM: attention x ReLU(d p(target) / d attention), received by the token, mean over layers (>= 0)";
  }
  bool needs_attention() const override { return true; }
  bool covers_second_text() const override { return false; }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const std::vector<int64_t> layers = covered_layers(model, o);
    torch::AutoGradMode grad_mode(true);
    models::ForwardOptions fo = o.forward();
    std::vector<at::Tensor> scales;
    const int64_t B = batch.size(), T = batch.ids.size(1), H = model->config().heads;
    for (int64_t l : layers) {
      // Shapes of the pooling attention [B, T] and a self-attention layer [B, H, T, T].
      const std::vector<int64_t> shape = l < 0 ? std::vector<int64_t>{B, T} : std::vector<int64_t>{B, H, T, T};
      scales.push_back(torch::ones(shape, model->embedding->weight.options()).requires_grad_(true));
      fo.interventions.push_back({models::AttentionIntervention::Mode::kScale, l, scales.back()});
    }
    const at::Tensor prob =
        target_probability(model->forward(batch, fo).logits, targets_tensor(out.targets));
    const auto grads = torch::autograd::grad({prob.sum()}, scales, {}, false, false, true);
    std::vector<at::Tensor> per_layer;
    at::Tensor total = torch::zeros(batch.ids.sizes(), torch::kDouble);
    for (size_t k = 0; k < layers.size(); ++k) {
      const at::Tensor g = grads[k].defined() ? grads[k] : torch::zeros_like(scales[k]);
      per_layer.push_back(layer_token_scores(torch::relu(g.detach()), batch, o.attention.head));
      total += per_layer.back();
    }
    out.scores = (total / static_cast<double>(layers.size())).contiguous();
    out.details = layer_details(layers, per_layer, batch);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_grad_sam_explainer() { return std::make_unique<GradSam>(); }

}  // namespace lumen::explain
