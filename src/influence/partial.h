// Partial results of long influence computations, for `--resume` (issue #12). Each finished
// unit of work (a TracIn checkpoint's contribution, a block of test points' solves, a batch of
// Data Shapley permutations, an influence-check retraining) is written atomically to DIR as
// <hash>.pt (its tensors) and <hash>.json (its whole key, written last), and is reused only when
// the whole key matches: the store's scope (the request: run, options, test points) plus the
// unit's own key. A store without a directory keeps nothing.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::influence {

class PartialStore {
 public:
  PartialStore() = default;
  PartialStore(std::string dir, Json scope);
  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  // The unit's tensors when a finished unit with this key is stored; nullopt otherwise (also
  // for a damaged or partly written unit, which is then recomputed).
  struct Unit {
    std::vector<at::Tensor> tensors;
    Json info;  // small results that are not tensors (e.g. a solver's report)
  };
  std::optional<Unit> load(const Json& key) const;
  void save(const Json& key, const std::vector<at::Tensor>& tensors, const Json& info = nullptr) const;
  // Units reused by load() so far (diagnostics).
  int64_t reused() const { return *reused_; }

 private:
  std::string path_of(const Json& full) const;
  std::string dir_;
  Json scope_;
  std::shared_ptr<int64_t> reused_ = std::make_shared<int64_t>(0);
};

}  // namespace lumen::influence
