#include "analysis/attention_drift.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "analysis/decision.h"
#include "analysis/kendall.h"
#include "analysis/permutation.h"
#include "core/error.h"
#include "data/batch_plan.h"
#include "data/encoded_set.h"
#include "models/eval_guard.h"

namespace lumen::analysis {

std::vector<std::vector<double>> pooling_attention(models::TextClassifier& model, const std::vector<data::Example>& examples,
                                                   const data::Vocab& vocab, bool pair, int64_t batch_size) {
  if (!model->has_pooling_attention()) throw InvalidArgument("attention drift: the model has no pooling attention");
  models::EvalGuard eval(model);
  torch::NoGradGuard ng;
  const data::EncodedSet set = data::EncodedSet::from(examples, vocab, pair);
  const std::vector<int64_t> lengths = set.lengths();
  std::vector<std::vector<double>> out(examples.size());
  for (const auto& rows : data::plan_batches(data::length_order(lengths), lengths, {batch_size, 0})) {
    const data::Batch batch = set.batch(rows);
    const models::Encoded enc = model->encode(model->embed(batch.ids), batch, {});
    std::vector<Decision> ds = make_decisions(model, enc, batch);
    for (size_t r = 0; r < rows.size(); ++r) out[rows[r]] = std::move(ds[r].attention);
  }
  return out;
}

AttentionAgreement compare_attention(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) throw InvalidArgument("attention drift: the two attentions cover different instances");
  AttentionAgreement g;
  std::vector<double> taus, jsds;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size())
      throw InvalidArgument("attention drift: instance " + std::to_string(i) + " has " + std::to_string(a[i].size()) + " and " +
                            std::to_string(b[i].size()) + " weights");
    ++g.instances;
    jsds.push_back(jsd(a[i].data(), b[i].data(), static_cast<int64_t>(a[i].size())));
    const KendallResult k = kendall_tau_b(a[i], b[i]);
    if (k.tau) taus.push_back(*k.tau);
    else ++g.tau_undefined;
  }
  auto mean = [](const std::vector<double>& v) { return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  g.tau_mean = mean(taus);
  g.tau_median = median(taus);
  g.jsd_mean = mean(jsds);
  g.jsd_median = median(jsds);
  return g;
}

Json AttentionAgreement::to_json() const {
  const bool any_tau = instances > tau_undefined;
  return {{"instances", instances},
          {"tau_mean", any_tau ? Json(tau_mean) : Json(nullptr)},
          {"tau_median", any_tau ? Json(tau_median) : Json(nullptr)},
          {"tau_undefined", tau_undefined},
          {"jsd_mean", instances ? Json(jsd_mean) : Json(nullptr)},
          {"jsd_median", instances ? Json(jsd_median) : Json(nullptr)}};
}

}  // namespace lumen::analysis
