// Attention attribution (AttAttr, Hao et al. 2021): integrated gradients over a scaling of one
// layer's attention map from 0 to 1, Attr(A) = A * integral_0^1 dy(aA)/d(aA) da, with y the
// target probability. The scaling is the model's own attention intervention (a scale tensor S
// = a), and dy/dS = A * dy/d(aA), so Attr = integral of dy/dS: a midpoint Riemann sum with
// `steps` points evaluated in chunks of copies of the batch. For the pooling attention the
// encoder runs once and only the decoder is repeated. Per layer, a token's score is the
// attribution it receives as a key, summed over queries (one head or the mean over heads); the
// method's score sums the covered layers. Completeness per layer: the map's attributions add up
// to y(A) - y(A scaled to 0); the largest relative gap over the layers is reported. Signed.
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "data/batch_plan.h"
#include "explain/attention_gradients.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

class AttAttr : public Explainer {
 public:
  std::string name() const override { return "att_attr"; }
  std::string description() const override {
    return "attention attribution: integrated gradients of p(target) over the attention map scaled from 0 to 1, "
           "received by the token, summed over layers; signed";
  }
  bool needs_attention() const override { return true; }
  bool covers_second_text() const override { return false; }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    o.path.validate();
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const std::vector<int64_t> layers = covered_layers(model, o);
    const AttentionMaps maps = attention_maps(model, batch, o.forward());
    const int64_t B = batch.size();
    const at::Tensor tg = targets_tensor(out.targets);
    const auto opts = model->embedding->weight.options();
    models::Encoded enc;
    {
      torch::NoGradGuard no_grad;
      enc = model->encode(model->embed(batch.ids), batch, o.forward());
    }
    const int64_t row_tokens = batch.ids.size(1) * (maps.layers.empty() ? 1 : batch.ids.size(1));
    const int64_t chunk = data::copies_per_pass(o.chunk, o.max_tokens, B, row_tokens);
    std::vector<at::Tensor> per_layer;
    at::Tensor total = torch::zeros(batch.ids.sizes(), torch::kDouble);
    std::vector<double> gap(B, 0.0);
    for (int64_t l : layers) {
      const at::Tensor& a = l < 0 ? maps.pooling : maps.layers[l];
      at::Tensor sum = torch::zeros(a.sizes(), torch::kDouble);
      // y with the layer scaled by `s` ([R] per row) on rows `rep` of the batch.
      auto run = [&](const data::Batch& rep, const at::Tensor& scale_rows, int64_t c, bool grad) {
        std::vector<int64_t> shape(a.sizes().begin(), a.sizes().end());
        shape[0] = c * B;
        std::vector<int64_t> view(shape.size(), 1);
        view[0] = c * B;
        at::Tensor s = scale_rows.view(view).expand(shape).contiguous();
        if (grad) s.requires_grad_(true);
        models::ForwardOptions fo = o.forward();
        fo.interventions.push_back({models::AttentionIntervention::Mode::kScale, l, s});
        at::Tensor logits;
        if (l < 0) {
          models::Encoded e;
          e.states = c == 1 ? enc.states : enc.states.repeat({c, 1, 1});
          if (enc.query.defined()) e.query = c == 1 ? enc.query : enc.query.repeat({c, 1});
          e.embeddings = enc.embeddings;
          logits = model->decode(e, rep, fo).logits;
        } else {
          logits = model->forward(rep, fo).logits;
        }
        return std::make_pair(target_probability(logits, tg.repeat({c})), s);
      };
      torch::AutoGradMode grad_mode(true);
      for (int64_t s0 = 0; s0 < o.path.steps; s0 += chunk) {
        const int64_t c = std::min(chunk, o.path.steps - s0);
        const data::Batch rep = c == 1 ? batch : data::select_rows(batch, torch::arange(B, torch::kInt64).repeat({c}));
        const at::Tensor alpha =
            ((torch::arange(s0, s0 + c, opts) + 0.5) / static_cast<double>(o.path.steps)).repeat_interleave(B);
        auto [y, s] = run(rep, alpha, c, true);
        const at::Tensor g = torch::autograd::grad({y.sum()}, {s})[0];
        std::vector<int64_t> split = {c, B};
        for (int64_t d = 1; d < g.dim(); ++d) split.push_back(g.size(d));
        sum += g.detach().to(torch::kDouble).view(split).sum(0);
      }
      const at::Tensor attr = sum / static_cast<double>(o.path.steps);
      per_layer.push_back(layer_token_scores(attr, batch, o.attention.head));
      total += per_layer.back();
      // Completeness of this layer's map: sum of attributions vs y(A) - y(0).
      torch::NoGradGuard no_grad;
      const at::Tensor y1 = run(batch, torch::ones({B}, opts), 1, false).first.to(torch::kDouble);
      const at::Tensor y0 = run(batch, torch::zeros({B}, opts), 1, false).first.to(torch::kDouble);
      const at::Tensor mass = attr.reshape({B, -1}).sum(1);
      const at::Tensor rel = ((mass - (y1 - y0)).abs() / (y1 - y0).abs().clamp_min(1e-12)).contiguous();
      for (int64_t b = 0; b < B; ++b) gap[b] = std::max(gap[b], rel.data_ptr<double>()[b]);
    }
    out.scores = total.contiguous();
    out.completeness_gap = gap;
    out.details = layer_details(layers, per_layer, batch);
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_att_attr_explainer() { return std::make_unique<AttAttr>(); }

}  // namespace lumen::explain
