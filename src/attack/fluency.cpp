#include "attack/fluency.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/vocab.h"

namespace lumen::attack {

namespace {

constexpr int64_t kWindow = 2, kMaxPositions = 24;

// The edited ids and the positions of the edited text an edit touches (a deletion: where the
// next word lands).
void edited(const std::vector<int64_t>& ids, std::vector<perturb::Edit> edits, std::vector<int64_t>& out,
            std::vector<int64_t>& changed) {
  std::stable_sort(edits.begin(), edits.end(), [](const perturb::Edit& a, const perturb::Edit& b) {
    if (a.position != b.position) return a.position < b.position;
    return (a.kind == perturb::EditKind::kInsert) > (b.kind == perturb::EditKind::kInsert);
  });
  const int64_t n = static_cast<int64_t>(ids.size());
  size_t k = 0;
  for (int64_t p = 0; p <= n; ++p) {
    while (k < edits.size() && edits[k].position == p && edits[k].kind == perturb::EditKind::kInsert) {
      changed.push_back(static_cast<int64_t>(out.size()));
      out.push_back(edits[k++].token);
    }
    if (p == n) break;
    if (k < edits.size() && edits[k].position == p) {
      changed.push_back(static_cast<int64_t>(out.size()));
      if (edits[k].kind == perturb::EditKind::kReplace) out.push_back(edits[k].token);
      ++k;
    } else {
      out.push_back(ids[p]);
    }
  }
}

// Positions within the window of `centres`, inside [0, min(n, limit)), at most kMaxPositions.
std::vector<int64_t> around(const std::vector<int64_t>& centres, int64_t n, int64_t limit) {
  std::set<int64_t> pos;
  const int64_t m = std::min(n, limit);
  for (int64_t t : centres) {
    const int64_t c = std::min(t, n - 1);
    for (int64_t u = std::max<int64_t>(0, c - kWindow); u <= std::min<int64_t>(m - 1, c + kWindow); ++u) pos.insert(u);
  }
  std::vector<int64_t> all(pos.begin(), pos.end());
  if (static_cast<int64_t>(all.size()) <= kMaxPositions) return all;
  std::vector<int64_t> out;
  for (int64_t k = 0; k < kMaxPositions; ++k) out.push_back(all[k * all.size() / kMaxPositions]);
  return out;
}

struct Job {
  const std::vector<int64_t>* ids;
  std::vector<int64_t> positions;
};

// Mean negative log-likelihood of each job's positions (each masked once).
std::vector<double> mean_nll(models::MaskedLmImpl& editor, const std::vector<Job>& jobs) {
  const auto& c = editor.config();
  struct Row { size_t job; int64_t t; };
  std::vector<Row> rows;
  for (size_t j = 0; j < jobs.size(); ++j)
    for (int64_t t : jobs[j].positions) rows.push_back({j, t});
  std::vector<double> sum(jobs.size(), 0.0);
  torch::NoGradGuard no_grad;
  for (size_t r0 = 0; r0 < rows.size(); r0 += 256) {
    const size_t r1 = std::min(rows.size(), r0 + 256);
    const int64_t B = static_cast<int64_t>(r1 - r0);
    int64_t T = 0;
    for (size_t r = r0; r < r1; ++r)
      T = std::max<int64_t>(T, std::min<int64_t>(jobs[rows[r].job].ids->size(), c.max_length - 2) + 2);
    at::Tensor ids = torch::zeros({B, T}, torch::kInt64), lengths = torch::zeros({B}, torch::kInt64);
    auto ip = ids.accessor<int64_t, 2>();
    std::vector<int64_t> at_rows, targets;
    for (size_t r = r0; r < r1; ++r) {
      const int64_t b = static_cast<int64_t>(r - r0);
      const auto& x = *jobs[rows[r].job].ids;
      const int64_t n = std::min<int64_t>(x.size(), c.max_length - 2);
      ip[b][0] = data::Vocab::kBos;
      for (int64_t u = 0; u < n; ++u) ip[b][u + 1] = x[u];
      ip[b][n + 1] = data::Vocab::kEos;
      ip[b][rows[r].t + 1] = c.mask_id();
      lengths[b] = n + 2;
      at_rows.push_back(b * T + rows[r].t + 1);
      targets.push_back(x[rows[r].t]);
    }
    const at::Tensor h = editor.hidden(ids, lengths, torch::full({B}, -1, torch::kInt64));
    const at::Tensor lp = torch::log_softmax(
        editor.logits(h.reshape({-1, h.size(2)}).index_select(0, torch::tensor(at_rows))).to(torch::kDouble), 1);
    const at::Tensor picked = lp.gather(1, torch::tensor(targets).unsqueeze(1)).squeeze(1).contiguous();
    const double* pp = picked.data_ptr<double>();
    for (size_t r = r0; r < r1; ++r) sum[rows[r].job] -= pp[r - r0];
  }
  std::vector<double> out(jobs.size(), NAN);
  for (size_t j = 0; j < jobs.size(); ++j)
    if (!jobs[j].positions.empty()) out[j] = sum[j] / static_cast<double>(jobs[j].positions.size());
  return out;
}

}  // namespace

std::vector<double> fluency_ratios(models::MaskedLmImpl& editor, const std::vector<int64_t>& original,
                                   const std::vector<std::vector<perturb::Edit>>& edits) {
  const int64_t limit = editor.config().max_length - 2;
  std::vector<std::vector<int64_t>> texts(edits.size());
  std::vector<Job> jobs;
  for (size_t i = 0; i < edits.size(); ++i) {
    std::vector<int64_t> changed;
    edited(original, edits[i], texts[i], changed);
    std::vector<int64_t> touched;
    for (const auto& e : edits[i]) touched.push_back(e.position);
    jobs.push_back({&original, around(touched, static_cast<int64_t>(original.size()), limit)});
    jobs.push_back({&texts[i], texts[i].empty() ? std::vector<int64_t>{}
                                               : around(changed, static_cast<int64_t>(texts[i].size()), limit)});
  }
  const auto nll = mean_nll(editor, jobs);
  std::vector<double> out(edits.size(), 1.0);
  for (size_t i = 0; i < edits.size(); ++i) {
    const double a = nll[2 * i], b = nll[2 * i + 1];
    if (std::isfinite(a) && std::isfinite(b)) out[i] = std::exp(b - a);
    else if (texts[i].empty()) out[i] = INFINITY;
  }
  return out;
}

double fluency_ratio(models::MaskedLmImpl& editor, const std::vector<int64_t>& original,
                     const std::vector<perturb::Edit>& edits) {
  return fluency_ratios(editor, original, {edits})[0];
}

}  // namespace lumen::attack
