// The natural-language-explanation jobs that `lumen train-nle`, `lumen nle` and the server call.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/checkpoint.h"
#include "nle/compose.h"
#include "nle/evaluate.h"
#include "nle/system.h"

namespace lumen::app {

struct TrainNleRequest {
  std::string data;  // an nle data spec (nle/dataset.h)
  std::string out;   // the directory written
  nle::NleTrainOptions train;
  nle::NleEvalOptions eval;
  // Skip the evaluation (train and save only).
  bool no_eval = false;
};

struct TrainNleResult {
  std::string out;
  Json report;  // training logs, timings
  std::optional<nle::NleEvaluation> evaluation;
};

// Loads the data, trains every arrangement, saves OUT, and evaluates on the test split:
// OUT/evaluation.json (summary), OUT/records.jsonl (one line per explanation and arrangement),
// OUT/evaluation.md (the table).
TrainNleResult train_nle(const TrainNleRequest& request);

struct NleExplainRequest {
  std::string text, text_b;
  // Empty: every arrangement the system has.
  std::vector<nle::Arrangement> arrangements;
};

// The learned explanations of one input: {"input", "explanations": [{arrangement, label, probs, explanation}]}.
Json nle_explain(nle::NleSystem& system, const NleExplainRequest& request);

struct ComposeNleRequest {
  std::string text, text_b;
  // Attribution methods consulted (comma-separated).
  std::string methods = "attention,saliency,grad_input,ig,loo,occlusion";
  int64_t top_k = 3;
  nle::ComposeOptions compose;
  // Longest deletion counterfactual searched (tokens removed in consensus order).
  int64_t max_deletions = 5;
  // Optional files to cite: `lumen counterfactual --out` counterfactuals.jsonl (or its --json
  // output), `lumen influence --out` influence.json (default: RUN/influence/influence.json when
  // it exists). A file without this text is not cited.
  std::string counterfactuals, influence;
};

// Predict-then-explain for a classifier run: explains the text with `methods`, searches the
// smallest deletion (in the methods' consensus order) that flips the prediction, looks the text
// up in the given files, and composes the sentences. {"text", "hedged", "overlap", "claims",
// "instance": the explain instance, "sources"}.
Json compose_nle(const models::Run& run, const ComposeNleRequest& request);

}  // namespace lumen::app
