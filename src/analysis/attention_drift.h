// Attention across training (the survey's 3.1.2.3: how attention moves as a model learns): the
// pooling attention of every instance under each saved checkpoint of a run, compared with the
// final model's by Kendall tau-b and Jensen-Shannon divergence; and two runs compared on the
// same instances (another seed, encoder or fix).
#pragma once
#include <cstdint>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/classifier.h"

namespace lumen::analysis {

// The pooling attention over each example's real tokens (the first text's, as the analyses
// read it), batched; requires pooling attention.
std::vector<std::vector<double>> pooling_attention(models::TextClassifier& model, const std::vector<data::Example>& examples,
                                                   const data::Vocab& vocab, bool pair, int64_t batch_size = 64);

// How alike two attentions of the same instances are: mean and median tau-b (instances where
// it is undefined, e.g. constant attention, are counted apart) and mean and median JSD.
struct AttentionAgreement {
  int64_t instances = 0, tau_undefined = 0;
  double tau_mean = 0, tau_median = 0, jsd_mean = 0, jsd_median = 0;
  Json to_json() const;
};
// Throws InvalidArgument when the lists differ in size or an instance in length.
AttentionAgreement compare_attention(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b);

}  // namespace lumen::analysis
