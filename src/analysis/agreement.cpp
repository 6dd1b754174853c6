// Agreement between attribution methods: per pair of methods, the mean over instances of the
// Kendall tau-b between their scores and of the overlap of their top-share tokens.
#include <algorithm>
#include <iterator>

#include "analysis/explanation_metrics.h"
#include "analysis/kendall.h"

namespace lumen::analysis {

Json agreement(const std::vector<NamedExplainer>& methods, const Attributions& A, double top_share) {
  const size_t M = methods.size();
  Json out = Json::array();
  for (size_t a = 0; a < M; ++a)
    for (size_t b = a + 1; b < M; ++b) {
      std::vector<double> taus, overlaps;
      for (size_t i = 0; i < A[a].size(); ++i) {
        const auto t = kendall_tau_b(A[a][i], A[b][i]);
        if (t.tau) taus.push_back(*t.tau);
        const int64_t kk = top_count(top_share, static_cast<int64_t>(A[a][i].size()));
        const auto oa = order_by_score(A[a][i]), ob = order_by_score(A[b][i]);
        std::vector<int64_t> ta(oa.begin(), oa.begin() + kk), tb(ob.begin(), ob.begin() + kk);
        std::sort(ta.begin(), ta.end());
        std::sort(tb.begin(), tb.end());
        std::vector<int64_t> both;
        std::set_intersection(ta.begin(), ta.end(), tb.begin(), tb.end(), std::back_inserter(both));
        overlaps.push_back(static_cast<double>(both.size()) / kk);
      }
      out.push_back({{"a", methods[a].name},
                     {"b", methods[b].name},
                     {"kendall_tau", number_or_null(finite_mean(taus))},
                     {"top_overlap", number_or_null(finite_mean(overlaps))},
                     {"defined", taus.size()}});
    }
  return out;
}

}  // namespace lumen::analysis
