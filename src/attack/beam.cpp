// Beam search (TextAttack's BeamSearch): each step, every candidate at every modifiable position
// of every text in the beam (CLARE's three actions with the editor-actions transformation) is
// evaluated, and the `beam_width` texts with the lowest probability of the true class form the
// next beam; the search ends when one changes the prediction (the one with the lowest true-class
// probability is kept), when no candidate is left (word budget, every position used) or at the
// query budget. Width 1 is TextAttack's GreedySearch. All beams of a group share one evaluator
// call per step.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "attack/attacker.h"

namespace lumen::attack::detail {

void Attacker::beam(std::vector<State>& states) {
  auto act = active(states);
  std::vector<std::vector<State>> beams(act.size());
  for (size_t r = 0; r < act.size(); ++r) beams[r] = {*act[r]};
  while (true) {
    std::vector<State*> members;       // every beam text of every state still searching
    std::vector<size_t> member_state;  // its state (index into act)
    for (size_t r = 0; r < act.size(); ++r)
      if (act[r]->active)
        for (auto& m : beams[r]) {
          members.push_back(&m);
          member_state.push_back(r);
        }
    if (members.empty()) return;
    // Candidates of every member, within the word and query budgets.
    std::vector<Candidate> cands;
    std::vector<int64_t> owner;
    if (o_.transformation == Transformation::kEditorActions) {
      cands = clare_candidates(members, owner, nullptr, o_.candidates);
    } else {
      for (size_t m = 0; m < members.size(); ++m) {
        const State& s = *members[m];
        if (s.result.words_changed() >= s.budget_words) continue;
        for (int64_t t = 0; t < static_cast<int64_t>(s.original_ids.size()); ++t) {
          if (s.modified[t] || !constraints_->modifiable(s.result.original[t])) continue;
          for (auto& c : candidates(s, t)) {
            cands.push_back(std::move(c));
            owner.push_back(static_cast<int64_t>(m));
          }
        }
      }
    }
    std::vector<perturb::Variant> vs;
    std::vector<int64_t> which;  // candidate of each variant
    std::vector<int64_t> used(act.size(), 0);
    for (size_t i = 0; i < cands.size(); ++i) {
      const size_t r = member_state[owner[i]];
      const State& s = *members[owner[i]];
      if (s.result.words_changed() + (cands[i].merge ? 2 : 1) > s.budget_words) continue;
      if (used[r] >= act[r]->remaining_queries(o_)) continue;
      ++used[r];
      vs.push_back(with(owner[i], s, cands[i]));
      which.push_back(static_cast<int64_t>(i));
    }
    for (size_t r = 0; r < act.size(); ++r) {
      if (!act[r]->active || used[r] > 0) continue;
      // Nothing left to try: the best text of the beam is the result.
      State& s = *act[r];
      const int64_t q = s.result.queries;
      auto best = std::min_element(beams[r].begin(), beams[r].end(),
                                   [](const State& a, const State& b) { return a.p_label < b.p_label; });
      s = *best;
      s.result.queries = q;
      fail(s, s.remaining_queries(o_) <= 0 ? "query budget"
                                            : s.result.edits.empty() ? "no candidate passes the constraints"
                                                                     : "no swap changes the prediction");
    }
    if (vs.empty()) return;
    const at::Tensor p = evaluate(members, vs);
    for (size_t r = 0; r < act.size(); ++r) act[r]->result.queries += used[r];
    const int64_t C = p.size(1);
    const double* pp = p.data_ptr<double>();
    // Per state: its variants ordered by the true class's probability.
    std::vector<std::vector<int64_t>> mine(act.size());
    for (size_t j = 0; j < vs.size(); ++j) mine[member_state[vs[j].row]].push_back(static_cast<int64_t>(j));
    std::vector<std::vector<State>> next(act.size());
    for (size_t r = 0; r < act.size(); ++r) {
      if (mine[r].empty()) continue;
      State& s = *act[r];
      const int64_t y = s.result.label;
      auto& v = mine[r];
      std::stable_sort(v.begin(), v.end(), [&](int64_t a, int64_t b) { return pp[a * C + y] < pp[b * C + y]; });
      auto grow = [&](int64_t j) {
        State m = *members[vs[j].row];
        apply(m, cands[which[j]], row(p, j));
        return m;
      };
      // The best variant that changes the prediction (fluent when required) ends the search.
      bool done = false;
      for (int64_t j : v) {
        const double* q = pp + j * C;
        if (std::max_element(q, q + C) - q == y) continue;
        if (o_.max_fluency_ratio > 0 && first_fluent(*members[vs[j].row], {&cands[which[j]]}) < 0) continue;
        const int64_t queries = s.result.queries;
        s = grow(j);
        s.result.queries = queries;
        succeed(s);
        done = true;
        break;
      }
      if (done) continue;
      for (int64_t j : v) {
        if (static_cast<int64_t>(next[r].size()) >= o_.beam_width) break;
        if (o_.max_fluency_ratio > 0 && first_fluent(*members[vs[j].row], {&cands[which[j]]}) < 0) continue;
        next[r].push_back(grow(j));
      }
      if (next[r].empty()) {
        fail(s, "no fluent candidate");
        continue;
      }
    }
    for (size_t r = 0; r < act.size(); ++r)
      if (act[r]->active) beams[r] = std::move(next[r]);
  }
}

}  // namespace lumen::attack::detail
