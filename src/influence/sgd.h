// SGD-influence (Hara et al. 2019) for Lumen's trainer: the recorded training (order.json,
// `lumen train --record-order`) is replayed step by step from the seeded initial weights, and
// the effect of removing each training point on the final last layer is carried along the
// trajectory by the linearised update (Hara et al. linearise SGD; here Adam with AMSGrad is
// linearised in all its state): with H_t the Hessian of step t's batch loss (weight decay
// included) and g the batch gradient,
//   dg_t    = H_t dtheta_t + [j in B_t] (mean_B grad l - grad l_j) / (|B_t| - 1)
//   dm, dv  = the moments' recursions in dg (dv = (1 - beta2) 2 g dg + beta2 dv), dvmax = dv
//             where the maximum is attained
//   dtheta -= lr / bc1 (dm / den - m ddden / den^2), den = sqrt(vmax) / bc2 + eps
// for every training point j at once (forward mode, [n, P] state per quantity). The perturbation is tracked
// in the decoder's parameters only (the encoder's trajectory is the replayed one): the score of
// j for a test point is grad l_test(theta_T) . dtheta_T(j), the predicted change in test loss
// when j is removed (> 0: a proponent), in influence functions' units.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/json.h"
#include "data/encoded_set.h"
#include "models/checkpoint.h"
#include "train/loss.h"

namespace lumen::influence {

struct SgdReplay {
  at::Tensor delta;                  // [n, P] dtheta_T per training point (when tracked)
  std::vector<at::Tensor> decoder;   // the replayed final decoder parameters (float64)
  int64_t steps = 0;
  double max_difference = 0;         // |replayed decoder - the run's| (a check of the replay)
};

// Replays `epochs` epochs of `order` (order.json's "epochs") on `train` with the run's settings.
// `exclude` >= 0 drops that training row from its batches (the actual counterfactual, for
// validation); `freeze_encoder` trains the decoder only (then the linearisation is exact to
// first order). Throws ModelError when the run's initial weights cannot be rebuilt (pretrained
// vectors) or the order does not fit the training set.
SgdReplay replay_training(const models::Run& run, const data::EncodedSet& train, const train::TrainingLoss& loss,
                          const Json& order, int64_t epochs, bool track, int64_t exclude = -1, bool freeze_encoder = false);

}  // namespace lumen::influence
