// Predictions for typed texts (`lumen predict`, and the server's predict request): the label
// and every class's probability, in input order.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct Prediction {
  std::string text;
  std::string label;                  // the most probable class
  int64_t label_index = 0;            // its index in the run's label order
  std::vector<double> probabilities;  // per class, in the run's label order
  Json to_json(const std::vector<std::string>& label_names) const;
};

struct PredictionResult {
  std::vector<std::string> label_names;
  std::vector<Prediction> predictions;
  // [{"text", "label", "probabilities": {label: p}}, ...], the CLI's --json form.
  Json to_json() const;
};

// Tokenizes `texts` as the run was ("FIRST<TAB>SECOND" for pair models) and predicts them in
// length-sorted batches (at most `batch_rows` texts each) without autograd. Throws
// InvalidArgument when `texts` is empty and DataError for a text without tokens. `edit`: an
// attention edit passed to every forward pass (explain::make_attention_edit); empty: none.
PredictionResult predict(const models::Run& run, const std::vector<std::string>& texts, int64_t batch_rows = 64,
                         const models::AttentionEdit& edit = {});

}  // namespace lumen::app
