#include "explain/document.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/progress.h"
#include "data/batch.h"
#include "data/batch_plan.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

Json matrix(const at::Tensor& m) {
  Json rows = Json::array();
  for (int64_t i = 0; i < m.size(0); ++i) rows.push_back(to_vector(m[i]));
  return rows;
}

// Predictions of one batch: probabilities [B][C].
std::vector<std::vector<double>> probabilities(models::TextClassifier& model, const data::Batch& batch,
                                               const models::ForwardOptions& options = {}) {
  EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  const at::Tensor p = torch::softmax(model->forward(batch, options).logits.to(torch::kDouble), 1);
  std::vector<std::vector<double>> out;
  for (int64_t r = 0; r < p.size(0); ++r) out.push_back(to_vector(p[r]));
  return out;
}

// Attention maps of row r over its n non-padding positions.
Json maps_json(const AttentionMaps& maps, const data::Batch& batch, int64_t r, const DocumentOptions& o) {
  const int64_t n = batch.lengths[r].item<int64_t>();
  Json j = Json::object();
  if (maps.pooling.defined()) j["pooling"] = to_vector(maps.pooling[r].narrow(0, 0, n));
  if (n > o.map_positions) {
    j["omitted"] = "text longer than " + std::to_string(o.map_positions) + " positions: maps not written";
    return j;
  }
  Json layers = Json::array();
  std::vector<at::Tensor> mean_layers;
  for (const auto& l : maps.layers) {
    Json heads = Json::array();
    for (int64_t h = 0; h < l.size(1); ++h) heads.push_back(matrix(l[r][h].narrow(0, 0, n).narrow(1, 0, n)));
    layers.push_back(heads);
    mean_layers.push_back(l[r].mean(0).narrow(0, 0, n).narrow(1, 0, n));
  }
  j["layers"] = layers;
  if (!mean_layers.empty()) {
    j["rollout"] = matrix(rollout_matrix(mean_layers));
    if (n <= o.flow_matrix_positions) j["flow"] = matrix(flow_matrix(mean_layers));
  }
  return j;
}

}  // namespace

