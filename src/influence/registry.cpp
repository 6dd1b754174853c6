// The influence methods by name, the options and the one result form.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/error.h"
#include "influence/methods.h"
#include "train/trainer.h"

namespace lumen::influence {

namespace {

using Method = void (*)(const InfluenceInputs&, const InfluenceOptions&, InfluenceResult&);

const std::map<std::string, Method>& registry() {
  static const std::map<std::string, Method> m = {{"if-exact", &run_influence_functions},
                                                  {"if-cg", &run_influence_functions},
                                                  {"if-lissa", &run_influence_functions},
                                                  {"fastif", &run_fastif},
                                                  {"sgd", &run_sgd},
                                                  {"tracin", &run_tracin},
                                                  {"ekfac", &run_kfac_influence},
                                                  {"kfac", &run_kfac_influence},
                                                  {"shapley", &run_shapley},
                                                  {"representer", &run_representer}};
  return m;
}

}  // namespace

std::vector<std::string> influence_methods() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

void InfluenceOptions::validate() const {
  if (registry().count(method) == 0) {
    std::string names;
    for (const auto& m : influence_methods()) names += (names.empty() ? "" : ", ") + m;
    throw InvalidArgument("influence: unknown method '" + method + "'; the methods are " + names);
  }
  if (top < 0) throw InvalidArgument("influence: --top must be >= 0");
  if (hessian_samples < 0) throw InvalidArgument("influence: --hessian-samples must be >= 0");
  if (fastif_candidates < 1) throw InvalidArgument("influence: --candidates must be >= 1");
  if (projection < 0) throw InvalidArgument("influence: --projection must be >= 0");
  if (!(representer_l2 > 0) || !std::isfinite(representer_l2)) throw InvalidArgument("influence: --representer-l2 must be > 0");
  if (shapley_points < 1 || shapley_permutations < 1 || !(shapley_tolerance >= 0) || !(shapley_lr > 0))
    throw InvalidArgument("influence: shapley needs points >= 1, permutations >= 1, tolerance >= 0 and lr > 0");
  if (memory_bytes < 1) throw InvalidArgument("influence: memory_bytes must be >= 1");
  solve.validate();
}

Json InfluenceOptions::to_json() const {
  Json j{{"method", method},
         {"params", params},
         {"top", top},
         {"self_influence", self_influence},
         {"seed", seed}};
  if (method == "fastif") j["candidates"] = fastif_candidates;
  if (method.rfind("if-", 0) == 0 || method == "fastif") {
    j["solve"] = solve.to_json();
    j["hessian_samples"] = hessian_samples;
  }
  if (method == "tracin") {
    j["checkpoints"] = checkpoints;
    j["projection"] = projection;
  }
  if (method == "representer") j["representer_l2"] = representer_l2;
  if (method == "ekfac" || method == "kfac") j["damping"] = solve.damping;
  if (method == "shapley")
    j["shapley"] = {{"algorithm", shapley}, {"points", shapley_points}, {"permutations", shapley_permutations},
                    {"tolerance", shapley_tolerance}, {"lr", shapley_lr}};
  return j;
}

train::TrainingLoss test_loss(const train::TrainingLoss& training) {
  train::TrainingLoss l;
  l.class_weights = torch::ones_like(training.class_weights);
  l.weight_decay = 0;
  return l;
}

std::vector<int64_t> all_rows(int64_t n) {
  std::vector<int64_t> r(n);
  std::iota(r.begin(), r.end(), 0);
  return r;
}

models::TextClassifier clone_model(models::TextClassifier& model, const models::ModelConfig& config, at::ScalarType dtype) {
  models::TextClassifier copy(config);
  torch::NoGradGuard no_grad;
  auto dst = copy->parameters();
  auto src = model->parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  copy->to(dtype);
  copy->eval();
  return copy;
}

void InfluenceResult::summarise(const std::vector<int64_t>& train_labels, int64_t top) {
  tests.clear();
  if (!scores.defined()) return;
  const int64_t nt = scores.size(0), n = scores.size(1);
  for (int64_t t = 0; t < nt; ++t) {
    TestInfluence& ti = tests.emplace_back();
    ti.index = t;
    const at::Tensor row = scores[t].contiguous();
    const double* s = row.data_ptr<double>();
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
    for (int64_t k = 0; k < std::min(top, n); ++k)
      if (s[order[k]] > 0) ti.proponents.push_back({order[k], s[order[k]], train_labels.at(order[k])});
    for (int64_t k = 0; k < std::min(top, n); ++k) {
      const int64_t i = order[n - 1 - k];
      if (s[i] < 0) ti.opponents.push_back({i, s[i], train_labels.at(i)});
    }
    if (n > 0) {
      ti.mean = row.mean().item<double>();
      ti.stddev = n > 1 ? row.std().item<double>() : 0.0;
      ti.min = s[order[n - 1]];
      ti.max = s[order[0]];
      ti.histogram.assign(20, 0);
      const double w = (ti.max - ti.min) / 20;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t b = w > 0 ? std::min<int64_t>(19, static_cast<int64_t>((s[i] - ti.min) / w)) : 0;
        ++ti.histogram[b];
      }
    }
  }
}

