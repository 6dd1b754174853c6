// Data influence (issue #12): which training examples made a prediction. Every method fills one
// InfluenceResult: a score for each (test point, training point) pair and, when asked, each
// training point's self-influence, under one sign convention:
//   score > 0  the training point is a proponent (helpful): it lowers the test point's loss
//              (for influence functions: removing it is predicted to raise the test loss by
//              `score`; for TracIn: the loss reductions it caused summed over checkpoints; for
//              representer points: its contribution to the explained class's logit);
//   score < 0  an opponent (harmful).
// Methods (one file each, registered by name in registry.cpp):
//   if-exact, if-cg, if-lissa  influence functions (Koh & Liang 2017), influence_functions.cpp
//   fastif                     FastIF's kNN-restricted influence (Guo et al. 2020), fastif.cpp
//   sgd                        SGD-influence (Hara et al. 2019) by replaying the recorded
//                              training, last layer, sgd.cpp
//   tracin                     TracIn over the run's checkpoints (Pruthi et al. 2020), tracin.cpp
//   representer                representer points (Yeh et al. 2018), representer.cpp
//   ekfac, kfac                influence with (E)K-FAC curvature (Grosse et al. 2023), ekfac.cpp
//   shapley                    Data Shapley values (Ghorbani & Zou 2019) of sampled training
//                              points, learner = the last layer on frozen features, utility =
//                              held-out accuracy; shapley_method.cpp (algorithms in shapley.h)
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "influence/hessian.h"
#include "influence/partial.h"
#include "models/checkpoint.h"
#include "models/classifier.h"
#include "train/loss.h"

namespace lumen::influence {

struct InfluenceOptions {
  std::string method = "if-cg";
  // Parameters differentiated: all | last (decoder) | attention | encoder | embedding | a list.
  std::string params = "last";
  // Proponents and opponents kept per test point.
  int64_t top = 10;
  // Also score each training point's self-influence (likely mislabels rank first).
  bool self_influence = false;
  // Keep the whole [tests x train] score matrix in the result (and its JSON).
  bool keep_scores = false;
  // Influence functions: the inverse-HVP solver's settings (solver from the method name).
  SolveOptions solve;
  // Influence functions on non-decoder parameters: training rows (drawn with `seed`) whose
  // loss defines the Hessian; 0 = every row.
  int64_t hessian_samples = 0;
  // FastIF: training points scored per test point (its nearest in the representation space).
  int64_t fastif_candidates = 100;
  // TracIn: the checkpoints' epochs to use (empty = every saved one).
  std::vector<int64_t> checkpoints;
  // TracIn: gradients projected to this many dimensions by a seeded CountSketch (a sparse
  // Johnson-Lindenstrauss projection; inner products are preserved in expectation); 0 = exact.
  int64_t projection = 0;
  // Data Shapley (shapley.h): the algorithm (exact | tmc | g-shapley), the players (training
  // rows drawn with `seed`; exact needs <= 20), the permutation budget, and g-shapley's step.
  std::string shapley = "tmc";
  int64_t shapley_points = 100;
  int64_t shapley_permutations = 500;
  double shapley_tolerance = 0.01;
  double shapley_lr = 0.1;
  // Representer points: lambda of the L2 fine-tuning of the last layer.
  double representer_l2 = 1e-3;
  uint64_t seed = 0;
  // Bytes of per-example gradients held at once.
  int64_t memory_bytes = int64_t(256) << 20;
  void validate() const;
  Json to_json() const;
};

struct InfluenceEntry {
  int64_t train = 0;  // row of the training set
  double score = 0;
  int64_t label = 0;  // its training label
};

struct TestInfluence {
  int64_t index = 0;       // row of the test set
  int64_t label = 0;       // the label whose loss is explained (gold, or predicted when unknown)
  int64_t predicted = 0;
  double loss = 0;         // its cross-entropy
  std::vector<InfluenceEntry> proponents, opponents;  // strongest first
  // The score distribution over the training set.
  double mean = 0, stddev = 0, min = 0, max = 0;
  std::vector<int64_t> histogram;  // 20 equal bins over [min, max]
};

struct InfluenceResult {
  std::string method;
  InfluenceOptions options;
  Json parameters;  // ParameterSelection::to_json
  std::string sign = "score > 0: proponent (helpful, lowers the test loss); score < 0: opponent (harmful)";
  at::Tensor scores;                   // [tests, train] float64
  std::vector<double> self_influence;  // [train] when asked: larger = more unusual
  std::vector<TestInfluence> tests;
  // Data Shapley: global values (no test point) of the training rows `value_rows`, with their
  // Monte Carlo standard errors.
  std::vector<int64_t> value_rows;
  std::vector<double> values, value_errors;
  Json diagnostics = Json::object();  // solver residuals, LiSSA convergence, fidelity, timings
  // Fills `tests` from `scores`; train_labels of the training set.
  void summarise(const std::vector<int64_t>& train_labels, int64_t top);
  Json to_json() const;
};

// Everything a method reads.
struct InfluenceInputs {
  models::TextClassifier model{nullptr};  // the run's final model
  models::ModelConfig config;
  const data::EncodedSet* train = nullptr;
  const data::EncodedSet* test = nullptr;  // may be empty (self-influence only)
  const data::EncodedSet* dev = nullptr;   // held-out split: Data Shapley's utility
  train::TrainingLoss loss;                // the trainer's (train/loss.h)
  std::vector<int64_t> test_labels;        // the labels explained, one per test row
  std::vector<models::CheckpointInfo> checkpoints;
  // The run (SGD-influence replays its recorded training); may be null. `order` (order.json's
  // form) and `best_epoch` give the training to replay; when `order` is null, sgd reads
  // RUN/order.json and RUN/metrics.json.
  const models::Run* run = nullptr;
  Json order;
  int64_t best_epoch = 0;
  // Where EK-FAC / K-FAC factors are cached (e.g. RUN/influence); empty: not cached.
  std::string cache_dir;
  // Finished units of long work (TracIn checkpoints, CG / LiSSA solves, Shapley permutations),
  // saved as they finish and reused by a rerun of the same request (--resume).
  PartialStore partial;
  // Progress of long stages: (stage, done, total).
  std::function<void(const std::string&, int64_t, int64_t)> progress;
  void report(const std::string& stage, int64_t done, int64_t total) const {
    if (progress) progress(stage, done, total);
  }
};

// Runs options.method. Throws InvalidArgument for an unknown method or a bad group, ModelError
// for a run that lacks what the method needs (e.g. TracIn without checkpoints). A solver that
// does not converge leaves the result without scores and says why in diagnostics ("converged":
// false); never NaN scores.
InfluenceResult compute_influence(const InfluenceInputs& inputs, const InfluenceOptions& options);

// The names of the registered methods.
std::vector<std::string> influence_methods();

// The test loss: plain cross-entropy (class weights 1, no regulariser).
train::TrainingLoss test_loss(const train::TrainingLoss& training);

}  // namespace lumen::influence
