// The permutation test (Jain & Wallace 2019, section 4.1): keep the encoder states, shuffle the
// attention weights over the real tokens, and measure how far the output moves (TVD; binary:
// |delta sigmoid|). The statistic of an instance is the median over the permutations. The
// decoder is re-applied to the shuffled weights directly (no encoder pass): for affine decoders
// in closed form, logits = sum_t a_pi(t) token_logits[t] + bias.
#pragma once
#include <cstdint>
#include <vector>

#include "analysis/decision.h"

namespace lumen::analysis {

struct PermutationResult {
  double median_tvd = 0;  // median over the permutations
  double mean_tvd = 0;
  double max_attention = 0;
  // The output TVD of each permutation, in the order drawn (the distribution the statistics
  // summarise; the explorer draws it).
  std::vector<double> tvds;
};

// Output TVDs of the given permutations (each a permutation of 0..n-1; weight t becomes
// attention[perm[t]]).
std::vector<double> permutation_tvds(models::TextClassifier& model, const Decision& d,
                                     const std::vector<std::vector<int64_t>>& perms);

// `count` uniformly random permutations drawn from Rng(seed).
PermutationResult permutation_test(models::TextClassifier& model, const Decision& d, int64_t count, uint64_t seed);

double median(std::vector<double> v);

}  // namespace lumen::analysis
