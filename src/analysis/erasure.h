// Serrano & Smith's (2019) erasure test of attention ("Is Attention Interpretable?"): erase
// pooling-attention weights (zero them and renormalise the rest) and see when the decision
// flips. The encoder states are kept; only the decoder is re-applied (as in the permutation
// test), so every erasure of an instance is one batched decode.
//   Single weight: erase the top-attended item i* and, separately, a random other item r;
//   JS(p, p without i*) - JS(p, p without r) and whether each erasure flips the decision.
//   Multiple weights: for each ranking of the items, erase its top k for k = 1, 2, ... until
//   the decision flips; the fraction of the items and of the attention mass erased then, or
//   no flip before a single item is left.
// Rankings: attention; gradient (d p_y / d alpha_i, the predicted class's probability against
// each attention weight, Serrano & Smith's); attention x gradient; leave-one-out (the
// instance's LOO importances, when given); random (a permutation drawn from the seed).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/decision.h"
#include "core/json.h"

namespace lumen::analysis {

struct ErasureOrder {
  std::string ranking;  // attention | gradient | attention_gradient | loo | random
  // Items erased when the decision first flips; nullopt when it never flips before one item
  // is left (or the remaining weights sum to zero).
  std::optional<int64_t> removed;
  double fraction = 1;  // removed / n (1 when it never flips)
  double mass = 1;      // attention mass of the erased items (1 when it never flips)
};

struct ErasureResult {
  int64_t top = -1, random = -1;  // i* and r (r = -1 with a single item)
  double jsd_top = 0, jsd_random = 0;
  bool flip_top = false, flip_random = false;
  std::vector<ErasureOrder> orders;
  // JS(p, p without i*) - JS(p, p without r): positive when the top weight matters more.
  double delta_jsd() const { return jsd_top - jsd_random; }
  Json to_json() const;
};

// The attention weights with the items in `erased` zeroed and the rest renormalised; empty when
// the rest sum to zero.
std::vector<double> erase_weights(const std::vector<double>& attention, const std::vector<int64_t>& erased);

// d p_y / d alpha_t for the predicted class y at the model's own attention (closed form for
// affine decoders, autograd through the decoder otherwise).
std::vector<double> attention_gradient(models::TextClassifier& model, const Decision& d);

// The erasure test of one instance; `loo` (may be empty) adds the leave-one-out ranking. `fast`
// (affine decoders): each ranking's erasures as running sums, O(n * classes), stopping at the
// flip; otherwise (the plain twin, and every pair model) every erasure decoded in one batch.
ErasureResult erasure_test(models::TextClassifier& model, const Decision& d, const std::vector<double>& loo, uint64_t seed,
                           bool fast = true);

// The rankings' names, in the order of ErasureResult::orders (loo only when given).
std::vector<std::string> erasure_rankings(bool with_loo);

}  // namespace lumen::analysis
