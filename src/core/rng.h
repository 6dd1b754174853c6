// Lumen's own random generator (splitmix64 seeding a xoshiro256**). Splits, shuffles and
// synthetic data use it, never LibTorch's stream, so results do not change between releases.
#pragma once
#include <cstdint>
#include <vector>

namespace lumen {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  // Next 64 random bits.
  uint64_t next_u64();
  // Uniform integer in [0, n); n must be > 0.
  uint64_t uniform_int(uint64_t n);
  // Uniform double in [0, 1).
  double uniform();
  // Standard normal (Box-Muller).
  double normal();
  // Fisher-Yates shuffle in place.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_int(i)]);
  }

 private:
  uint64_t s_[4];
};

}  // namespace lumen