Json InfluenceResult::to_json() const {
  auto entries = [](const std::vector<InfluenceEntry>& es) {
    Json a = Json::array();
    for (const auto& e : es) a.push_back({{"train", e.train}, {"score", e.score}, {"label", e.label}});
    return a;
  };
  Json t = Json::array();
  for (const auto& ti : tests)
    t.push_back({{"test", ti.index},
                 {"label", ti.label},
                 {"predicted", ti.predicted},
                 {"loss", ti.loss},
                 {"proponents", entries(ti.proponents)},
                 {"opponents", entries(ti.opponents)},
                 {"distribution",
                  {{"mean", ti.mean}, {"stddev", ti.stddev}, {"min", ti.min}, {"max", ti.max}, {"histogram", ti.histogram}}}});
  Json j{{"lumen", "influence-v1"}, {"method", method},       {"options", options.to_json()}, {"parameters", parameters},
         {"sign", sign},           {"tests", t},             {"diagnostics", diagnostics}};
  if (!self_influence.empty()) j["self_influence"] = self_influence;
  if (!values.empty()) j["values"] = {{"train", value_rows}, {"value", values}, {"standard_error", value_errors}};
  if (options.keep_scores && scores.defined()) {
    Json m = Json::array();
    for (int64_t r = 0; r < scores.size(0); ++r) {
      const at::Tensor row = scores[r].contiguous();
      m.push_back(std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel()));
    }
    j["scores"] = m;
  }
  return j;
}

InfluenceResult compute_influence(const InfluenceInputs& in, const InfluenceOptions& o) {
  o.validate();
  if (in.train == nullptr || in.train->size() == 0) throw InvalidArgument("influence: the training set is empty");
  static const data::EncodedSet empty;
  InfluenceInputs inputs = in;
  if (inputs.test == nullptr) inputs.test = &empty;
  if (static_cast<int64_t>(inputs.test_labels.size()) != inputs.test->size())
    throw InvalidArgument("influence: " + std::to_string(inputs.test_labels.size()) + " test labels for " +
                          std::to_string(inputs.test->size()) + " test examples");
  if (inputs.test->size() == 0 && !o.self_influence && o.method != "shapley")
    throw InvalidArgument("influence: nothing to score: give test examples or ask for self-influence");
  InfluenceResult r;
  r.method = o.method;
  r.options = o;
  registry().at(o.method)(inputs, o, r);
  if (r.scores.defined() && !torch::isfinite(r.scores).all().item<bool>()) {
    r.scores = at::Tensor();
    r.diagnostics["converged"] = false;
    r.diagnostics["diagnosis"] = "the scores were not finite; raise --damping or use a smaller --params group";
  }
  for (double v : r.self_influence)
    if (!std::isfinite(v)) {
      r.self_influence.clear();
      r.diagnostics["converged"] = false;
      r.diagnostics["diagnosis"] = "self-influence was not finite; raise --damping";
      break;
    }
  r.summarise(inputs.train->labels, o.top);
  if (!r.tests.empty()) {
    models::TextClassifier model = inputs.model;
    const auto probs = train::predict_proba(model, *inputs.test);
    for (auto& t : r.tests) {
      t.label = inputs.test_labels.at(t.index);
      const auto& p = probs.at(t.index);
      t.predicted = std::max_element(p.begin(), p.end()) - p.begin();
      t.loss = -std::log(std::max(p.at(t.label), 1e-300));
    }
  }
  return r;
}

}  // namespace lumen::influence
