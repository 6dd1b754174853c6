// The genetic search of Alzantot et al. 2018 (TextAttack's AlzantotGeneticAlgorithm):
//   perturb(x): a position drawn with probability proportional to its candidate count, every
//     candidate there evaluated, the one with the lowest true-class probability kept (a changed
//     position may be changed again: each position differs from the original at most once);
//   the first population is `population` perturbations of the original; each generation keeps
//   its best member (elite), draws parent pairs with probability softmax(fitness / temperature)
//   (fitness = 1 - p(true class)), crosses them over word by word (a child over the word or
//   character budget is retried, then its first parent is used), evaluates and perturbs the
//   children; the search succeeds when a member changes the prediction, and fails after
//   `generations` generations or at the query budget. Replacement transformations only.
// Every member of every state of a group goes through one evaluator call per stage.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "attack/attacker.h"
#include "core/rng.h"
#include "perturb/char_edits.h"

namespace lumen::attack::detail {

namespace {

struct Member {
  std::vector<int64_t> ids;
  std::vector<std::string> words;
  std::vector<double> probs;
};

int64_t changed(const Member& m, const State& s) {
  int64_t k = 0;
  for (size_t t = 0; t < m.ids.size(); ++t) k += m.words[t] != s.result.original[t] || m.ids[t] != s.original_ids[t];
  return k;
}

int64_t chars(const Member& m, const State& s) {
  int64_t k = 0;
  for (size_t t = 0; t < m.ids.size(); ++t)
    if (m.words[t] != s.result.original[t]) k += perturb::char_distance(s.result.original[t], m.words[t]);
  return k;
}

}  // namespace

void Attacker::genetic(std::vector<State>& states) {
  auto act = active(states);
  if (act.empty()) return;
  Rng rng(o_.seed * 2654435761ULL + 17);
  const int64_t P = o_.population;
  // Candidates of every modifiable position of each state's original word (fixed: they depend on
  // the original word only; editor fills are taken in the original's context).
  std::vector<std::vector<std::vector<Candidate>>> pool(act.size());
  for (size_t r = 0; r < act.size(); ++r) {
    State& s = *act[r];
    pool[r].resize(s.original_ids.size());
    int64_t any = 0;
    for (int64_t t = 0; t < static_cast<int64_t>(s.original_ids.size()); ++t)
      if (constraints_->modifiable(s.result.original[t])) any += static_cast<int64_t>((pool[r][t] = candidates(s, t)).size());
    if (any == 0) fail(s, "no candidate passes the constraints");
  }
  std::vector<std::vector<Member>> pop(act.size());
  // perturb() of every listed (state, member) in one evaluator call.
  auto perturb_all = [&](std::vector<std::pair<size_t, Member>>& todo) {
    std::vector<perturb::Variant> vs;
    std::vector<std::pair<size_t, Candidate>> what;  // todo index, candidate
    std::vector<int64_t> used(act.size(), 0);
    const auto t0 = Clock::now();
    for (size_t k = 0; k < todo.size(); ++k) {
      const size_t r = todo[k].first;
      const State& s = *act[r];
      const Member& m = todo[k].second;
      const bool full = changed(m, s) >= s.budget_words;
      std::vector<double> w(m.ids.size(), 0.0);
      double total = 0;
      for (size_t t = 0; t < m.ids.size(); ++t) {
        const bool was = m.ids[t] != s.original_ids[t] || m.words[t] != s.result.original[t];
        if (full && !was) continue;  // the budget allows no new position
        for (const auto& c : pool[r][t])
          if (c.id != m.ids[t] || c.word != m.words[t]) w[t] += 1;
        total += w[t];
      }
      if (total <= 0) continue;
      double u = rng.uniform() * total;
      size_t t = 0;
      while (t + 1 < w.size() && (u -= w[t]) >= 0) ++t;
      while (t < w.size() && w[t] <= 0) ++t;  // numerical edge
      if (t == w.size()) continue;
      for (const auto& c : pool[r][t]) {
        if (c.id == m.ids[t] && c.word == m.words[t]) continue;
        if (used[r] >= s.remaining_queries(o_)) break;
        Member x = m;
        x.ids[t] = c.id;
        x.words[t] = c.word;
        if (o_.constraints.max_char_distance > 0 && chars(x, s) > o_.constraints.max_char_distance) continue;
        ++used[r];
        vs.push_back({static_cast<int64_t>(r), x.ids, s.ids_b});
        what.push_back({k, c});
      }
    }
    timings_.constraints += since(t0);
    if (vs.empty()) return;
    const at::Tensor p = evaluate(act, vs);
    const int64_t C = p.size(1);
    std::vector<int64_t> best(todo.size(), -1);
    for (size_t j = 0; j < vs.size(); ++j) {
      const size_t k = what[j].first;
      const int64_t y = act[todo[k].first]->result.label;
      if (best[k] < 0 || p.data_ptr<double>()[j * C + y] < p.data_ptr<double>()[best[k] * C + y]) best[k] = j;
    }
    for (size_t k = 0; k < todo.size(); ++k) {
      if (best[k] < 0) continue;
      const Candidate& c = what[best[k]].second;
      todo[k].second.ids[c.position] = c.id;
      todo[k].second.words[c.position] = c.word;
      todo[k].second.probs = row(p, best[k]);
    }
  };
  auto flips = [&](size_t r, const Member& m) { return argmax(m.probs) != act[r]->result.label; };
  // Ends state r with member m (succeeded or failed).
  auto finish = [&](size_t r, const Member& m, bool success, const std::string& why) {
    State& s = *act[r];
    s.result.edits.clear();
    for (size_t t = 0; t < m.ids.size(); ++t)
      if (m.ids[t] != s.original_ids[t] || m.words[t] != s.result.original[t]) {
        perturb::Edit e;
        e.position = static_cast<int64_t>(t);
        e.token = m.ids[t];
        if (m.words[t] != vocab_.token(m.ids[t])) e.word = m.words[t];
        s.result.edits.push_back(e);
        s.modified[t] = 1;
      }
    s.ids = m.ids;
    s.words = m.words;
    s.result.perturbed = m.words;
    s.char_distance = chars(m, s);
    s.probs = m.probs;
    s.p_label = m.probs[s.result.label];
    if (success) succeed(s);
    else fail(s, why);
  };
  auto fitness = [&](size_t r, const Member& m) { return 1.0 - m.probs[act[r]->result.label]; };
  auto fluent = [&](size_t r, const Member& m) {
    if (o_.max_fluency_ratio <= 0) return true;
    const State& s = *act[r];
    std::vector<perturb::Edit> edits;
    for (size_t t = 0; t < m.ids.size(); ++t)
      if (m.ids[t] != s.original_ids[t] || m.words[t] != s.result.original[t]) {
        perturb::Edit e;
        e.position = static_cast<int64_t>(t);
        e.token = m.ids[t];
        edits.push_back(e);
      }
    return fluent_edits(s, edits);
  };
  // The first population.
  {
    std::vector<std::pair<size_t, Member>> todo;
    for (size_t r = 0; r < act.size(); ++r)
      if (act[r]->active)
        for (int64_t i = 0; i < P; ++i) todo.push_back({r, Member{act[r]->original_ids, act[r]->result.original, act[r]->probs}});
    perturb_all(todo);
    for (auto& [r, m] : todo) pop[r].push_back(std::move(m));
  }
  for (int64_t g = 0;; ++g) {
    // Success, or the end.
    for (size_t r = 0; r < act.size(); ++r) {
      if (!act[r]->active) continue;
      std::vector<size_t> idx(pop[r].size());
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return fitness(r, pop[r][a]) > fitness(r, pop[r][b]); });
      bool done = false;
      for (size_t i : idx)
        if (flips(r, pop[r][i]) && fluent(r, pop[r][i])) {
          finish(r, pop[r][i], true, "");
          done = true;
          break;
        }
      if (done) continue;
      const Member& elite = pop[r][idx[0]];
      if (g >= o_.generations) finish(r, elite, false, "no member changes the prediction");
      else if (act[r]->remaining_queries(o_) <= 0) finish(r, elite, false, "query budget");
    }
    if (active(states).empty()) return;
    // Children of each state's population, evaluated, then perturbed.
    std::vector<std::pair<size_t, Member>> children;
    std::vector<perturb::Variant> vs;
    const auto t0 = Clock::now();
    for (size_t r = 0; r < act.size(); ++r) {
      if (!act[r]->active) continue;
      State& s = *act[r];
      auto& pr = pop[r];
      std::vector<double> f(pr.size());
      double mx = -1e300;
      for (size_t i = 0; i < pr.size(); ++i) mx = std::max(mx, f[i] = fitness(r, pr[i]) / o_.temperature);
      double z = 0;
      for (double& x : f) z += (x = std::exp(x - mx));
      auto draw = [&]() {
        double u = rng.uniform() * z;
        size_t i = 0;
        while (i + 1 < f.size() && (u -= f[i]) >= 0) ++i;
        return i;
      };
      const size_t elite = std::max_element(f.begin(), f.end()) - f.begin();
      children.push_back({r, pr[elite]});  // the elite, carried over unchanged
      children.back().second.probs.clear();
      for (int64_t i = 1; i < P; ++i) {
        const Member& a = pr[draw()];
        const Member& b = pr[draw()];
        Member child = a;
        for (int tries = 0; tries < 20; ++tries) {
          Member x = a;
          for (size_t t = 0; t < x.ids.size(); ++t)
            if (rng.uniform() < 0.5) {
              x.ids[t] = b.ids[t];
              x.words[t] = b.words[t];
            }
          if (changed(x, s) <= s.budget_words &&
              (o_.constraints.max_char_distance <= 0 || chars(x, s) <= o_.constraints.max_char_distance)) {
            child = std::move(x);
            break;
          }
        }
        children.push_back({r, std::move(child)});
      }
    }
    timings_.constraints += since(t0);
    // Evaluate the children (the elite keeps its distribution), within the query budget.
    std::vector<int64_t> used(act.size(), 0), evaluated;
    for (size_t k = 0; k < children.size(); ++k) {
      const size_t r = children[k].first;
      if (k > 0 && children[k - 1].first == r) {
        if (used[r] >= act[r]->remaining_queries(o_)) continue;
        ++used[r];
        vs.push_back({static_cast<int64_t>(r), children[k].second.ids, act[r]->ids_b});
        evaluated.push_back(static_cast<int64_t>(k));
      }
    }
    if (!vs.empty()) {
      const at::Tensor p = evaluate(act, vs);
      for (size_t j = 0; j < evaluated.size(); ++j) children[evaluated[j]].second.probs = row(p, static_cast<int64_t>(j));
    }
    std::vector<std::pair<size_t, Member>> todo, elites;
    for (size_t k = 0; k < children.size(); ++k) {
      const size_t r = children[k].first;
      if (k == 0 || children[k - 1].first != r) {  // the elite
        auto best = std::max_element(pop[r].begin(), pop[r].end(),
                                     [&](const Member& a, const Member& b) { return fitness(r, a) < fitness(r, b); });
        elites.push_back({r, *best});
      } else if (!children[k].second.probs.empty()) {
        todo.push_back(std::move(children[k]));
      }
    }
    perturb_all(todo);
    for (auto& [r, m] : elites) pop[r] = {std::move(m)};
    for (auto& [r, m] : todo) pop[r].push_back(std::move(m));
  }
}

}  // namespace lumen::attack::detail
