// Data influence as a job (`lumen influence`): the run's training set exactly as it was trained
// on, the test examples (typed texts or a split) and the losses explained, one influence
// method (influence/influence.h), the influence document, and with an output directory its
// files, --resume of a finished request and of the finished parts of an interrupted one.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "influence/influence.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct InfluenceRequest {
  influence::InfluenceOptions options;
  // Test texts ("FIRST<TAB>SECOND" for pairs), or the first `limit` examples of `split` of the
  // data spec `test_data` ("run": the run's own data); not both.
  std::vector<std::string> texts;
  std::string test_data, split = "test";
  int64_t limit = 10;
  // The loss explained: auto (the gold label when known, else the prediction) | gold | predicted.
  std::string explain = "auto";
  // Write OUT/influence.json and OUT/influence.html ("" writes nothing); OUT/partial holds the
  // finished parts of long methods while they run.
  std::string out;
  // With `out`: reuse OUT/influence.json when it holds this request, else the finished parts.
  bool resume = false;
  // Stage, done, total of the long phases.
  std::function<void(const std::string&, int64_t, int64_t)> progress;
  // What the job says as it goes (`warning` true for what the user should act on).
  std::function<void(const std::string& message, bool warning)> note;
  // Throws InvalidArgument naming the field.
  void validate() const;
};

struct InfluenceOutcome {
  Json doc;  // the influence document (influence/document.h) with run and request
  influence::InfluenceResult result;  // empty when `reused`
  // A finished result read back by --resume (nothing recomputed).
  bool reused = false;
  // Whether the solver converged, and its diagnosis when not.
  bool converged = true;
  std::string diagnosis;
  // The training examples' labels (rows of the training set), for naming a value's class.
  std::vector<int64_t> train_labels;
};

// Throws InvalidArgument (bad request), DataError (a test text of unknown words only) and what
// the method throws.
InfluenceOutcome run_influence(const models::Run& run, const InfluenceRequest& request);

}  // namespace lumen::app
