#include "app/explain.h"

#include <algorithm>

#include "app/inputs.h"
#include "core/error.h"
#include "explain/document.h"
#include "explain/explainer.h"

namespace lumen::app {

void ExplainRequest::validate() const {
  if (!texts.empty() && !data.empty()) throw InvalidArgument("explain: give texts or --data, not both");
  if (texts.empty() && data.empty()) throw InvalidArgument("explain: no texts given (arguments, stdin, or --data)");
  if (limit < 0) throw InvalidArgument("explain: limit must be >= 0");
  if (batch_size < 1) throw InvalidArgument("explain: batch_size must be >= 1");
  if (map_positions < 0) throw InvalidArgument("explain: map_positions must be >= 0");
  options.validate();
}

Json explain(const models::Run& run, const ExplainRequest& r) {
  r.validate();
  const std::vector<data::Example> examples = r.data.empty() ? examples_from_texts(run, r.texts, "explain")
                                                             : split_examples(run, r.data, r.split, r.limit, "explain");
  explain::DocumentOptions d;
  d.methods = explain::parse_methods(r.methods, run.model);
  d.explain = r.options;
  d.batch_size = r.batch_size;
  d.map_positions = r.map_positions;
  d.progress = r.progress;
  for (const auto& e : r.edits) d.edits.push_back(explain::parse_attention_edit(e));
  if (!r.target.empty()) {
    const auto it = std::find(run.label_names.begin(), run.label_names.end(), r.target);
    if (it == run.label_names.end()) throw InvalidArgument("explain: target '" + r.target + "' is not a label of this run");
    d.explain.targets.assign(examples.size(), it - run.label_names.begin());
  }
  models::TextClassifier model = run.model;  // a handle: the document evaluates it in eval mode
  Json doc = explain::explain_document(model, examples, run.vocab, run.label_names, d);
  doc["run"] = run.dir;
  return doc;
}

}  // namespace lumen::app
