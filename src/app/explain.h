// Explanations of typed texts or a data split (`lumen explain`, the server's explain request):
// every chosen method's token attributions, the attention maps and, with attention edits, the
// edited model's prediction and attributions beside the original ones. The result is the
// explain document (explain/document.h), the JSON of `lumen explain --json`.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "explain/options.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct ExplainRequest {
  // Typed texts ("FIRST<TAB>SECOND" for pair models), or, when `data` is set, the first `limit`
  // examples (0 = all) of `split` of the data spec `data` ("run": the run's own data).
  std::vector<std::string> texts;
  std::string data, split = "test";
  int64_t limit = 10;
  // Comma-separated method names or "all" (the methods this model supports).
  std::string methods = "attention,rollout,flow,saliency,grad_input,ig,smoothgrad,loo,occlusion,lime,kernel_shap,grad_sam,att_attr";
  explain::ExplainOptions options;
  // Explain this class (a label name) instead of each text's predicted class.
  std::string target;
  // Attention edits (explain/attention_edit.h forms: zero:I, zero:L:I, uniform:pool,
  // uniform:L[:H], pin:W1,W2,...), passed per call to every forward pass of the edited pass.
  std::vector<std::string> edits;
  int64_t batch_size = 32;
  // Attention maps for texts of at most this many positions (explain::DocumentOptions).
  int64_t map_positions = 160;
  bool progress = false;
  // Throws InvalidArgument naming the field.
  void validate() const;
};

// The explain document for the request, with "run" set to the run's directory. Throws
// InvalidArgument (request out of range, unknown method or label, bad edit) and DataError
// (a text without tokens, an empty split).
Json explain(const models::Run& run, const ExplainRequest& request);

}  // namespace lumen::app
