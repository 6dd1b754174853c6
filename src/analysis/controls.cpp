#include "analysis/controls.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/decision.h"
#include "analysis/permutation.h"
#include "core/error.h"
#include "models/eval_guard.h"
#include "train/trainer.h"

namespace lumen::analysis {

void ControlsOptions::validate() const {
  if (seeds < 0) throw InvalidArgument("controls: --seeds must be >= 0");
  if (epochs < 0) throw InvalidArgument("controls: --epochs must be >= 0");
  if (seeds == 0 && !uniform && !frozen) throw InvalidArgument("controls: nothing to run");
}

namespace {

train::TrainOptions train_options_of(const models::Run& base, const ControlsOptions& o) {
  train::TrainOptions t;
  const Json j = base.config.value("train", Json::object());
  t.epochs = o.epochs > 0 ? o.epochs : j.value("epochs", int64_t{0});
  t.batch_size = j.value("batch_size", t.batch_size);
  t.lr = j.value("lr", t.lr);
  t.weight_decay = j.value("weight_decay", t.weight_decay);
  t.amsgrad = j.value("amsgrad", t.amsgrad);
  t.class_weight = j.value("class_weight", t.class_weight);
  t.select = j.value("select", t.select);
  t.progress = o.progress;
  return t;
}

models::TextClassifier train_model(models::ModelConfig config, train::TrainOptions t, uint64_t seed,
                                   const data::EncodedSet& tr, const data::EncodedSet& dev) {
  torch::manual_seed(seed);
  t.seed = seed;
  models::TextClassifier model(config);
  train::fit(model, tr, dev, t);
  model->eval();
  return model;
}

Json metrics_row(const std::string& name, const train::ClassificationMetrics& m) {
  return Json::array({name, m.accuracy, m.f1, m.roc_auc >= 0 ? Json(m.roc_auc) : Json("–")});
}

// Pooling attention over the real tokens and output distribution of each test instance.
struct Outputs {
  std::vector<std::vector<double>> attention, probs;
};
Outputs outputs_of(models::TextClassifier& model, const data::EncodedSet& set) {
  torch::NoGradGuard ng;
  Outputs out;
  for (int64_t i = 0; i < set.size(); i += 64) {
    std::vector<int64_t> rows;
    for (int64_t r = i; r < std::min(set.size(), i + 64); ++r) rows.push_back(r);
    const data::Batch b = set.batch(rows);
    const models::ModelOutput o = model->forward(b);
    const at::Tensor p = output_probs(o.logits).contiguous();
    const at::Tensor a = o.pooling_attention.to(torch::kDouble).contiguous();
    const at::Tensor m = b.token_mask.contiguous();
    for (size_t r = 0; r < rows.size(); ++r) {
      out.probs.emplace_back(p[r].data_ptr<double>(), p[r].data_ptr<double>() + p.size(1));
      std::vector<double> row;
      for (int64_t t = 0; t < a.size(1); ++t)
        if (m[r][t].item<bool>()) row.push_back(a[r][t].item<double>());
      out.attention.push_back(std::move(row));
    }
  }
  return out;
}

double mean(const std::vector<double>& v) { return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

}  // namespace

Json run_controls(models::Run& base, const data::Dataset& ds, const ControlsOptions& o,
                  const std::function<void(const std::string&)>& log) {
  o.validate();
  if (!base.model->has_pooling_attention())
    throw InvalidArgument("controls: the base model has no pooling attention (pooling=cls)");
  const auto tr = data::EncodedSet::from(ds.train, base.vocab, ds.pair);
  const auto dev = data::EncodedSet::from(ds.dev, base.vocab, ds.pair);
  const auto test = data::EncodedSet::from(ds.test, base.vocab, ds.pair);
  if (tr.size() == 0 || test.size() == 0) throw DataError("controls: the data needs train and test splits");
  const train::TrainOptions topts = train_options_of(base, o);
  models::EvalGuard eval(base.model);
  const auto base_metrics = train::evaluate(base.model, test);
  const std::vector<std::string> metric_cols = {"model", "accuracy", "F1", "ROC-AUC"};
  Json sections = Json::array();
  const std::string enc = base.model_config.encoder + " + " + base.model_config.attention + " attention";

  if (o.uniform) {
    models::ModelConfig c = base.model_config;
    c.attention = "uniform";
    auto m = train_model(c, topts, o.seed, tr, dev);
    const auto um = train::evaluate(m, test);
    log("controls: uniform-attention " + base.model_config.encoder + ": test accuracy " + std::to_string(um.accuracy));
    sections.push_back(
        {{"title", "Control: uniform attention (Wiegreffe & Pinter 2019, 3.1)"},
         {"description", "The base model's architecture trained with attention fixed to 1/n over the real tokens. When "
                         "it performs about as well as the base model, the task does not need attention, and showing "
                         "that attention can be moved without changing the output says little about explanation."},
         {"table", {{"columns", metric_cols},
                    {"rows", Json::array({metrics_row("base: " + enc, base_metrics),
                                          metrics_row("uniform attention", um)})}}}});
  }

  if (o.seeds > 0) {
    const Outputs b = outputs_of(base.model, test);
    Json rows = Json::array(), jsd_traces = Json::array(), tvd_traces = Json::array();
    for (int64_t k = 0; k < o.seeds; ++k) {
      const uint64_t seed = o.seed + 1 + k;
      auto m = train_model(base.model_config, topts, seed, tr, dev);
      const auto mm = train::evaluate(m, test);
      const Outputs s = outputs_of(m, test);
      std::vector<double> js, tv;
      for (int64_t i = 0; i < test.size(); ++i) {
        js.push_back(jsd(s.attention[i].data(), b.attention[i].data(), static_cast<int64_t>(b.attention[i].size())));
        tv.push_back(tvd(s.probs[i].data(), b.probs[i].data(), static_cast<int64_t>(b.probs[i].size())));
      }
      log("controls: seed " + std::to_string(seed) + ": mean JSD to the base attention " + std::to_string(mean(js)));
      rows.push_back(Json::array({"seed " + std::to_string(seed), mm.accuracy, mean(js), median(js), mean(tv), median(tv)}));
      const std::string name = "seed " + std::to_string(seed);
      jsd_traces.push_back({{"type", "violin"}, {"name", name}, {"y", js}, {"points", false}, {"box", {{"visible", true}}}});
      tvd_traces.push_back({{"type", "violin"}, {"name", name}, {"y", tv}, {"points", false}, {"box", {{"visible", true}}}});
    }
    sections.push_back(
        {{"title", "Control: attention variance across random seeds (Wiegreffe & Pinter 2019, 3.2)"},
         {"description", "The base configuration trained again with other seeds. Per test instance: the JSD between "
                         "each seed's attention and the base model's, and the TVD between their outputs. Adversarial "
                         "attention JSDs are only remarkable when they exceed what a change of seed already gives "
                         "at a similar output difference."},
         {"table", {{"columns", {"model", "accuracy", "mean JSD", "median JSD", "mean output TVD", "median output TVD"}},
                    {"rows", rows}}},
         {"figures", Json::array({{{"title", "JSD(seed attention, base attention) per instance"},
                                   {"traces", jsd_traces},
                                   {"layout", {{"yaxis", {{"title", {{"text", "JSD"}}}, {"rangemode", "tozero"}}}}}},
                                  {{"title", "TVD(seed output, base output) per instance"},
                                   {"traces", tvd_traces},
                                   {"layout", {{"yaxis", {{"title", {{"text", "TVD"}}}, {"rangemode", "tozero"}}}}}}})}});
  }

  if (o.frozen) {
    models::ModelConfig c = base.model_config;
    c.encoder = "average";  // no context: each state sees its own token only
    c.pooling = "attention";
    Json rows = Json::array();
    std::vector<std::pair<std::string, train::ClassificationMetrics>> res;
    {
      auto m = train_model(c, topts, o.seed + 100, tr, dev);
      res.emplace_back("no-context MLP, its own trained attention", train::evaluate(m, test));
    }
    {
      models::ModelConfig u = c;
      u.attention = "uniform";
      auto m = train_model(u, topts, o.seed + 100, tr, dev);
      res.emplace_back("no-context MLP, uniform attention", train::evaluate(m, test));
    }
    {
      // The base model's attention, computed on each batch, replaces the MLP's own.
      train::BatchOptions frozen = [&base](const data::Batch& batch) {
        torch::NoGradGuard ng;
        models::ForwardOptions f;
        f.interventions.push_back(
            {models::AttentionIntervention::Mode::kReplace, -1, base.model->forward(batch).pooling_attention.detach()});
        return f;
      };
      train::TrainOptions t = topts;
      t.batch_options = frozen;
      auto m = train_model(c, t, o.seed + 100, tr, dev);
      res.emplace_back("no-context MLP, base attention frozen", train::evaluate(m, test, frozen));
    }
    Json bars = Json::array();
    for (const auto& [name, m] : res) {
      log("controls: " + name + ": test accuracy " + std::to_string(m.accuracy));
      rows.push_back(metrics_row(name, m));
    }
    Json xs = Json::array(), acc = Json::array(), f1 = Json::array();
    for (const auto& [name, m] : res) {
      xs.push_back(name.substr(name.find(", ") + 2));
      acc.push_back(m.accuracy);
      f1.push_back(m.f1);
    }
    bars.push_back({{"type", "bar"}, {"name", "accuracy"}, {"x", xs}, {"y", acc}});
    bars.push_back({{"type", "bar"}, {"name", "F1"}, {"x", xs}, {"y", f1}});
    sections.push_back(
        {{"title", "Control: attention frozen into a no-context model (Wiegreffe & Pinter 2019, 3.3)"},
         {"description", "An Average (MLP) encoder, whose states see one token each, trained three ways. When the base "
                         "model's attention, frozen, does better than uniform attention, its distributions carry "
                         "information about which tokens matter that is usable outside the base model."},
         {"table", {{"columns", metric_cols}, {"rows", rows}}},
         {"figures", Json::array({{{"title", "No-context MLP: test metrics by attention"},
                                   {"traces", bars},
                                   {"layout", {{"barmode", "group"}, {"yaxis", {{"range", {0, 1}}}}}}}})}});
  }
  return sections;
}

}  // namespace lumen::analysis
