// Attention across training as a job (`lumen drift`): the split loaded as the run was trained,
// the pooling attention under every saved checkpoint and under other runs, compared with the
// final model's (analysis/attention_drift.h); OUT/drift.json and OUT/drift.html.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct DriftRequest {
  std::string data;  // a data spec (empty or "run": the run's own data)
  std::string split = "test";
  int64_t limit = 200;  // the first N instances (0 = all)
  // Other run directories compared with the run on the same instances.
  std::vector<std::string> compare;
  // Write drift.json and drift.html here ("" writes nothing).
  std::string out;
};

// {"kind": "lumen.attention_drift", "run", "data", "split", "instances", "final_epoch",
//  "checkpoints": [{"epoch", agreement with the final model}], "compare": [{"run", agreement}]}.
// Throws InvalidArgument for a model without pooling attention or runs that tokenize the
// instances differently.
Json attention_drift(const models::Run& run, const DriftRequest& request);

}  // namespace lumen::app
