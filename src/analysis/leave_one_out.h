// Leave-one-out importance (Jain & Wallace 2019, section 3.1): token t is deleted (the sequence
// gets one token shorter and the attention is recomputed over the rest), the whole model runs
// again, and the importance is the TVD between the new and the original output distributions
// (binary: |sigmoid(new) - sigmoid(old)|). Tokens of the second text of a pair are not deleted.
//
// Two paths that a test holds equal:
//   plain: one deletion at a time, each a forward pass of a single sequence;
//   fast:  every deletion of many instances through the variant evaluator (perturb/), which
//          reuses a fused BiLSTM's unchanged prefix and suffix states; for an encoder without context
//          (Average) the states do not change when a token is deleted, so only the attention
//          is renormalised over the remaining tokens and the decoder re-applied, with no
//          encoder pass at all.
#pragma once
#include <vector>

#include "analysis/decision.h"
#include "data/encoded_set.h"

namespace lumen::analysis {

struct LooOptions {
  bool fast = true;
  // Deleted sequences per group of instances on the fast path (memory stays flat in the corpus).
  int64_t max_rows = 2048;
  // Padded positions per forward pass of the variant evaluator.
  int64_t max_tokens = 16384;
};

// importance[i][t] for rows `rows` of `set` and every real token t; `original` holds each row's
// output distribution. A one-token text has no deletion with a defined output: NaN.
std::vector<std::vector<double>> leave_one_out(models::TextClassifier& model, const data::EncodedSet& set,
                                               const std::vector<int64_t>& rows,
                                               const std::vector<std::vector<double>>& original,
                                               const LooOptions& options = {});

// The fast path for encoders without context, from the encoder results of the batch of `rows`.
std::vector<std::vector<double>> leave_one_out_context_free(models::TextClassifier& model,
                                                            const models::Encoded& encoded, const data::Batch& batch,
                                                            const std::vector<std::vector<double>>& original);

}  // namespace lumen::analysis
