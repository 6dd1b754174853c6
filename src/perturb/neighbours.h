// Word swaps from embedding neighbours (TextFooler's transformation): for every vocabulary word
// its K nearest words by cosine in an embedding space (the model's own embedding, or word
// vectors the user gives), precomputed once as a [V, K] table (not a V x V matrix).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace lumen::perturb {

struct NeighbourTable {
  at::Tensor ids;     // [V, K] int64, -1 where fewer than K eligible words exist
  at::Tensor cosine;  // [V, K] float32, descending per row
  at::Tensor unit;    // [V, E] float32: the unit vectors the cosines were taken on (0 rows: no vector)
  int64_t k() const { return ids.defined() ? ids.size(1) : 0; }
  // Cosine between words a and b (0 when either has no vector).
  double cosine_of(int64_t a, int64_t b) const;
};

// vectors [V, E]; eligible[v]: word v may be a neighbour and has neighbours (specials, the
// number placeholder, punctuation and words without a vector are not). Rows are split over the
// cores in blocks of one product each.
NeighbourTable build_neighbours(const at::Tensor& vectors, const std::vector<char>& eligible, int64_t k);

}  // namespace lumen::perturb
