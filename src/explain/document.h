// The result of `lumen explain` as one JSON document, shared by the CLI (--json), the HTML view
// and tests: per instance the tokens, the prediction, every method's TokenAttribution, the
// attention maps (pooling attention, every self-attention layer and head, rollout and flow
// matrices over the positions <s> tokens </s>) and, with attention edits, the prediction and
// attributions of the edited model beside the original ones.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "explain/attention_edit.h"
#include "explain/explainer.h"

namespace lumen::explain {

struct DocumentOptions {
  std::vector<std::string> methods;
  ExplainOptions explain;
  std::vector<AttentionEditSpec> edits;
  // Rows per batch handed to the methods.
  int64_t batch_size = 32;
  // Attention maps are written for texts of at most this many positions; flow matrices (one
  // max-flow per pair of positions) for at most `flow_matrix_positions`.
  int64_t map_positions = 160;
  int64_t flow_matrix_positions = 40;
  bool progress = false;
};

// Explains `examples` (tokens filled; labels optional) with every method. Targets: the
// predicted class unless options.explain.targets is set (one per example).
Json explain_document(models::TextClassifier& model, const std::vector<data::Example>& examples, const data::Vocab& vocab,
                      const std::vector<std::string>& label_names, const DocumentOptions& options);

}  // namespace lumen::explain
