// An embedding-space attack in the spirit of SemAttack (Wang et al. 2022): a perturbation d of
// the first text's input embeddings is optimised (Adam) to lower the true class's margin,
//   loss = max(z_y - max_{k != y} z_k, -1) + w * sum_t |d_t|^2 / mean|e|^2,
// and every `sem_project_every` steps projected onto real words: at each position the word of
// its semantic spaces (WordNet synonyms, the embedding-neighbour table, one character typo:
// SemAttack's knowledge, contextual and typo spaces) nearest to e_t + d_t, kept when it is
// nearer than the original word; the changes, strongest |d_t| first and within the word
// budget, are evaluated as prefixes (1, 2, ... changes) in one evaluator call, and the
// shortest prefix that changes the prediction is the result. A gradient step counts one query
// per text, each evaluated prefix one.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attack/attacker.h"
#include "core/rng.h"
#include "data/batch.h"
#include "perturb/char_edits.h"

namespace lumen::attack::detail {

void Attacker::semattack(std::vector<State>& states) {
  auto act = active(states);
  if (act.empty()) return;
  const at::Tensor emb = model_->embedding->weight.detach().contiguous();  // [V, E]
  // The semantic spaces of every modifiable position.
  const auto t0 = Clock::now();
  std::vector<std::vector<std::vector<Candidate>>> space(act.size());
  for (size_t r = 0; r < act.size(); ++r) {
    State& s = *act[r];
    const int64_t n = static_cast<int64_t>(s.original_ids.size());
    space[r].resize(n);
    int64_t any = 0;
    Rng rng(o_.seed * 1000003 + static_cast<uint64_t>(s.result.index) * 7919);
    for (int64_t t = 0; t < n; ++t) {
      const std::string& word = s.result.original[t];
      if (!constraints_->modifiable(word)) continue;
      const int64_t id = s.original_ids[t];
      std::vector<std::pair<int64_t, std::string>> raw;
      for (const auto& x : wordnet_->synonyms(word)) {
        const int64_t cid = vocab_.id(x.word);
        if (cid != data::Vocab::kUnk) raw.emplace_back(cid, x.word);
      }
      if (id >= 4 && id < neighbours_.ids.size(0)) {
        const int64_t* nid = neighbours_.ids[id].data_ptr<int64_t>();
        for (int64_t k = 0; k < neighbours_.k(); ++k)
          if (nid[k] >= 0) raw.emplace_back(nid[k], vocab_.token(nid[k]));
      }
      for (const auto& c : perturb::char_candidates(word, {perturb::CharEdit::kSwap, perturb::CharEdit::kDelete}, 1, rng))
        raw.emplace_back(vocab_.id(c.word), c.word);
      std::vector<int64_t> seen;
      for (auto& [cid, w] : raw) {
        if (static_cast<int64_t>(space[r][t].size()) >= o_.candidates) break;
        if (std::find(seen.begin(), seen.end(), cid) != seen.end()) continue;
        if (!constraints_->swap_allowed(word, id, w, cid)) continue;
        seen.push_back(cid);
        Candidate c;
        c.position = t;
        c.id = cid;
        c.word = w;
        space[r][t].push_back(std::move(c));
      }
      any += static_cast<int64_t>(space[r][t].size());
    }
    if (any == 0) fail(s, "no candidate passes the constraints");
  }
  timings_.constraints += since(t0);
  // One padded batch of the texts, a perturbation of each real token's embedding.
  std::vector<std::vector<int64_t>> a, b;
  for (State* s : act) {
    a.push_back(s->original_ids);
    if (model_->config().pair) b.push_back(s->ids_b);
  }
  data::Batch batch;
  data::pad_ids(a, batch.ids, batch.lengths, batch.mask, batch.token_mask);
  if (model_->config().pair) data::pad_ids(b, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
  const at::Tensor e0 = model_->embed(batch.ids).detach();                                   // [B, T, E]
  const at::Tensor e0b = model_->config().pair ? model_->embed(batch.ids_b).detach() : at::Tensor();
  const at::Tensor real = batch.token_mask.to(e0.scalar_type()).unsqueeze(2);              // [B, T, 1]
  const double scale = (e0.norm(2, 2) * real.squeeze(2)).sum().item<double>() / std::max(1.0, real.sum().item<double>());
  at::Tensor d = torch::zeros_like(e0).requires_grad_(true);
  torch::optim::Adam adam({d}, torch::optim::AdamOptions(o_.sem_step_size * std::max(scale, 1e-6)));
  std::vector<int64_t> y;
  for (State* s : act) y.push_back(s->result.label);
  const at::Tensor target = torch::tensor(y);
  for (int64_t step = 1; step <= o_.sem_steps; ++step) {
    std::vector<int64_t> live;
    for (size_t r = 0; r < act.size(); ++r)
      if (act[r]->active) {
        if (act[r]->remaining_queries(o_) <= 1) fail(*act[r], "query budget");
        else live.push_back(static_cast<int64_t>(r));
      }
    if (live.empty()) return;
    // A gradient step.
    const auto tg = Clock::now();
    {
      torch::AutoGradMode grad_mode(true);
      const at::Tensor x = e0 + d * real;
      const at::Tensor z = model_->forward_from_embeddings(x, batch, {}, e0b).logits;
      const at::Tensor zy = z.gather(1, target.unsqueeze(1)).squeeze(1);
      const at::Tensor other = z.scatter(1, target.unsqueeze(1), -1e9).amax(1);
      const at::Tensor margin = torch::clamp_min(zy - other, -1.0);
      const at::Tensor alive =
          torch::zeros({static_cast<int64_t>(act.size())}, z.options()).index_fill_(0, torch::tensor(live), 1.0);
      const at::Tensor norm = (d * real).pow(2).sum({1, 2}) / (scale * scale);
      const at::Tensor loss = ((margin + o_.sem_norm_weight * norm) * alive).sum();
      d.mutable_grad() = torch::autograd::grad({loss}, {d})[0];  // the perturbation's gradient only
      adam.step();
    }
    for (int64_t r : live) ++act[r]->result.queries;
    timings_.model += since(tg);
    if (step % o_.sem_project_every != 0 && step != o_.sem_steps) continue;
    // Project onto words; evaluate the prefixes of the changes.
    const auto tp = Clock::now();
    const at::Tensor x = (e0 + d.detach() * real).contiguous();
    std::vector<perturb::Variant> vs;
    std::vector<std::vector<Candidate>> prefix;  // the changes of each variant
    for (int64_t r : live) {
      State& s = *act[r];
      const int64_t n = static_cast<int64_t>(s.original_ids.size());
      std::vector<std::pair<double, Candidate>> prop;
      for (int64_t t = 0; t < n; ++t) {
        const auto& cs = space[r][t];  // failed states stay in the batch, inactive
        if (cs.empty()) continue;
        const at::Tensor xt = x[r][t + 1], dt = d.detach()[r][t + 1];
        std::vector<int64_t> ids;
        for (const auto& c : cs) ids.push_back(c.id);
        const at::Tensor dist = (emb.index_select(0, torch::tensor(ids)) - xt).norm(2, 1);
        const int64_t k = dist.argmin().item<int64_t>();
        const double strength = dt.norm().item<double>();
        if (dist[k].item<double>() < strength) prop.push_back({strength, cs[k]});
      }
      std::stable_sort(prop.begin(), prop.end(), [](const auto& u, const auto& v) { return u.first > v.first; });
      if (static_cast<int64_t>(prop.size()) > s.budget_words) prop.resize(s.budget_words);
      std::vector<Candidate> changes;
      int64_t chars = 0;
      for (const auto& [str, c] : prop) {
        if (s.remaining_queries(o_) <= static_cast<int64_t>(changes.size())) break;
        chars += perturb::char_distance(s.result.original[c.position], c.word);
        if (o_.constraints.max_char_distance > 0 && chars > o_.constraints.max_char_distance) break;
        changes.push_back(c);
        perturb::Variant v{r, s.original_ids, s.ids_b};
        for (const auto& u : changes) v.a[u.position] = u.id;
        vs.push_back(std::move(v));
        prefix.push_back(changes);
      }
    }
    timings_.constraints += since(tp);
    if (vs.empty()) continue;
    const at::Tensor p = evaluate(act, vs);
    const int64_t C = p.size(1);
    for (size_t j = 0; j < vs.size(); ++j) {
      State& s = *act[vs[j].row];
      if (!s.active) continue;
      const double* q = p.data_ptr<double>() + j * C;
      if (std::max_element(q, q + C) - q == s.result.label) continue;
      std::vector<perturb::Edit> edits;
      for (const auto& c : prefix[j])
        for (auto& e : c.edits(vocab_.token(c.id))) edits.push_back(e);
      if (!fluent_edits(s, edits)) continue;
      for (size_t k = 0; k + 1 < prefix[j].size(); ++k) apply(s, prefix[j][k], s.probs);
      apply(s, prefix[j].back(), row(p, static_cast<int64_t>(j)));
      succeed(s);
    }
  }
  for (State* s : act)
    if (s->active) fail(*s, "no projection changes the prediction");
}

}  // namespace lumen::attack::detail
