#include "explain/explainer.h"

#include <torch/torch.h>

#include <sstream>

#include "core/error.h"
#include "explain/methods.h"

namespace lumen::explain {

Json TokenAttribution::to_json() const {
  Json j = {{"method", method}, {"target", target}, {"tokens", tokens}, {"scores", scores}};
  if (!tokens_b.empty() || !scores_b.empty()) {
    j["tokens_b"] = tokens_b;
    j["scores_b"] = scores_b;
  }
  if (completeness_gap == completeness_gap) j["completeness_gap"] = completeness_gap;
  if (!details.is_null()) j["details"] = details;
  return j;
}

namespace {
using Factory = std::unique_ptr<Explainer> (*)();
const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> r = {
      {"attention", make_attention_explainer},   {"rollout", make_rollout_explainer},
      {"flow", make_flow_explainer},             {"saliency", make_saliency_explainer},
      {"grad_input", make_grad_input_explainer}, {"ig", make_ig_explainer},
      {"smoothgrad", make_smoothgrad_explainer}, {"loo", make_loo_explainer},
      {"occlusion", make_occlusion_explainer},   {"lime", make_lime_explainer},
      {"kernel_shap", make_kernel_shap_explainer}, {"grad_sam", make_grad_sam_explainer},
      {"att_attr", make_att_attr_explainer},
  };
  return r;
}
}  // namespace

const std::vector<std::string>& explainer_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, f] : registry()) n.push_back(name);
    return n;
  }();
  return names;
}

std::unique_ptr<Explainer> make_explainer(const std::string& name) {
  for (const auto& [n, f] : registry())
    if (n == name) return f();
  std::ostringstream known;
  for (const auto& n : explainer_names()) known << (known.tellp() > 0 ? ", " : "") << n;
  throw InvalidArgument("explain: unknown method '" + name + "' (known: " + known.str() + ")");
}

bool supports(const std::string& name, const models::TextClassifier& model) {
  const auto e = make_explainer(name);
  if (!e->needs_attention()) return true;
  // Every attention method works on the pooling attention or on self-attention layers.
  return model->has_attention();
}

std::vector<std::string> parse_methods(const std::string& list, const models::TextClassifier& model) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    if (item == "all") {
      for (const auto& n : explainer_names())
        if (supports(n, model)) out.push_back(n);
      continue;
    }
    make_explainer(item);  // validates the name
    if (!supports(item, model))
      throw InvalidArgument("explain: method '" + item + "' needs attention, and this model has none");
    out.push_back(item);
  }
  if (out.empty()) throw InvalidArgument("explain: no methods given");
  return out;
}

std::vector<TokenAttribution> split_rows(const std::string& method, const BatchAttribution& a, const data::Batch& batch) {
  const int64_t B = batch.size();
  std::vector<TokenAttribution> out(B);
  auto take = [](const at::Tensor& s, const at::Tensor& mask, int64_t r) {
    std::vector<double> v;
    const at::Tensor row = s[r].to(torch::kDouble).contiguous();
    const at::Tensor m = mask[r].contiguous();
    for (int64_t t = 0; t < row.size(0); ++t)
      if (m.data_ptr<bool>()[t]) v.push_back(row.data_ptr<double>()[t]);
    return v;
  };
  for (int64_t r = 0; r < B; ++r) {
    out[r].method = method;
    out[r].target = a.targets.at(r);
    out[r].scores = take(a.scores, batch.token_mask, r);
    if (a.scores_b.defined()) out[r].scores_b = take(a.scores_b, batch.token_mask_b, r);
    if (!a.completeness_gap.empty()) out[r].completeness_gap = a.completeness_gap[r];
    if (r < static_cast<int64_t>(a.details.size())) out[r].details = a.details[r];
  }
  return out;
}

}  // namespace lumen::explain
