// Data Shapley (Ghorbani & Zou 2019): the value of each training point as its Shapley value in
// the cooperative game whose utility U(S) is the held-out performance of a model trained on S.
//   exact  enumeration of every subset, phi_i = sum_S |S|!(n-|S|-1)!/n! (U(S+i) - U(S)), n <= 20;
//   tmc    truncated Monte Carlo: random permutations, marginal contributions along each, the
//          scan of a permutation truncated once U(prefix) is within `tolerance` x U(D) of the
//          full utility (the rest get 0); stops when the mean relative change of the values over
//          the last `convergence_window` permutations is below `convergence` (their 5% rule),
//          or at `max_permutations` (then converged = false);
//   g-shapley  gradient Shapley: one epoch of SGD over each permutation (one step per point),
//          the marginal of a point the utility change of its step (an IncrementalLearner).
// Values come with their Monte Carlo standard errors; they sum to U(D) - U(empty) exactly for
// exact and for untruncated TMC (efficiency), and up to the truncated tail otherwise.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::influence {

// Utility of a subset of players 0..n-1 (in the order given, e.g. a permutation's prefix).
using Utility = std::function<double(const std::vector<int64_t>& subset)>;

// For g-shapley: a learner trained one point at a time.
struct IncrementalLearner {
  virtual ~IncrementalLearner() = default;
  virtual void reset() = 0;            // back to the untrained state
  virtual void step(int64_t player) = 0;  // one SGD step on a player
  virtual double utility() = 0;        // held-out performance now
};

// Finished permutations' marginals, for resuming a long run: recall(t) gives permutation t's
// marginals when they are stored, remember(t, m) stores them. The permutations themselves come
// from the seed, so a resumed run equals an uninterrupted one.
struct PermutationMemo {
  std::function<std::optional<std::vector<double>>(int64_t)> recall;
  std::function<void(int64_t, const std::vector<double>&)> remember;
};

struct ShapleyOptions {
  std::string algorithm = "tmc";  // exact | tmc | g-shapley
  int64_t max_permutations = 500;
  int64_t min_permutations = 50;
  double tolerance = 0.01;            // TMC truncation, relative to |U(D)|
  double convergence = 0.05;          // mean relative change of the values
  int64_t convergence_window = 50;    // permutations the change is measured over
  uint64_t seed = 0;
  const PermutationMemo* memo = nullptr;  // tmc and g-shapley; not part of the JSON form
  void validate() const;
  Json to_json() const;
};

struct ShapleyResult {
  std::vector<double> values, standard_error;
  int64_t permutations = 0;     // sampled (exact: 0)
  int64_t evaluations = 0;      // utility calls (or learner steps)
  bool converged = false;
  double full_utility = 0, empty_utility = 0;
  std::string diagnosis;        // why not converged
  Json to_json() const;
};

ShapleyResult exact_shapley(int64_t n, const Utility& u);
ShapleyResult tmc_shapley(int64_t n, const Utility& u, const ShapleyOptions& o);
ShapleyResult g_shapley(int64_t n, IncrementalLearner& learner, double empty_utility, const ShapleyOptions& o);

}  // namespace lumen::influence
