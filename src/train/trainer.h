// Training of the paper's classifiers: Adam (AMSGrad) with weight decay except on attention,
// class-weighted loss for binary tasks, length-bucketed batches in shuffled order, best-dev
// selection (ROC-AUC for binary tasks, accuracy otherwise), a checkpoint per epoch.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/classifier.h"
#include "train/metrics.h"

namespace lumen::train {

// Forward options per batch (e.g. attention frozen to another model's distributions, the
// control of Wiegreffe & Pinter 2019); empty: the plain forward pass.
using BatchOptions = std::function<models::ForwardOptions(const data::Batch&)>;

struct TrainOptions {
  // Epochs; 0 = the paper's default (8 for binary single texts, 25 otherwise).
  int64_t epochs = 0;
  int64_t batch_size = 32;
  double lr = 1e-3;
  // L2 weight decay on every parameter but the attention scorer's.
  double weight_decay = 1e-5;
  bool amsgrad = true;
  // auto: positive weight #neg/#pos for binary single texts (the paper), none otherwise;
  // none; balanced: weight n / (C * n_c) per class.
  std::string class_weight = "auto";
  // Explicit per-class weights (one per class); when given they replace class_weight. Influence
  // checks retrain subsets under the full training set's weights: removing a point then changes
  // the objective only by that point's term, the counterfactual influence methods predict.
  std::vector<double> class_weights;
  // Dev metric that picks the kept epoch: auto (roc_auc for binary, else accuracy), roc_auc,
  // accuracy, or last (no selection). Ties go to the epoch with the lower dev loss.
  std::string select = "auto";
  // Weight of the Diversity LSTM's conicity penalty on the encoder states (train/loss.h);
  // -1 = the encoder's default: 0.5 for diversity-lstm (Mohankumar et al.'s setting), 0 for the
  // others. diversity-lstm with 0 is refused (it would be the vanilla BiLSTM).
  double diversity_weight = -1;
  // Weight of rationale supervision: the cross-entropy of the pooling attention against each
  // training example's rationale (train/loss.h). > 0 needs rationales in the training data.
  double rationale_weight = 0;
  // Weight of Moradi et al. (2021)'s faithfulness objective (train/loss.h, faithfulness_reward):
  // the model is rewarded, up to a cap, when counterfactual pooling attentions (the top weight
  // zeroed, the weights permuted, uniform) change its decision. Needs pooling=attention.
  double faithfulness_weight = 0;
  // Wiegreffe & Pinter (2019, section 4)'s adversarial model: instead of the cross-entropy the
  // model minimises, per example, TVD(p, p_base) - lambda KL(alpha || alpha_base) against the
  // trained `base` (same architecture and vocabulary; its predictions are the targets, the gold
  // labels are not used): it keeps the base's decisions while its pooling attention moves away.
  struct Adversary {
    models::TextClassifier base{nullptr};
    double lambda = 0;
  };
  std::optional<Adversary> adversary;
  // The diversity weight `diversity_weight` resolves to for `model`.
  double diversity_for(const models::ModelConfig& model) const;
  // Seed of weight initialisation and batch order.
  uint64_t seed = 0;
  // Keep the order of every epoch's batches in TrainResult::order (SGD-influence replays it).
  bool record_order = false;
  // Draw a progress bar (only on a terminal).
  bool progress = true;
  // Applied in training and dev evaluation (not saved with a run).
  BatchOptions batch_options;
  void validate() const;
  Json to_json() const;
};

struct EpochLog {
  int64_t epoch = 0;
  double train_loss = 0;
  double seconds = 0;
  double tokens_per_second = 0;
  ClassificationMetrics dev;
};

struct TrainResult {
  std::vector<EpochLog> epochs;
  int64_t best_epoch = 0;
  ClassificationMetrics best_dev;
  // With record_order: per epoch, its batches in the order they were taken, each the rows of
  // the training set it held (one Adam step per batch, learning rate TrainOptions::lr).
  std::vector<std::vector<std::vector<int64_t>>> order;
  Json to_json() const;  // without the order (train_run writes it to order.json)
};

// Trains `model` in place and leaves the selected epoch's weights in it. `on_epoch(epoch)`
// is called after each epoch with the epoch's weights in the model (to save checkpoints).
TrainResult fit(models::TextClassifier& model, const data::EncodedSet& train, const data::EncodedSet& dev, const TrainOptions& options,
                const std::function<void(int64_t)>& on_epoch = {});

// Class probabilities [n][C] in eval mode without gradients, restoring the training mode.
std::vector<std::vector<double>> predict_proba(models::TextClassifier& model, const data::EncodedSet& set,
                                               int64_t batch_size = 64, const BatchOptions& batch_options = {});

ClassificationMetrics evaluate(models::TextClassifier& model, const data::EncodedSet& set,
                               const BatchOptions& batch_options = {});

}  // namespace lumen::train
