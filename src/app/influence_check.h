// Influence methods validated against retraining, as a job (`lumen influence-check`): the run's
// splits as it was trained on them, influence::check_influence, OUT (the JSON) and, with
// --resume, the finished retrainings of an interrupted check (OUT.partial/).
#pragma once
#include <functional>
#include <string>

#include "core/json.h"
#include "influence/check.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct InfluenceCheckRequest {
  influence::CheckOptions options;
  std::string out;  // the JSON file written ("" writes nothing)
  bool resume = false;  // with `out`: reuse OUT.partial/'s finished retrainings
  std::function<void(const std::string&)> log;  // one-line progress messages
  void validate() const;
};

Json run_influence_check(models::Run& run, const InfluenceCheckRequest& request);

}  // namespace lumen::app
