// Plausibility against known rationales: tokens ranked by |score| (cues for and against the
// class both count); token precision/recall/F1 of the top-|rationale| tokens and the average
// precision (AUPRC) of |scores|.
#include <algorithm>
#include <cmath>

#include "analysis/explanation_metrics.h"

namespace lumen::analysis {

PlausibilityResult plausibility(const std::vector<data::Example>& examples, const std::vector<NamedExplainer>& methods,
                                const Attributions& A) {
  PlausibilityResult r;
  r.plausibility = Json::object();
  r.token_f1.assign(methods.size(), std::nan(""));
  const bool any = std::any_of(examples.begin(), examples.end(), [](const auto& e) { return !e.rationale.empty(); });
  if (!any) return r;
  for (size_t m = 0; m < methods.size(); ++m) {
    std::vector<double> f1, ap;
    for (size_t i = 0; i < examples.size(); ++i) {
      const auto& rationale = examples[i].rationale;
      if (rationale.empty()) continue;
      std::vector<double> magnitude;
      for (double v : A[m][i]) magnitude.push_back(std::abs(v));
      f1.push_back(rationale_token_f1(A[m][i], rationale));
      ap.push_back(average_precision(magnitude, rationale));
    }
    r.token_f1[m] = finite_mean(f1);
    r.plausibility[methods[m].name] = {{"token_f1", number_or_null(r.token_f1[m])},
                                       {"auprc", number_or_null(finite_mean(ap))}};
  }
  return r;
}

}  // namespace lumen::analysis
