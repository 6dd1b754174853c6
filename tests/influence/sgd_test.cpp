// SGD-influence (issue #12): the replay of a recorded training reproduces the run's weights, and
// with the last layer the only trained part (where the linearisation is exact to first order)
// the predicted change of the final layer when a point is removed matches replaying the
// training without it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/json.h"
#include "core/runtime.h"
#include "data/encoded_set.h"
#include "influence/sgd.h"
#include "support/fixtures.h"
#include "train/train_run.h"

namespace lumen::influence {
namespace {

double pearson(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.reshape({-1}) - a.mean(), y = b.reshape({-1}) - b.mean();
  return ((x * y).sum() / (x.norm() * y.norm())).item<double>();
}

TEST(SgdInfluence, TheReplayReproducesTheRunAndPredictsRemovalWhereTheLinearisationIsExact) {
  configure_threads(0);
  test::TempDir dir;
  const auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=200&length=8' --out " + dir.file("run") +
                                 " --encoder average --embed-dim 8 --hidden 8 --epochs 3 --record-order");
  ASSERT_EQ(r.code, 0) << r.output;
  models::Run run = models::load_run(dir.file("run"));
  const data::Dataset ds = train::load_dataset_for_run(run, "");
  const data::EncodedSet set = data::EncodedSet::from(ds.train, run.vocab, false);
  const auto loss = train::TrainingLoss::make(set, 2, false, "auto", run.config["train"]["weight_decay"].get<double>());
  const Json order = read_json_file(dir.file("run") + "/order.json");
  const int64_t best = read_json_file(dir.file("run") + "/metrics.json")["best_epoch"].get<int64_t>();
  const SgdReplay full = replay_training(run, set, loss, order, best, true);
  EXPECT_LT(full.max_difference, 1e-6);  // the replay is the training
  // Decoder-only training: predicted vs actual final-layer change for removed points.
  const SgdReplay frozen = replay_training(run, set, loss, order, 3, true, -1, true);
  std::vector<at::Tensor> predicted, actual;
  for (int64_t j : {0, 7, 19, 42, 77}) {
    const SgdReplay without = replay_training(run, set, loss, order, 3, false, j, true);
    actual.push_back(torch::cat({(without.decoder[0] - frozen.decoder[0]).reshape({-1}), without.decoder[1] - frozen.decoder[1]}));
    predicted.push_back(frozen.delta[j]);
  }
  const double p = pearson(torch::stack(predicted), torch::stack(actual));
  EXPECT_GE(p, 0.95);
  RecordProperty("pearson_predicted_actual", std::to_string(p));
}

}  // namespace
}  // namespace lumen::influence
