// The "Attention is not Explanation" analysis of one model on one dataset split (Jain & Wallace
// 2019; definitions in shared/reference/jain_wallace.md): per instance the attention, gradient
// and leave-one-out importances, their Kendall tau-b correlations with p-values, the
// permutation test and the adversarial attention search; then a summary per predicted class.
// Phases run one after another over the whole split (one progress bar each) on length-sorted
// batches; each phase's wall time is recorded.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "analysis/adversarial_attention.h"
#include "analysis/erasure.h"
#include "analysis/kendall.h"
#include "analysis/permutation.h"
#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/classifier.h"

namespace lumen::analysis {

struct AnalysisOptions {
  // Which analyses to run (attention and the output are always recorded).
  bool gradient = true;
  bool loo = true;
  bool permutation = true;
  bool adversarial = true;
  // Serrano & Smith's (2019) erasure test (analysis/erasure.h); off unless asked for.
  bool erasure = false;
  // Analyse only the first N instances of the split (0 = all).
  int64_t limit = 0;
  // Random permutations per instance.
  int64_t permutations = 100;
  AdversarialOptions adversarial_options;
  // Seed of the permutations and of the adversarial initialisations (instance i uses a seed
  // derived from (seed, i), so results do not depend on batching or --limit).
  uint64_t seed = 0;
  // Instances per encoder batch.
  int64_t batch_size = 64;
  // Fast paths (batched/closed-form leave-one-out, adversarial kernel); false runs the plain
  // twins (for checking; much slower).
  bool fast = true;
  // The attention compared with the importances: -1 = the pooling attention; k >= 0 = layer k
  // of a Transformer, as the attention each token receives (models::received_attention) in
  // head `attention_head` (-1: the mean over heads). Permutation and adversarial analyses
  // always act on the pooling attention.
  int64_t attention_layer = -1;
  int64_t attention_head = -1;
  // With attention_layer >= 0: the layer's effective attention (Brunner et al. 2020,
  // models/effective_attention.h) instead of its raw weights (`lumen analyze --attention effective`).
  bool effective_attention = false;
  // p-value threshold of the "significant" fractions.
  double alpha = 0.05;
  bool progress = true;
  void validate() const;
  Json to_json() const;
};

struct InstanceRecord {
  int64_t index = 0;  // position in the split
  std::vector<std::string> tokens;
  std::vector<int64_t> rationale;  // true rationale token indices (synthetic tasks)
  int64_t label = -1;
  int64_t prediction = 0;
  std::vector<double> probs;
  std::vector<double> attention, gradient, loo;
  // Conicity of the encoder's states over the real tokens (analysis/conicity.h).
  double conicity = 0;
  KendallResult tau_att_grad, tau_att_loo, tau_grad_loo;
  std::optional<PermutationResult> permutation;
  std::optional<AdversarialResult> adversarial;
  std::optional<ErasureResult> erasure;
  Json to_json(const std::vector<std::string>& label_names) const;
};

struct PhaseSeconds {
  double gradient = 0, loo = 0, permutation = 0, adversarial = 0, erasure = 0, statistics = 0;
  double total() const { return gradient + loo + permutation + adversarial + erasure + statistics; }
  Json to_json() const;
};

struct AnalysisResult {
  std::vector<InstanceRecord> records;
  PhaseSeconds seconds;
};

AnalysisResult analyze(models::TextClassifier& model, const std::vector<data::Example>& examples,
                       const data::Vocab& vocab, bool pair, const AnalysisOptions& options);

// Per predicted class and overall: mean / std / significant fraction of each tau, permutation
// and adversarial summaries.
Json summarize(const std::vector<InstanceRecord>& records, const std::vector<std::string>& label_names,
               const AnalysisOptions& options);

// A seed for instance `index` derived from `seed` (splitmix64 of both).
uint64_t instance_seed(uint64_t seed, int64_t index, uint64_t stream);

}  // namespace lumen::analysis
