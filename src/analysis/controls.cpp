#include "analysis/controls.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/decision.h"
#include "analysis/permutation.h"
#include "core/error.h"
#include "data/batch_plan.h"
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
  t.diversity_weight = j.value("diversity_weight", t.diversity_weight);
  t.rationale_weight = j.value("rationale_weight", t.rationale_weight);
  t.faithfulness_weight = j.value("faithfulness_weight", t.faithfulness_weight);
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

// Pooling attention over the real tokens and output distribution of each test instance.
struct Outputs {
  std::vector<std::vector<double>> attention, probs;
};
Outputs outputs_of(models::TextClassifier& model, const data::EncodedSet& set) {
  torch::NoGradGuard ng;
  Outputs out;
  for (const auto& rows : data::consecutive_batches(set.size(), 64)) {
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

Json ControlsResult::to_json() const {
  Json j = {{"kind", "lumen.controls"},
            {"base", {{"encoder", encoder}, {"attention", attention}, {"metrics", base.to_json()}}},
            {"uniform", uniform ? uniform->to_json() : Json(nullptr)},
            {"seeds", Json::array()},
            {"frozen", nullptr}};
  for (const auto& s : seeds)
    j["seeds"].push_back({{"seed", s.seed}, {"metrics", s.metrics.to_json()}, {"jsd", s.jsd}, {"tvd", s.tvd}});
  if (frozen)
    j["frozen"] = {{"own", frozen->own.to_json()}, {"uniform", frozen->uniform.to_json()}, {"frozen", frozen->frozen.to_json()}};
  return j;
}

ControlsResult run_controls(models::Run& base, const data::Dataset& ds, const ControlsOptions& o,
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
  ControlsResult result;
  result.encoder = base.model_config.encoder;
  result.attention = base.model_config.attention;
  result.base = train::evaluate(base.model, test);

  if (o.uniform) {
    models::ModelConfig c = base.model_config;
    c.attention = "uniform";
    auto m = train_model(c, topts, o.seed, tr, dev);
    result.uniform = train::evaluate(m, test);
    log("controls: uniform-attention " + base.model_config.encoder + ": test accuracy " +
        std::to_string(result.uniform->accuracy));
  }

  if (o.seeds > 0) {
    const Outputs b = outputs_of(base.model, test);
    for (int64_t k = 0; k < o.seeds; ++k) {
      SeedControl sc;
      sc.seed = o.seed + 1 + k;
      auto m = train_model(base.model_config, topts, sc.seed, tr, dev);
      sc.metrics = train::evaluate(m, test);
      const Outputs s = outputs_of(m, test);
      for (int64_t i = 0; i < test.size(); ++i) {
        sc.jsd.push_back(jsd(s.attention[i].data(), b.attention[i].data(), static_cast<int64_t>(b.attention[i].size())));
        sc.tvd.push_back(tvd(s.probs[i].data(), b.probs[i].data(), static_cast<int64_t>(b.probs[i].size())));
      }
      log("controls: seed " + std::to_string(sc.seed) + ": mean JSD to the base attention " + std::to_string(mean(sc.jsd)));
      result.seeds.push_back(std::move(sc));
    }
  }

  if (o.frozen) {
    models::ModelConfig c = base.model_config;
    c.encoder = "average";  // no context: each state sees its own token only
    c.pooling = "attention";
    FrozenControl fc;
    // The no-context MLPs are trained on the cross-entropy alone, whatever the base's extra terms.
    train::TrainOptions mlp = topts;
    mlp.diversity_weight = 0;
    mlp.rationale_weight = 0;
    mlp.faithfulness_weight = 0;
    {
      auto m = train_model(c, mlp, o.seed + 100, tr, dev);
      fc.own = train::evaluate(m, test);
    }
    {
      models::ModelConfig u = c;
      u.attention = "uniform";
      auto m = train_model(u, mlp, o.seed + 100, tr, dev);
      fc.uniform = train::evaluate(m, test);
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
      train::TrainOptions t = mlp;
      t.batch_options = frozen;
      auto m = train_model(c, t, o.seed + 100, tr, dev);
      fc.frozen = train::evaluate(m, test, frozen);
    }
    log("controls: no-context MLP, its own trained attention: test accuracy " + std::to_string(fc.own.accuracy));
    log("controls: no-context MLP, uniform attention: test accuracy " + std::to_string(fc.uniform.accuracy));
    log("controls: no-context MLP, base attention frozen: test accuracy " + std::to_string(fc.frozen.accuracy));
    result.frozen = fc;
  }
  return result;
}

}  // namespace lumen::analysis
