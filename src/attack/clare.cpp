// CLARE (Li et al. 2021): contextualized perturbations by a masked language model, three
// actions at each position: replace the word, insert a word before it, merge it with the next
// word into one; each filled by the editor's top words above the recipe's least confidence per
// action.
//   1. every (position, action) at the `clare_positions` most important positions (TextFooler's
//      deletion score) is filled with its `clare_score_fills` most probable words, which are
//      evaluated; its score is the largest drop of the true class's probability among them;
//   2. in order of score, each action still possible (its positions untouched) is filled again
//      in the current text and its best fill applied when it lowers the true class, until the
//      prediction changes or the word budget or query budget runs out.
// TextAttack's recipe instead re-scores every action after each edit (its GreedySearch), which
// is `--search beam --beam-width 1` here.
#include <algorithm>
#include <cmath>

#include "attack/attacker.h"

namespace lumen::attack::detail {

namespace {
constexpr int kReplace = 0, kInsert = 1, kMerge = 2;
}  // namespace

std::vector<Candidate> Attacker::clare_candidates(const std::vector<State*>& group, std::vector<int64_t>& owner,
                                                  const std::vector<std::vector<int64_t>>* only, int64_t fills) {
  const auto t0 = Clock::now();
  const int64_t mask = editor_->model->config().mask_id();
  struct Site { size_t r; int64_t p; int action; };
  std::vector<Site> sites;
  std::vector<std::vector<int64_t>> masked;
  std::vector<int64_t> exclude;
  for (size_t r = 0; r < group.size(); ++r) {
    const State& s = *group[r];
    const int64_t n = static_cast<int64_t>(s.original_ids.size());
    std::vector<int64_t> codes;
    if (only) codes = (*only)[r];
    else
      for (int64_t p = 0; p <= n; ++p)
        for (int a = 0; a < 3; ++a) codes.push_back(p * 3 + a);
    for (int64_t code : codes) {
      const int64_t p = code / 3;
      const int a = static_cast<int>(code % 3);
      const bool word_ok = p < n && !s.modified[p] && constraints_->modifiable(s.result.original[p]);
      perturb::Edit e;
      e.position = p;
      e.token = mask;
      auto edits = s.result.edits;
      if (a == kReplace) {
        if (!word_ok) continue;
        edits.push_back(e);
      } else if (a == kInsert) {
        if (s.inserted[p] || !(p == n || word_ok)) continue;
        e.kind = perturb::EditKind::kInsert;
        edits.push_back(e);
      } else {
        if (!word_ok || p + 1 >= n || s.modified[p + 1] || s.inserted[p + 1] ||
            !constraints_->modifiable(s.result.original[p + 1]))
          continue;
        edits.push_back(e);
        edits.push_back({perturb::EditKind::kDelete, 0, p + 1, -1, ""});
      }
      sites.push_back({r, p, a});
      masked.push_back(perturb::apply_edits(s.original_ids, edits));
      exclude.push_back(a == kReplace ? s.original_ids[p] : -1);
    }
  }
  timings_.constraints += since(t0);
  const auto filled = editor_fills(masked, exclude, fills);
  const auto t1 = Clock::now();
  std::vector<Candidate> out;
  owner.clear();
  for (size_t i = 0; i < sites.size(); ++i) {
    const Site& st = sites[i];
    const State& s = *group[st.r];
    const double floor = st.action == kReplace ? o_.min_fill_replace : st.action == kInsert ? o_.min_fill_insert : o_.min_fill_merge;
    for (const auto& [id, prob] : filled[i]) {
      if (prob < floor) break;  // fills come most probable first
      const std::string& w = vocab_.token(id);
      if (st.action == kReplace && !constraints_->swap_allowed(s.result.original[st.p], s.original_ids[st.p], w, id)) continue;
      if (st.action == kMerge && (id == s.original_ids[st.p] || id == s.original_ids[st.p + 1])) continue;
      Candidate c;
      c.position = st.p;
      c.id = id;
      c.word = w;
      c.kind = st.action == kInsert ? perturb::EditKind::kInsert : perturb::EditKind::kReplace;
      c.merge = st.action == kMerge;
      c.cosine = prob;  // the editor's confidence: preferred among flips
      out.push_back(std::move(c));
      owner.push_back(static_cast<int64_t>(st.r));
    }
  }
  timings_.constraints += since(t1);
  return out;
}

void Attacker::clare(std::vector<State>& states) {
  // 1. Score every (position, action) of the most important positions once.
  rank(states);
  auto act = active(states);
  if (act.empty()) return;
  std::vector<std::vector<int64_t>> sites(act.size());
  for (size_t r = 0; r < act.size(); ++r) {
    const State& s = *act[r];
    const size_t m = o_.clare_positions > 0 ? std::min<size_t>(s.order.size(), o_.clare_positions) : s.order.size();
    for (size_t i = 0; i < m; ++i)
      for (int a = 0; a < 3; ++a) sites[r].push_back(s.order[i] * 3 + a);
    if (m == s.order.size()) sites[r].push_back(static_cast<int64_t>(s.original_ids.size()) * 3 + kInsert);  // append
  }
  std::vector<int64_t> owner;
  std::vector<Candidate> cands = clare_candidates(act, owner, &sites, std::min(o_.candidates, o_.clare_score_fills));
  std::vector<perturb::Variant> vs;
  std::vector<int64_t> kept;  // candidates within the query budget
  std::vector<int64_t> used(act.size(), 0);
  for (size_t i = 0; i < cands.size(); ++i) {
    const State& s = *act[owner[i]];
    if (used[owner[i]] >= s.remaining_queries(o_)) continue;
    if (s.result.words_changed() + (cands[i].merge ? 2 : 1) > s.budget_words) continue;  // a merge is two words
    ++used[owner[i]];
    vs.push_back(with(owner[i], s, cands[i]));
    kept.push_back(static_cast<int64_t>(i));
  }
  std::vector<std::vector<std::pair<double, int64_t>>> scored(act.size());  // (drop, site code)
  if (!vs.empty()) {
    const at::Tensor p = evaluate(act, vs);
    const int64_t C = p.size(1);
    std::vector<std::map<int64_t, double>> best(act.size());  // site code -> best drop
    std::vector<int64_t> flip(act.size(), -1);
    for (size_t j = 0; j < vs.size(); ++j) {
      const int64_t r = vs[j].row;
      const State& s = *act[r];
      const Candidate& c = cands[kept[j]];
      const double* q = p.data_ptr<double>() + j * C;
      const int64_t code = c.position * 3 + (c.merge ? kMerge : c.kind == perturb::EditKind::kInsert ? kInsert : kReplace);
      const double drop = s.p_label - q[s.result.label];
      auto it = best[r].find(code);
      if (it == best[r].end() || drop > it->second) best[r][code] = drop;
      const bool flips = std::max_element(q, q + C) - q != s.result.label;
      if (flips && (flip[r] < 0 || drop > s.p_label - p.data_ptr<double>()[flip[r] * C + s.result.label])) flip[r] = j;
    }
    for (size_t r = 0; r < act.size(); ++r) {
      State& s = *act[r];
      // A single action that already flips: the most damaging such fill (fluent when required).
      if (flip[r] >= 0) {
        const Candidate& c = cands[kept[flip[r]]];
        if (first_fluent(s, {&c}) == 0) {
          apply(s, c, row(p, flip[r]));
          succeed(s);
          continue;
        }
      }
      for (const auto& [code, drop] : best[r]) scored[r].push_back({drop, code});
      std::stable_sort(scored[r].begin(), scored[r].end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      if (scored[r].empty()) fail(s, "no candidate passes the constraints");
    }
  }
  for (State* s : act)
    if (s->active && vs.empty()) fail(*s, s->remaining_queries(o_) <= 0 ? "query budget" : "no candidate passes the constraints");
  // 2. Apply in order of score, each action filled again in the current text.
  std::vector<size_t> next(act.size(), 0);
  while (true) {
    std::vector<State*> go;
    std::vector<std::vector<int64_t>> only;
    for (size_t r = 0; r < act.size(); ++r) {
      State& s = *act[r];
      if (!s.active) continue;
      if (s.result.words_changed() >= s.budget_words) {
        fail(s, "word budget");
        continue;
      }
      if (s.remaining_queries(o_) <= 0) {
        fail(s, "query budget");
        continue;
      }
      if (next[r] >= scored[r].size()) {
        fail(s, "no action changes the prediction");
        continue;
      }
      go.push_back(&s);
      only.push_back({scored[r][next[r]++].second});
    }
    if (go.empty()) return;
    std::vector<int64_t> own;
    std::vector<Candidate> cs = clare_candidates(go, own, &only, o_.candidates);
    std::vector<perturb::Variant> step;
    std::vector<Candidate> chosen;
    std::vector<int64_t> mine(go.size(), 0);
    for (size_t i = 0; i < cs.size(); ++i) {
      const State& s = *go[own[i]];
      const bool fits = s.result.words_changed() + (cs[i].merge ? 2 : 1) <= s.budget_words;
      if (!fits || mine[own[i]] >= s.remaining_queries(o_)) continue;
      ++mine[own[i]];
      step.push_back(with(own[i], s, cs[i]));
      chosen.push_back(cs[i]);
    }
    if (step.empty()) continue;
    const at::Tensor p = evaluate(go, step);
    std::vector<int64_t> best(go.size(), -1), flip(go.size(), -1);
    const int64_t C = p.size(1);
    const double* pp = p.data_ptr<double>();
    for (size_t i = 0; i < step.size(); ++i) {
      const int64_t r = step[i].row;
      const int64_t y = go[r]->result.label;
      const double* q = pp + i * C;
      const bool flips = std::max_element(q, q + C) - q != y;
      if (flips && (flip[r] < 0 || q[y] < pp[flip[r] * C + y])) flip[r] = static_cast<int64_t>(i);
      if (best[r] < 0 || q[y] < pp[best[r] * C + y]) best[r] = static_cast<int64_t>(i);
    }
    if (o_.max_fluency_ratio > 0) choose_fluent(go, step, chosen, p, best, flip);
    apply_choices(go, p, chosen, best, flip);
  }
}

}  // namespace lumen::attack::detail
