// Counterfactuals as jobs (`lumen counterfactual`, the server's POST /api/counterfactual): the
// run's editor loaded, MiCE / Polyjuice / CREST-style edits generated for the examples, every
// reported counterfactual re-checked, the summary and records, and the files of --out.
#pragma once
#include <string>
#include <vector>

#include "attack/counterfactual.h"
#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct CounterfactualRequest {
  attack::CounterfactualOptions options;  // its `target` is set from `target`
  // The label to reach, by name (empty: the other / runner-up class).
  std::string target;
  // The editor directory (empty: RUN/editor, from `lumen train-editor`).
  std::string editor;
};

struct CounterfactualOutcome {
  Json summary;  // attack::summarize_counterfactuals with run and editor
  Json records;  // one record per example (counterfactuals.jsonl's lines)
};

// Counterfactuals of `examples`. Throws InvalidArgument (bad options, a target that is not a
// label of the run), IoError / ModelError (no editor, an editor of another vocabulary) and
// ModelError when a counterfactual fails the re-check.
CounterfactualOutcome counterfactuals(const models::Run& run, const std::vector<data::Example>& examples,
                                      const CounterfactualRequest& request);

// OUT/counterfactuals.jsonl and OUT/summary.json.
void write_counterfactuals(const std::string& out, const CounterfactualOutcome& outcome);

// The counterfactuals of one typed text ("FIRST<TAB>SECOND" for pairs) with the run's editor:
// {"available": true, "method", "result": the record, "verification"}, or, when the run has no
// editor, {"available": false, "hint"}.
Json counterfactual_text(const models::Run& run, const std::string& text, const CounterfactualRequest& request);

}  // namespace lumen::app
