#include "train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/batch_plan.h"
#include "models/eval_guard.h"
#include "train/adam.h"
#include "train/loss.h"

namespace lumen::train {

void TrainOptions::validate() const {
  if (epochs < 0) throw InvalidArgument("train: epochs must be >= 0, got " + std::to_string(epochs));
  if (batch_size < 1) throw InvalidArgument("train: batch_size must be >= 1, got " + std::to_string(batch_size));
  if (!(lr > 0)) throw InvalidArgument("train: lr must be > 0");
  if (weight_decay < 0) throw InvalidArgument("train: weight_decay must be >= 0");
  if (class_weight != "auto" && class_weight != "none" && class_weight != "balanced")
    throw InvalidArgument("train: class_weight must be auto, none or balanced, got '" + class_weight + "'");
  if (select != "auto" && select != "roc_auc" && select != "accuracy" && select != "last")
    throw InvalidArgument("train: select must be auto, roc_auc, accuracy or last, got '" + select + "'");
  for (double w : class_weights)
    if (!(w >= 0) || !std::isfinite(w)) throw InvalidArgument("train: class_weights must be finite and >= 0");
  if (!(diversity_weight >= 0 || diversity_weight == -1) || !std::isfinite(diversity_weight))
    throw InvalidArgument("train: diversity_weight must be >= 0 (or -1 for the encoder's default)");
  if (!(rationale_weight >= 0) || !std::isfinite(rationale_weight))
    throw InvalidArgument("train: rationale_weight must be finite and >= 0");
  if (!(faithfulness_weight >= 0) || !std::isfinite(faithfulness_weight))
    throw InvalidArgument("train: faithfulness_weight must be finite and >= 0");
}

namespace {
// Wiegreffe & Pinter's adversarial objective (TrainOptions::adversary), averaged over the batch.
at::Tensor adversarial_objective(const TrainOptions::Adversary& adv, const models::ModelOutput& out, const data::Batch& batch) {
  models::ModelOutput base;
  {
    torch::NoGradGuard ng;
    models::TextClassifier holder = adv.base;
    base = holder->forward(batch);
  }
  return adversarial_loss(out, base, batch, adv.lambda).mean();
}
}  // namespace

double TrainOptions::diversity_for(const models::ModelConfig& model) const {
  if (diversity_weight >= 0) return diversity_weight;
  return model.encoder == "diversity-lstm" ? 0.5 : 0.0;
}

Json TrainOptions::to_json() const {
  Json j = {{"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr},         {"weight_decay", weight_decay},
          {"amsgrad", amsgrad}, {"class_weight", class_weight}, {"select", select}, {"seed", seed},
          {"record_order", record_order}};
  if (!class_weights.empty()) j["class_weights"] = class_weights;
  if (diversity_weight != -1) j["diversity_weight"] = diversity_weight;
  if (rationale_weight > 0) j["rationale_weight"] = rationale_weight;
  if (faithfulness_weight > 0) j["faithfulness_weight"] = faithfulness_weight;
  return j;
}

Json TrainResult::to_json() const {
  Json e = Json::array();
  for (const auto& x : epochs)
    e.push_back({{"epoch", x.epoch},
                 {"train_loss", x.train_loss},
                 {"seconds", x.seconds},
                 {"tokens_per_second", x.tokens_per_second},
                 {"dev", x.dev.to_json()}});
  return {{"epochs", e}, {"best_epoch", best_epoch}, {"best_dev", best_dev.to_json()}};
}

namespace {

// Length-sorted batches with a little noise, in shuffled order (the paper's batching).
std::vector<std::vector<int64_t>> make_buckets(const data::EncodedSet& set, int64_t batch_size, Rng& rng) {
  std::vector<std::pair<double, int64_t>> keyed;
  for (int64_t i = 0; i < set.size(); ++i)
    keyed.emplace_back(static_cast<double>(set.ids[i].size()) + 4.0 * (rng.uniform() - 0.5), i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> order;
  for (const auto& k : keyed) order.push_back(k.second);
  auto batches = data::plan_batches(order, set.lengths(), {/*max_rows=*/batch_size, /*max_tokens=*/0});
  rng.shuffle(batches);
  return batches;
}

double select_score(const ClassificationMetrics& m, const std::string& select, int64_t C) {
  const std::string s = select == "auto" ? (C == 2 ? "roc_auc" : "accuracy") : select;
  if (s == "roc_auc") return m.roc_auc >= 0 ? m.roc_auc : m.accuracy;
  return m.accuracy;
}

}  // namespace

std::vector<std::vector<double>> predict_proba(models::TextClassifier& model, const data::EncodedSet& set, int64_t batch_size,
                                               const BatchOptions& batch_options) {
  models::EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  // Length-sorted batches keep padding low; results go back to the original order.
  std::vector<std::vector<double>> probs(set.size());
  for (const auto& rows : data::length_sorted_batches(set.lengths(), {/*max_rows=*/batch_size, /*max_tokens=*/0})) {
    const data::Batch batch = set.batch(rows);
    const at::Tensor logits = batch_options ? model->forward(batch, batch_options(batch)).logits : model->forward(batch).logits;
    at::Tensor p = torch::softmax(logits, 1).to(torch::kDouble).contiguous();
    auto acc = p.accessor<double, 2>();
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<double> row(p.size(1));
      for (int64_t c = 0; c < p.size(1); ++c) row[c] = acc[r][c];
      probs[rows[r]] = std::move(row);
    }
  }
  return probs;
}

ClassificationMetrics evaluate(models::TextClassifier& model, const data::EncodedSet& set, const BatchOptions& batch_options) {
  return compute_metrics(predict_proba(model, set, 64, batch_options), set.labels);
}

TrainResult fit(models::TextClassifier& model, const data::EncodedSet& train, const data::EncodedSet& dev, const TrainOptions& options,
                const std::function<void(int64_t)>& on_epoch) {
  options.validate();
  if (train.size() == 0) throw InvalidArgument("train: the training split is empty");
  const auto& cfg = model->config();
  const int64_t C = cfg.num_classes;
  const bool binary_single = C == 2 && !cfg.pair;
  const int64_t epochs = options.epochs > 0 ? options.epochs : (binary_single ? 8 : 25);
  AdamOptions adam;
  adam.lr = options.lr;
  adam.amsgrad = options.amsgrad;
  FusedAdam optimizer({{model->other_parameters(), options.weight_decay}, {model->attention_parameters(), 0.0}}, adam);
  TrainingLoss objective = TrainingLoss::make(train, C, cfg.pair, options.class_weight, options.weight_decay);
  if (!options.class_weights.empty()) {
    if (static_cast<int64_t>(options.class_weights.size()) != C)
      throw InvalidArgument("train: class_weights has " + std::to_string(options.class_weights.size()) + " weights for " +
                            std::to_string(C) + " classes");
    std::vector<float> w(options.class_weights.begin(), options.class_weights.end());
    objective.class_weights = torch::tensor(w);
  }
  objective.diversity_weight = options.diversity_for(cfg);
  if (cfg.encoder == "diversity-lstm" && objective.diversity_weight == 0)
    throw InvalidArgument("train: diversity-lstm needs a diversity weight > 0 (it would be the vanilla BiLSTM); use --encoder lstm");
  objective.rationale_weight = options.rationale_weight;
  objective.faithfulness_weight = options.faithfulness_weight;
  if (objective.faithfulness_weight > 0) {
    if (cfg.pooling != "attention") throw InvalidArgument("train: the faithfulness objective needs pooling=attention");
    objective.decoder = [model](const at::Tensor& context, const at::Tensor& query) mutable {
      return model->decoder(context, query);
    };
  }
  if (options.adversary) {
    if (!options.adversary->base) throw InvalidArgument("train: the adversarial model needs its base model");
    if (!(options.adversary->lambda >= 0)) throw InvalidArgument("train: the adversary's lambda must be >= 0");
    if (cfg.pooling != "attention" || !options.adversary->base->has_pooling_attention())
      throw InvalidArgument("train: the adversarial model and its base need pooling attention");
    if (objective.has_auxiliary()) throw InvalidArgument("train: the adversarial objective takes no diversity, rationale or faithfulness term");
  }
  models::TextClassifier adversary_base = options.adversary ? options.adversary->base : models::TextClassifier(nullptr);
  std::optional<models::EvalGuard> base_eval;
  if (options.adversary) base_eval.emplace(adversary_base);
  if (objective.rationale_weight > 0) {
    if (cfg.pooling != "attention") throw InvalidArgument("train: rationale supervision needs pooling=attention");
    if (train.with_rationale() == 0)
      throw InvalidArgument("train: --rationale-weight needs rationales, and no training example has one (the synthetic "
                            "tasks carry them; a JSONL file names its field with ?rationale=FIELD)");
  }
  Rng rng(options.seed ^ 0x5eedULL);
  TrainResult result;
  // Selection: the dev metric, ties broken by lower dev loss (ROC-AUC often saturates at 1
  // while the model still predicts one class).
  double best = -1, best_loss = 0;
  std::vector<at::Tensor> best_state;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    model->train();
    const auto start = std::chrono::steady_clock::now();
    auto batches = make_buckets(train, options.batch_size, rng);
    if (options.record_order) result.order.push_back(batches);
    Progress bar("epoch " + std::to_string(epoch) + "/" + std::to_string(epochs), static_cast<int64_t>(batches.size()),
                 options.progress);
    double loss_sum = 0;
    int64_t seen = 0;
    for (const auto& rows : batches) {
      data::Batch batch = train.batch(rows);
      const models::ModelOutput out = options.batch_options ? model->forward(batch, options.batch_options(batch))
                                                            : model->forward_training(batch);
      // Weighted cross-entropy (and any auxiliary term) averaged over the batch (train/loss.h);
      // Adam adds the decay.
      at::Tensor loss = options.adversary ? adversarial_objective(*options.adversary, out, batch) : objective.batch_objective(out, batch);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      const double l = loss.item<double>();
      if (!std::isfinite(l)) throw ModelError("train: the loss became " + std::to_string(l) + " at epoch " + std::to_string(epoch) + "; lower --lr");
      loss_sum += l * rows.size();
      seen += static_cast<int64_t>(rows.size());
      char buf[64];
      std::snprintf(buf, sizeof buf, "loss %.4f", loss_sum / seen);
      bar.advance(1, buf);
    }
    EpochLog log;
    log.epoch = epoch;
    log.train_loss = loss_sum / std::max<int64_t>(seen, 1);
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.tokens_per_second = train.tokens / std::max(log.seconds, 1e-9);
    if (dev.size() > 0) log.dev = evaluate(model, dev, options.batch_options);
    char buf[128];
    std::snprintf(buf, sizeof buf, "loss %.4f dev acc %.4f", log.train_loss, log.dev.accuracy);
    bar.finish(buf);
    result.epochs.push_back(log);
    if (on_epoch) on_epoch(epoch);
    const double score = options.select == "last" || dev.size() == 0 ? static_cast<double>(epoch)
                                                                     : select_score(log.dev, options.select, C);
    const double dev_loss = dev.size() > 0 ? log.dev.loss : 0.0;
    if (score > best || (score == best && dev_loss < best_loss)) {
      best = score;
      best_loss = dev_loss;
      result.best_epoch = epoch;
      result.best_dev = log.dev;
      torch::NoGradGuard no_grad;
      best_state.clear();
      for (auto& p : model->parameters()) best_state.push_back(p.detach().clone());
    }
  }
  {
    torch::NoGradGuard no_grad;
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
  }
  model->eval();
  return result;
}

}  // namespace lumen::train
