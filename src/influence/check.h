// Validation of influence methods against retraining (`lumen influence-check`, issue #12):
//   mislabel detection: flip a fraction of the training labels, retrain with the run's own
//     settings, rank the training set by each method's self-influence (and by training loss, a
//     baseline), report the share of flipped points found against the share inspected, and
//     the ROC-AUC of the ranking;
//   leave-one-out: retrain without each of N chosen points (several seeds), correlate each
//     method's predicted change in test loss with the actual mean change (Pearson and
//     Spearman with bootstrap 95% intervals);
//   linear datamodeling score (Park et al. 2023): retrain on m random subsets of a fraction of
//     the training set; per test point, the Spearman correlation between the actual test loss
//     and the loss predicted by summing the method's scores over the subset's removed points;
//     averaged over test points;
//   Data Shapley removal curve: the held-out accuracy after removing the highest-valued points
//     first against removing them at random (Ghorbani & Zou's figure), with the last-layer
//     learner the values were computed for.
// Retraining reuses the trainer (train::fit) with the run's options; with `parallel` the
// leave-one-out and LDS retrainings run one per core at once.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "influence/influence.h"
#include "models/checkpoint.h"

namespace lumen::influence {

struct CheckOptions {
  // Methods compared, each "name" or "name:params" (e.g. "ekfac:all"): `base` with the method
  // (and parameter group) replaced.
  std::vector<std::string> methods = {"if-exact", "tracin", "representer"};
  InfluenceOptions base;
  InfluenceOptions method_options(const std::string& method) const;
  // Mislabel detection: the fraction of training labels flipped (0 = skip).
  double mislabel = 0;
  // Inspected shares reported for mislabel detection.
  std::vector<double> inspect = {0.05, 0.1, 0.2, 0.3, 0.5};
  // Leave-one-out: points removed one at a time (0 = skip), drawn among the strongest-scored
  // and random ones; seeds per retraining.
  int64_t loo_points = 0;
  int64_t loo_seeds = 2;
  // Linear datamodeling score: subsets (0 = skip) of this fraction of the training set.
  int64_t lds_subsets = 0;
  double lds_fraction = 0.5;
  // Retrainings per subset (seeds), averaged: a retraining's own noise shrinks as 1/sqrt(seeds).
  int64_t lds_seeds = 1;
  // Data Shapley removal curve: value the players (base.shapley* options), remove the most
  // valuable first and, as the control, in random order; the last-layer learner's test accuracy
  // at each removed share.
  bool shapley_removal = false;
  std::vector<double> removal = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
  // Test points for LOO and LDS (the first of the run's test split).
  int64_t test_points = 20;
  // Run the retrainings of leave-one-out and LDS on all cores at once, one per core.
  bool parallel = true;
  // Epochs of every retraining (0 = the run's).
  int64_t epochs = 0;
  // Leave-one-out and LDS retrainings recompute the class weights from each subset (the run's
  // class_weight rule) instead of keeping the full training set's. Off by default: influence
  // methods predict the removal of a point's term from a fixed objective.
  bool recompute_class_weights = false;
  uint64_t seed = 0;
  void validate() const;
  Json to_json() const;
};

// Everything check() needs from a run: its data and settings.
struct CheckInputs {
  models::Run* run = nullptr;
  const data::EncodedSet* train = nullptr;
  const data::EncodedSet* test = nullptr;
  const data::EncodedSet* dev = nullptr;
  // One-line progress messages ("retraining 3/20", ...).
  std::function<void(const std::string&)> log;
  // Finished leave-one-out and LDS retrainings, saved as they finish and reused by a rerun of
  // the same check (--resume).
  PartialStore partial;
};

// Runs the chosen validations; the JSON holds one table per validation with a row per method.
Json check_influence(const CheckInputs& inputs, const CheckOptions& options);

// The key of an inspected share in the mislabel table ("0.2" for 0.2).
std::string share_key(double share);

// The run's TrainOptions as saved in its config.json (progress off).
train::TrainOptions train_options_of(const models::Run& run);
// The objective the run was trained with on `train` (its class weights and weight decay).
train::TrainingLoss training_loss_of(const models::Run& run, const data::EncodedSet& train);

}  // namespace lumen::influence
