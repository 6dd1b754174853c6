// Manual editing of attention weights (survey 3.1.2: see what the model does when attention is
// changed by hand). Edits name token positions of the first text (0-based, real tokens only)
// and act in every forward pass they are passed to (ForwardOptions::edit), after any intervention:
//   zero:I        the pooling attention on token I set to 0, the rest renormalised
//   zero:L:I      in self-attention layer L, every query's weight on token I set to 0 (renormalised)
//   uniform:pool  the pooling attention uniform over the real tokens
//   uniform:L[:H] self-attention layer L (head H, or every head) uniform over the non-padding keys
//   pin:W1,W2,..  the pooling attention pinned to the given weights (token i gets Wi, renormalised
//                 over the real tokens; missing ones 0)
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/classifier.h"

namespace lumen::explain {

struct AttentionEditSpec {
  enum class Kind { kZero, kUniform, kPin };
  Kind kind = Kind::kZero;
  int64_t layer = -1;     // -1: the pooling attention
  int64_t head = -1;      // -1: every head
  int64_t position = -1;  // token index (zero)
  std::vector<double> weights;  // pin
  std::string text;             // as given
};

// Parses one edit; throws InvalidArgument with the accepted forms.
AttentionEditSpec parse_attention_edit(const std::string& s);
// Checks the edits against the model (layers, heads, attention present); throws InvalidArgument.
void validate_edits(const std::vector<AttentionEditSpec>& edits, const models::TextClassifier& model);
// The edit as a function for ForwardOptions::edit / ExplainOptions::attention_edit (passed
// per call; the model holds no edit). Empty `edits`: an empty function.
models::AttentionEdit make_attention_edit(const std::vector<AttentionEditSpec>& edits);

}  // namespace lumen::explain