Json explain_document(models::TextClassifier& model, const std::vector<data::Example>& examples, const data::Vocab& vocab,
                      const std::vector<std::string>& label_names, const DocumentOptions& o) {
  if (examples.empty()) throw InvalidArgument("explain: no instances to explain");
  o.explain.validate();
  if (!o.explain.targets.empty() && o.explain.targets.size() != examples.size())
    throw InvalidArgument("explain: targets must give one class per instance");
  const bool pair = model->config().pair;
  const bool has_attention = model->has_attention();
  std::vector<std::unique_ptr<Explainer>> explainers;
  Json methods = Json::array();
  for (const auto& m : o.methods) {
    explainers.push_back(make_explainer(m));
    methods.push_back({{"name", m}, {"description", explainers.back()->description()},
                       {"covers_second_text", explainers.back()->covers_second_text()}});
  }
  if (!o.edits.empty()) validate_edits(o.edits, model);
  Json instances = Json::array();
  std::vector<double> seconds(explainers.size(), 0.0);
  Progress progress("explain", static_cast<int64_t>(examples.size()), o.progress);
  // Batches in the order given (the document lists the instances as they came).
  for (const auto& rows : data::consecutive_batches(static_cast<int64_t>(examples.size()), o.batch_size)) {
    std::vector<const data::Example*> ptrs;
    for (int64_t i : rows) ptrs.push_back(&examples[i]);
    const data::Batch batch = data::make_batch(ptrs, vocab, pair);
    ExplainOptions eo = o.explain;
    if (!o.explain.targets.empty()) {
      eo.targets.clear();
      for (int64_t i : rows) eo.targets.push_back(o.explain.targets[i]);
    }
    const auto probs = probabilities(model, batch);
    if (eo.targets.empty())
      for (const auto& p : probs) eo.targets.push_back(std::max_element(p.begin(), p.end()) - p.begin());
    // Original model, then the edited one.
    auto run_all = [&](std::vector<std::vector<TokenAttribution>>& out, const ExplainOptions& options, bool timed) {
      for (size_t m = 0; m < explainers.size(); ++m) {
        const auto t0 = std::chrono::steady_clock::now();
        out.push_back(split_rows(o.methods[m], explainers[m]->explain(model, batch, options), batch));
        if (timed) seconds[m] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    };
    std::vector<std::vector<TokenAttribution>> attr, attr_edited;
    run_all(attr, eo, true);
    std::vector<std::vector<double>> probs_edited;
    std::vector<Json> maps_edited(ptrs.size());
    if (!o.edits.empty()) {
      // The edited model: the same methods with the edit passed in every forward pass.
      ExplainOptions edited = eo;
      edited.attention_edit = make_attention_edit(o.edits);
      probs_edited = probabilities(model, batch, edited.forward());
      run_all(attr_edited, edited, false);
      if (has_attention) {
        const AttentionMaps maps = attention_maps(model, batch, edited.forward());
        for (size_t r = 0; r < ptrs.size(); ++r) maps_edited[r] = maps_json(maps, batch, static_cast<int64_t>(r), o);
      }
    }
    AttentionMaps maps;
    if (has_attention) maps = attention_maps(model, batch);
    for (size_t r = 0; r < ptrs.size(); ++r) {
      const data::Example& e = *ptrs[r];
      auto argmax = [](const std::vector<double>& p) { return std::max_element(p.begin(), p.end()) - p.begin(); };
      Json inst = {{"source", e.source},
                   {"tokens", e.tokens},
                   {"prediction", label_names.at(argmax(probs[r]))},
                   {"probabilities", probs[r]},
                   {"target", label_names.at(eo.targets[r])},
                   {"target_index", eo.targets[r]}};
      if (pair) inst["tokens_b"] = e.tokens_b;
      if (e.label >= 0) inst["label"] = label_names.at(e.label);
      if (!e.rationale.empty()) inst["rationale"] = e.rationale;
      Json a = Json::object();
      for (size_t m = 0; m < explainers.size(); ++m) {
        TokenAttribution t = attr[m][r];
        Json j = t.to_json();
        j.erase("tokens");
        a[o.methods[m]] = j;
      }
      inst["attributions"] = a;
      if (has_attention) inst["attention"] = maps_json(maps, batch, static_cast<int64_t>(r), o);
      if (!o.edits.empty()) {
        Json ea = Json::object();
        for (size_t m = 0; m < explainers.size(); ++m) {
          Json j = attr_edited[m][r].to_json();
          j.erase("tokens");
          ea[o.methods[m]] = j;
        }
        inst["edited"] = {{"prediction", label_names.at(argmax(probs_edited[r]))},
                          {"probabilities", probs_edited[r]},
                          {"attributions", ea},
                          {"attention", maps_edited[r]}};
      }
      instances.push_back(inst);
    }
    progress.advance(static_cast<int64_t>(ptrs.size()));
  }
  progress.finish();
  Json timing = Json::object();
  for (size_t m = 0; m < explainers.size(); ++m) timing[o.methods[m]] = seconds[m];
  Json edits = Json::array();
  for (const auto& e : o.edits) edits.push_back(e.text);
  return {{"kind", "lumen.explain"},
          {"labels", label_names},
          {"methods", methods},
          {"options", o.explain.to_json()},
          {"conventions",
           "Scores explain the probability of the target class (the predicted class unless --target is given). "
           "Positive scores support the target. Attention maps cover the positions <s> tokens </s>; rows are "
           "queries. Positions of edits count the real tokens of the first text from 0."},
          {"edits", edits},
          {"seconds", timing},
          {"instances", instances}};
}

}  // namespace lumen::explain
