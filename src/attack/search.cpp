// The recipes' own greedy searches, examples attacked in lockstep groups so that every round's
// candidates of every example go through the variant evaluator together (mean batch =
// candidates x examples).
//   greedy word importance (textfooler, deepwordbug, bae, bert-attack): positions in order of
//   importance (deletion or <unk>: TextFooler's score; gradient norm); at each, every candidate
//   evaluated, the best kept if it lowers the true class's probability; success when the
//   prediction changes.
//   pwws: the order is softmax(saliency) x the best candidate's drop, computed once; the best
//   candidate of each position is substituted in that order.
//   hotflip: each round, the first-order change of the true class's probability for every
//   (position, vocabulary word) from one gradient pass; the best `candidates` flips evaluated
//   exactly and the best kept.
// With the fluency constraint, the preferred candidates are checked best first (attacker.h).
#include <algorithm>
#include <cmath>
#include <map>

#include "attack/attacker.h"
#include "perturb/stop_words.h"

namespace lumen::attack::detail {

// The fluency constraint on one greedy round: per state, the flipping candidates (most similar
// first) and then those that lower the true class (most first) are checked in that order; the
// first fluent one becomes the choice (flip or best), the others are dropped.
void Attacker::choose_fluent(const std::vector<State*>& act, const std::vector<perturb::Variant>& vs,
                             const std::vector<Candidate>& cands, const at::Tensor& p, std::vector<int64_t>& best,
                             std::vector<int64_t>& flip) {
  const int64_t C = p.size(1);
  const double* pp = p.data_ptr<double>();
  std::vector<std::vector<int64_t>> mine(act.size());
  for (size_t i = 0; i < vs.size(); ++i) mine[vs[i].row].push_back(static_cast<int64_t>(i));
  for (size_t r = 0; r < act.size(); ++r) {
    const State& s = *act[r];
    const int64_t y = s.result.label;
    std::vector<int64_t> flips, lowers;
    for (int64_t i : mine[r]) {
      const double* q = pp + i * C;
      if (std::max_element(q, q + C) - q != y) flips.push_back(i);
      else if (q[y] < s.p_label) lowers.push_back(i);
    }
    std::stable_sort(flips.begin(), flips.end(), [&](int64_t a, int64_t b) { return cands[a].cosine > cands[b].cosine; });
    std::stable_sort(lowers.begin(), lowers.end(), [&](int64_t a, int64_t b) { return pp[a * C + y] < pp[b * C + y]; });
    std::vector<int64_t> order = flips;
    order.insert(order.end(), lowers.begin(), lowers.end());
    std::vector<const Candidate*> ptrs;
    for (int64_t i : order) ptrs.push_back(&cands[i]);
    const int64_t k = first_fluent(s, ptrs);
    flip[r] = best[r] = -1;
    if (k < 0) continue;
    if (static_cast<size_t>(k) < flips.size()) flip[r] = order[k];
    else best[r] = order[k];
  }
}

void Attacker::greedy(std::vector<State>& states) {
  while (true) {
    auto act = active(states);
    if (act.empty()) return;
    std::vector<perturb::Variant> vs;
    std::vector<Candidate> cands;
    for (size_t r = 0; r < act.size(); ++r) {
      State& s = *act[r];
      std::vector<Candidate> c;
      while (c.empty() && s.next < s.order.size()) {
        const int64_t t = s.order[s.next++];
        if (!s.modified[t]) c = candidates(s, t);
      }
      if (c.empty()) {
        fail(s, s.result.edits.empty() ? "no candidate passes the constraints" : "no swap changes the prediction");
        continue;
      }
      const int64_t room = s.remaining_queries(o_);
      if (room <= 0) {
        fail(s, "query budget");
        continue;
      }
      if (static_cast<int64_t>(c.size()) > room) c.resize(room);
      for (auto& x : c) {
        vs.push_back(swapped(static_cast<int64_t>(r), s, x.position, x.id));
        cands.push_back(std::move(x));
      }
    }
    if (vs.empty()) continue;
    const at::Tensor p = evaluate(act, vs);
    // Per state: a candidate that flips the prediction (the most similar one), else the one
    // that lowers the true class the most.
    std::vector<int64_t> best(act.size(), -1), flip(act.size(), -1);
    for (size_t i = 0; i < vs.size(); ++i) {
      const int64_t r = vs[i].row;
      const State& s = *act[r];
      const double* q = p.data_ptr<double>() + i * p.size(1);
      const int64_t y = s.result.label;
      const bool flips = std::max_element(q, q + p.size(1)) - q != y;
      if (flips && (flip[r] < 0 || cands[i].cosine > cands[flip[r]].cosine)) flip[r] = static_cast<int64_t>(i);
      if (best[r] < 0 || q[y] < p.data_ptr<double>()[best[r] * p.size(1) + y]) best[r] = static_cast<int64_t>(i);
    }
    if (o_.max_fluency_ratio > 0) choose_fluent(act, vs, cands, p, best, flip);
    apply_choices(act, p, cands, best, flip);
  }
}

void Attacker::apply_choices(const std::vector<State*>& act, const at::Tensor& p, const std::vector<Candidate>& cands,
                             const std::vector<int64_t>& best, const std::vector<int64_t>& flip) {
  for (size_t r = 0; r < act.size(); ++r) {
    State& s = *act[r];
    if (!s.active) continue;
    const int64_t i = flip[r] >= 0 ? flip[r] : best[r];
    if (i < 0) continue;
    const auto q = row(p, i);
    if (flip[r] >= 0) {
      apply(s, cands[i], q);
      succeed(s);
    } else if (q[s.result.label] < s.p_label) {
      apply(s, cands[i], q);
      if (s.result.words_changed() >= s.budget_words) fail(s, "word budget");
    }
  }
}

void Attacker::pwws(std::vector<State>& states) {
  auto act = active(states);
  if (act.empty()) return;
  // Every candidate of every position, once: the best drop per position.
  std::vector<perturb::Variant> vs;
  std::vector<Candidate> cands;
  for (size_t r = 0; r < act.size(); ++r) {
    State& s = *act[r];
    int64_t mine = 0;
    for (int64_t t : s.order)
      for (auto& c : candidates(s, t)) {
        if (s.remaining_queries(o_) <= mine) break;
        ++mine;
        vs.push_back(swapped(static_cast<int64_t>(r), s, t, c.id));
        cands.push_back(std::move(c));
      }
  }
  const at::Tensor p = vs.empty() ? at::Tensor() : evaluate(act, vs);
  std::vector<std::map<int64_t, std::pair<double, int64_t>>> best(act.size());  // position -> (drop, candidate)
  for (size_t i = 0; i < vs.size(); ++i) {
    const State& s = *act[vs[i].row];
    const double drop = s.p_label - p.data_ptr<double>()[i * p.size(1) + s.result.label];
    auto& b = best[vs[i].row];
    auto it = b.find(cands[i].position);
    if (it == b.end() || drop > it->second.first) b[cands[i].position] = {drop, static_cast<int64_t>(i)};
  }
  for (size_t r = 0; r < act.size(); ++r) {
    State& s = *act[r];
    const auto& sal = saliency_[&s];
    double mx = -1e300;
    for (double x : sal) mx = std::max(mx, x);
    double z = 0;
    for (double x : sal) z += std::exp(x - mx);
    std::vector<std::pair<double, int64_t>> scored;  // (score, candidate)
    for (size_t k = 0; k < s.order.size(); ++k) {
      auto it = best[r].find(s.order[k]);
      if (it == best[r].end()) continue;
      scored.emplace_back(std::exp(sal[k] - mx) / z * it->second.first, it->second.second);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    s.order.clear();
    for (const auto& [sc, i] : scored) {
      s.order.push_back(cands[i].position);
      s.pwws_best.push_back(cands[i]);
    }
    if (s.order.empty()) fail(s, "no candidate passes the constraints");
  }
  // Substitutions in that order, one evaluated text per state and round.
  while (true) {
    auto now = active(states);
    if (now.empty()) return;
    std::vector<perturb::Variant> step;
    std::vector<Candidate> chosen;
    for (size_t r = 0; r < now.size(); ++r) {
      State& s = *now[r];
      if (s.next >= s.pwws_best.size()) {
        fail(s, "no swap changes the prediction");
        continue;
      }
      if (s.remaining_queries(o_) <= 0) {
        fail(s, "query budget");
        continue;
      }
      if (s.result.words_changed() >= s.budget_words) {
        fail(s, "word budget");
        continue;
      }
      const Candidate c = s.pwws_best[s.next++];
      if (o_.max_fluency_ratio > 0 && first_fluent(s, {&c}) < 0) continue;  // not fluent here: the next position
      step.push_back(swapped(static_cast<int64_t>(r), s, c.position, c.id));
      chosen.push_back(c);
    }
    if (step.empty()) continue;
    const at::Tensor q = evaluate(now, step);
    for (size_t i = 0; i < step.size(); ++i) {
      State& s = *now[step[i].row];
      const auto probs = row(q, static_cast<int64_t>(i));
      apply(s, chosen[i], probs);
      if (argmax(probs) != s.result.label) succeed(s);
    }
  }
}

void Attacker::hotflip(std::vector<State>& states) {
  const at::Tensor emb = model_->embedding->weight.detach().to(torch::kFloat).contiguous();  // [V, E]
  const int64_t V = emb.size(0);
  while (true) {
    auto act = active(states);
    if (act.empty()) return;
    std::vector<State*> go;
    for (State* s : act) {
      if (s->result.words_changed() >= s->budget_words) fail(*s, "word budget");
      else if (s->remaining_queries(o_) <= 1) fail(*s, "query budget");
      else go.push_back(s);
    }
    if (go.empty()) return;
    const auto g = gradients(go);
    const auto t0 = Clock::now();
    std::vector<perturb::Variant> vs;
    std::vector<Candidate> cands;
    for (size_t r = 0; r < go.size(); ++r) {
      State& s = *go[r];
      // First-order change of p(true class) for every (position, word): (e_w - e_t) . g_t.
      const at::Tensor gt = g[r];                                                      // [n, E]
      at::Tensor delta = torch::mm(gt, emb.t()) - (gt * emb.index_select(0, torch::tensor(s.ids))).sum(1, true);  // [n, V]
      for (int64_t t = 0; t < static_cast<int64_t>(s.ids.size()); ++t)
        if (s.modified[t] || !constraints_->modifiable(s.result.original[t])) delta[t].fill_(INFINITY);
      delta.narrow(1, 0, 4).fill_(INFINITY);  // specials
      const int64_t want = std::min<int64_t>(V * static_cast<int64_t>(s.ids.size()), 8 * o_.candidates);
      auto [val, idx] = delta.view(-1).topk(want, 0, /*largest=*/false);
      const float* vp = val.data_ptr<float>();
      const int64_t* ip = idx.data_ptr<int64_t>();
      int64_t taken = 0;
      const int64_t room = std::min(o_.candidates, s.remaining_queries(o_) - 1);
      for (int64_t k = 0; k < want && taken < room; ++k) {
        if (!std::isfinite(vp[k])) break;
        const int64_t t = ip[k] / V, w = ip[k] % V;
        const std::string& word = vocab_.token(w);
        if (!perturb::has_letter(word) || !constraints_->swap_allowed(s.result.original[t], s.ids[t], word, w)) continue;
        vs.push_back(swapped(static_cast<int64_t>(r), s, t, w));
        Candidate c;
        c.position = t;
        c.id = w;
        c.word = word;
        c.cosine = neighbours_.cosine_of(s.ids[t], w);
        cands.push_back(std::move(c));
        ++taken;
      }
      if (taken == 0) fail(s, "no flip passes the constraints");
    }
    timings_.constraints += since(t0);
    if (vs.empty()) continue;
    const at::Tensor p = evaluate(go, vs);
    std::vector<int64_t> best(go.size(), -1);
    for (size_t i = 0; i < vs.size(); ++i) {
      const int64_t r = vs[i].row;
      const int64_t y = go[r]->result.label;
      const double* pp = p.data_ptr<double>();
      if (best[r] < 0 || pp[i * p.size(1) + y] < pp[best[r] * p.size(1) + y]) best[r] = static_cast<int64_t>(i);
    }
    if (o_.max_fluency_ratio > 0) {
      std::vector<int64_t> flip(go.size(), -1);
      choose_fluent(go, vs, cands, p, best, flip);
      for (size_t r = 0; r < go.size(); ++r) {
        if (flip[r] >= 0) best[r] = flip[r];
        if (best[r] < 0 && go[r]->active) fail(*go[r], "no flip passes the fluency constraint");
      }
    }
    for (size_t r = 0; r < go.size(); ++r) {
      State& s = *go[r];
      if (!s.active || best[r] < 0) continue;
      const auto q = row(p, best[r]);
      if (q[s.result.label] >= s.p_label) {
        fail(s, "no flip lowers the true class");
        continue;
      }
      apply(s, cands[best[r]], q);
      if (argmax(q) != s.result.label) succeed(s);
    }
  }
}

}  // namespace lumen::attack::detail
