// Adversarial attention (Jain & Wallace 2019, section 4.2, Algorithm 2): with the encoder and
// decoder frozen, search for K attention distributions per instance that are as far as
// possible (JSD) from the original attention while the output stays within a margin of the
// original output. Candidates are log-attention vectors over the real tokens, initialised at
// log(1/n) + N(0, init_std^2), optimised by Adam (AMSGrad) on
//   sum_k [ -JSD(a_k, a) + penalty * relu(TVD(y_k, y) - margin) ] - mean_{k<l} JSD(a_k, a_l).
// Selection: among the K candidates and the original attention (JSD 0), drop those whose output
// TVD exceeds epsilon and keep the one with the largest JSD. JSD uses natural logs.
//
// Two optimisers that a test holds equal step for step:
//   fast:  affine decoders (every single-text model): a hand-written kernel (float32 by default,
//          or float64) with the
//          analytic gradient, one instance at a time in cache, instances spread over the cores;
//   plain: LibTorch autograd over padded batches through the model's decoder (any model;
//          text pairs always take this path).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "analysis/decision.h"

namespace lumen::analysis {

struct AdversarialOptions {
  int64_t candidates = 5;  // K
  int64_t steps = 500;
  double lr = 0.01;
  double penalty = 500;
  // Optimisation margin: output TVD above it is penalised.
  double margin = 0.01;
  // Selection: candidates whose output TVD exceeds it are dropped.
  double epsilon = 0.05;
  // More selection thresholds applied to the same candidates (AdversarialResult::by_epsilon).
  std::vector<double> more_epsilons;
  // Standard deviation of the initial log-attention noise.
  double init_std = 3.0;
  // Use the fast kernel where the decoder is affine.
  bool fast = true;
  // The fast kernel's precision: float32 (as the reference implementation, PyTorch float32) or
  // float64. Selection and the reported JSD / TVD are computed in float64 either way.
  bool float32 = true;
  void validate() const;
};

struct AdversarialResult {
  std::vector<double> attention;  // [n] the selected distribution (the original if none qualifies)
  double jsd = 0;                 // JSD(selected, original)
  double tvd = 0;                 // output TVD of the selected distribution
  int64_t within_epsilon = 0;     // candidates (of K) whose output TVD <= epsilon
  // {epsilon, JSD, TVD} of the selection at epsilon and at each of more_epsilons.
  std::vector<std::array<double, 3>> by_epsilon;
};

// Initial log-attention [K * n], row k = candidate k, from Rng(seed).
std::vector<double> adversarial_init(const Decision& d, const AdversarialOptions& o, uint64_t seed);

// Optimises `theta` ([K * n]) in place with the fast kernel; requires d.affine().
void adversarial_optimize_fast(const Decision& d, const AdversarialOptions& o, std::vector<double>& theta);

// Optimises thetas[i] for decisions ds[i] in place with LibTorch autograd, all in one batch.
void adversarial_optimize_plain(models::TextClassifier& model, const std::vector<const Decision*>& ds,
                                const AdversarialOptions& o, std::vector<std::vector<double>>& thetas);

// Selection among the candidates `theta` and the original attention.
AdversarialResult adversarial_select(models::TextClassifier& model, const Decision& d, const AdversarialOptions& o,
                                     const std::vector<double>& theta);

// The whole search for each decision; seeds[i] seeds instance i's initialisation.
std::vector<AdversarialResult> adversarial_attention(models::TextClassifier& model, const std::vector<Decision>& ds,
                                                     const std::vector<uint64_t>& seeds, const AdversarialOptions& o);

}  // namespace lumen::analysis
