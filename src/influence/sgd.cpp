#include "influence/sgd.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/fs.h"
#include "influence/check.h"
#include "influence/methods.h"
#include "train/adam.h"
#include "train/trainer.h"

namespace lumen::influence {

SgdReplay replay_training(const models::Run& run, const data::EncodedSet& train, const train::TrainingLoss& loss,
                          const Json& order, int64_t epochs, bool track, int64_t exclude, bool freeze_encoder) {
  const models::ModelConfig& cfg = run.model_config;
  if (cfg.pair || cfg.num_classes != 2)
    throw InvalidArgument("influence: sgd is built for binary single-text models so far");
  if (run.config.contains("embeddings") && !run.config["embeddings"].is_null())
    throw ModelError("influence: sgd replays training from the seeded initial weights, and this run started from pretrained vectors");
  if (run.config.contains("augment")) throw ModelError("influence: sgd cannot replay a run trained with --augment");
  const train::TrainOptions topt = train_options_of(run);
  if (!order.contains("epochs") || order.value("train_size", int64_t(-1)) != train.size())
    throw ModelError("influence: order.json does not describe this training set");
  const auto& ep = order["epochs"];
  if (epochs < 1 || epochs > static_cast<int64_t>(ep.size()))
    throw ModelError("influence: order.json holds " + std::to_string(ep.size()) + " epochs, " + std::to_string(epochs) + " needed");
  torch::manual_seed(topt.seed);  // as train_run builds the model
  models::TextClassifier model(cfg);
  train::AdamOptions adam;
  adam.lr = topt.lr;
  adam.amsgrad = topt.amsgrad;
  std::vector<at::Tensor> others = model->other_parameters(), att = model->attention_parameters();
  train::FusedAdam optimizer({{others, topt.weight_decay}, {att, 0.0}}, adam);
  std::vector<at::Tensor> dec = model->parameters_of(models::TextClassifierImpl::ParameterGroup::kDecoder);
  const int64_t m = dec[0].size(1), P = m + 1, n = train.size();
  const double wd = topt.weight_decay, b1 = adam.beta1, b2 = adam.beta2;
  at::Tensor mom = torch::zeros({P}, torch::kDouble), v = torch::zeros({P}, torch::kDouble),
             vmax = torch::zeros({P}, torch::kDouble);
  SgdReplay out;
  at::Tensor dtheta, dm, dv, dvmax;
  if (track) {
    dtheta = torch::zeros({n, P}, torch::kDouble);
    dm = torch::zeros({n, P}, torch::kDouble);
    dv = torch::zeros({n, P}, torch::kDouble);
    dvmax = torch::zeros({n, P}, torch::kDouble);
  }
  const at::Tensor cw = loss.class_weights.to(torch::kDouble);
  model->train();
  for (int64_t e = 0; e < epochs; ++e) {
    for (const auto& b : ep[e]) {
      std::vector<int64_t> rows;
      for (const auto& r : b)
        if (r.get<int64_t>() != exclude) rows.push_back(r.get<int64_t>());
      if (rows.empty()) continue;
      const data::Batch batch = train.batch(rows);
      const models::ModelOutput o = model->forward_training(batch);
      const at::Tensor l = loss.mean(o.logits, batch.labels);
      optimizer.zero_grad();
      l.backward();
      ++out.steps;
      // The decoder at theta_t: features, per-example gradients, the batch Hessian, Adam's state.
      torch::NoGradGuard no_grad;
      const int64_t bn = static_cast<int64_t>(rows.size());
      const at::Tensor X = with_bias_column(o.context.detach());
      const at::Tensor theta = torch::cat({dec[0].detach().reshape({-1}), dec[1].detach().reshape({-1})}).to(torch::kDouble);
      const at::Tensor g = torch::cat({dec[0].grad().reshape({-1}), dec[1].grad().reshape({-1})}).to(torch::kDouble) + wd * theta;
      mom = b1 * mom + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const at::Tensor active = adam.amsgrad ? (v >= vmax).to(torch::kDouble) : torch::ones_like(v);
      vmax = adam.amsgrad ? torch::maximum(vmax, v) : v;
      const double bc1 = 1 - std::pow(b1, static_cast<double>(out.steps)), bc2 = std::sqrt(1 - std::pow(b2, static_cast<double>(out.steps)));
      if (track && bn > 1) {
        const at::Tensor y = batch.labels.to(torch::kDouble);
        const at::Tensor p = torch::sigmoid(torch::mv(X, theta));
        const at::Tensor w = cw.index_select(0, batch.labels);
        const at::Tensor H = torch::mm(X.t() * (w * p * (1 - p)), X) / static_cast<double>(bn) + wd * torch::eye(P, torch::kDouble);
        const at::Tensor gi = X * (w * (p - y)).unsqueeze(1);  // [b, P] per-example loss gradients
        // Removing j from its batch of b: the batch mean becomes the mean of the other b - 1,
        // a change of (mean - g_j) / (b - 1) (the trainer renormalises).
        const at::Tensor removal = (gi.mean(0, true) - gi) / static_cast<double>(bn - 1);
        at::Tensor dg = torch::mm(dtheta, H);
        dg.index_add_(0, torch::tensor(rows, torch::kLong), removal);
        dm = b1 * dm + (1 - b1) * dg;
        dv = b2 * dv + (1 - b2) * 2 * g.unsqueeze(0) * dg;
        dvmax = active.unsqueeze(0) * dv + (1 - active.unsqueeze(0)) * dvmax;
        // theta -= (lr / bc1) m / den, den = sqrt(vmax) / bc2 + eps: linearised in m and vmax.
        const at::Tensor root = torch::sqrt(vmax), den = root / bc2 + adam.eps;
        const at::Tensor dden = dvmax / (2 * bc2 * root.clamp_min(1e-30)).unsqueeze(0);
        dtheta = dtheta - (adam.lr / bc1) * (dm / den.unsqueeze(0) - mom.unsqueeze(0) * dden / (den * den).unsqueeze(0));
      }
      if (freeze_encoder)
        for (auto& prm : model->parameters()) {
          bool is_dec = false;
          for (auto& d : dec) is_dec |= d.is_same(prm);
          if (!is_dec) prm.mutable_grad() = at::Tensor();
        }
      optimizer.step();
    }
  }
  model->eval();
  for (auto& d : dec) out.decoder.push_back(d.detach().to(torch::kDouble).clone());
  if (run.model) {
    models::TextClassifier trained = run.model;  // a holder copy: the same module
    auto ref = trained->parameters_of(models::TextClassifierImpl::ParameterGroup::kDecoder);
    for (size_t i = 0; i < ref.size(); ++i)
      out.max_difference = std::max(out.max_difference, (ref[i].detach().to(torch::kDouble) - out.decoder[i]).abs().max().item<double>());
  }
  out.delta = dtheta;
  return out;
}

void run_sgd(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  if (in.run == nullptr) throw InvalidArgument("influence: sgd needs the run (its order.json and settings)");
  if (o.params != "last" && o.params != "decoder")
    throw InvalidArgument("influence: sgd tracks the removal effect in the last layer (--params last)");
  Json order = in.order;
  int64_t epochs = in.best_epoch;
  if (order.is_null()) {
    const std::string path = join_path(in.run->dir, "order.json");
    if (!path_exists(path))
      throw ModelError("influence: sgd replays the recorded training order and this run has no order.json; train it with --record-order");
    order = read_json_file(path);
    epochs = read_json_file(join_path(in.run->dir, "metrics.json")).value("best_epoch", int64_t(0));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const SgdReplay rep = replay_training(*in.run, *in.train, in.loss, order, epochs, true);
  models::TextClassifier model = in.model;
  ParameterSelection sel = select_parameters(model, "last");
  r.parameters = sel.to_json();
  PerExampleGradients test_grads(model, test_loss(in.loss), sel);
  const int64_t nt = in.test->size();
  r.scores = nt > 0 ? torch::mm(test_grads.compute(*in.test, all_rows(nt), in.test_labels), rep.delta.t())
                    : torch::zeros({0, in.train->size()}, torch::kDouble);
  if (o.self_influence) {
    PerExampleGradients train_grads(model, in.loss, sel);
    const at::Tensor g = train_grads.compute(*in.train, all_rows(in.train->size()));
    const at::Tensor s = (g * rep.delta).sum(1);
    r.self_influence.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  }
  r.diagnostics["replay"] = {{"epochs", epochs}, {"steps", rep.steps}, {"max_difference_from_the_run", rep.max_difference}};
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
