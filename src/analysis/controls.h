// The controls of Wiegreffe & Pinter (2019), "Attention is not not Explanation", that tell how
// much weight the Jain & Wallace results can bear, run for a trained base model on its own data
// and vocabulary:
//   1. a uniform-attention baseline (same model, attention fixed to 1/n): if it does as well,
//      the task does not need attention and moving it proves little (section 3.1);
//   2. attention variance across random seeds: the base configuration trained again with other
//      seeds, and per test instance the JSD between their attention and the base's, with the
//      output TVD: the background against which adversarial JSDs should be read (section 3.2);
//   3. attention in a no-context model: an Average (MLP) encoder trained with its own learned
//      attention, with uniform attention, and with the base model's attention frozen into it;
//      if the frozen distributions beat uniform, they carry information about the tokens that
//      is not tied to the base model (section 3.3).
// The result is plain data (ControlsResult, written as controls.json); report/controls_sections
// turns it into the report's sections.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "models/checkpoint.h"
#include "train/metrics.h"

namespace lumen::analysis {

struct ControlsOptions {
  // Extra seeds of the base configuration (0 skips the variance control).
  int64_t seeds = 3;
  bool uniform = true;
  bool frozen = true;
  // Training epochs of the control models (0 = the base run's setting).
  int64_t epochs = 0;
  // Seed of the first control model; seed s + k for the k-th.
  uint64_t seed = 1000;
  bool progress = true;
  void validate() const;
};

// One retrained seed of the base configuration, and per test instance the JSD between its
// pooling attention and the base model's and the TVD between their outputs.
struct SeedControl {
  uint64_t seed = 0;
  train::ClassificationMetrics metrics;
  std::vector<double> jsd, tvd;
};

// The no-context (Average) model trained with its own attention, with uniform attention, and
// with the base model's attention frozen into it.
struct FrozenControl {
  train::ClassificationMetrics own, uniform, frozen;
};

struct ControlsResult {
  std::string encoder, attention;  // the base model's
  train::ClassificationMetrics base;
  std::optional<train::ClassificationMetrics> uniform;
  std::vector<SeedControl> seeds;
  std::optional<FrozenControl> frozen;
  // {"kind": "lumen.controls", "base": {encoder, attention, metrics}, "uniform": metrics | null,
  //  "seeds": [{seed, metrics, jsd, tvd}], "frozen": {own, uniform, frozen} | null}
  Json to_json() const;
};

// Trains and evaluates the control models on `ds` (tokenized as the base run was, labels mapped
// to its label names). `log` receives one line per trained model.
ControlsResult run_controls(models::Run& base, const data::Dataset& ds, const ControlsOptions& options,
                            const std::function<void(const std::string&)>& log);

}  // namespace lumen::analysis
