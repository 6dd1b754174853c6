// The attack's search: examples attacked in lockstep groups so that every round's candidates of
// every example go through the variant evaluator together (mean batch = candidates x examples).
//   greedy word importance (textfooler, deepwordbug): positions in order of importance (deletion
//   or <unk>: TextFooler's score; gradient norm); at each, every candidate evaluated, the best
//   kept if it lowers the true class's probability; success when the prediction changes.
//   pwws: the order is softmax(saliency) x the best candidate's drop, computed once; the best
//   candidate of each position is substituted in that order.
//   hotflip: each round, the first-order change of the true class's probability for every
//   (position, vocabulary word) from one gradient pass; the best `candidates` flips evaluated
//   exactly and the best kept.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <numeric>

#include "attack/attack.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/batch.h"
#include "explain/common.h"
#include "models/eval_guard.h"
#include "models/masked_lm.h"
#include "perturb/char_edits.h"
#include "perturb/neighbours.h"
#include "perturb/stop_words.h"
#include "perturb/wordnet.h"

namespace lumen::attack {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Candidate {
  int64_t position;
  int64_t id;
  std::string word;
  double cosine = 0;
};

struct State {
  const data::Example* ex = nullptr;
  AttackResult result;
  std::vector<int64_t> ids;         // current token ids of the first text
  std::vector<int64_t> ids_b;       // second text (pairs), unchanged
  std::vector<std::string> words;   // current words as written
  std::vector<char> modified;
  std::vector<int64_t> order;       // positions to try, most important first
  std::vector<Candidate> pwws_best; // pwws: the chosen candidate of each position in `order`
  size_t next = 0;
  int64_t budget_words = 0;
  int64_t char_distance = 0;
  double p_label = 0;
  std::vector<double> probs;
  bool active = true;
  Clock::time_point start;
  int64_t remaining_queries(const AttackOptions& o) const {
    return o.query_budget < 0 ? std::numeric_limits<int64_t>::max() : o.query_budget - result.queries;
  }
};

int64_t argmax(const std::vector<double>& p) {
  return static_cast<int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
}

std::vector<double> row(const at::Tensor& probs, int64_t r) {
  const int64_t C = probs.size(1);
  const double* p = probs.data_ptr<double>() + r * C;
  return std::vector<double>(p, p + C);
}


class Attacker {
 public:
  Attacker(models::TextClassifier& model, const data::Vocab& vocab, const AttackOptions& o)
      : model_(model), vocab_(vocab), o_(o) {
    const auto t0 = Clock::now();
    const bool need_vectors = o.transformation == Transformation::kEmbedding ||
                              o.transformation == Transformation::kGradient || o.constraints.min_cosine > 0;
    if (need_vectors) {
      const at::Tensor vec = attack_vectors(model, vocab, o);
      std::vector<char> eligible(vocab.size(), 0);
      for (int64_t v = 4; v < vocab.size(); ++v) eligible[v] = perturb::has_letter(vocab.token(v));
      neighbours_ = perturb::build_neighbours(vec, eligible, o.transformation == Transformation::kEmbedding ? o.candidates : 1);
      has_neighbours_ = true;
    }
    if (o.transformation == Transformation::kEditor) {
      if (o.editor_dir.empty()) throw InvalidArgument("attack: recipe " + o.recipe + " needs an editor (`lumen train-editor`)");
      editor_ = std::make_unique<models::Editor>(models::load_editor(o.editor_dir, &vocab));
    }
    if (o.transformation == Transformation::kWordNet || o.constraints.same_pos)
      wordnet_ = std::make_unique<perturb::WordNet>(o.wordnet_dir.empty() ? perturb::WordNet::default_dir() : o.wordnet_dir);
    constraints_ = std::make_unique<perturb::Constraints>(o.constraints, has_neighbours_ ? &neighbours_ : nullptr,
                                                           wordnet_.get());
    setup_ = since(t0);
    timings_.constraints += setup_;
  }

  AttackRun run(const std::vector<data::Example>& examples, const std::function<void(int64_t)>& progress) {
    const auto t0 = Clock::now();
    models::EvalGuard eval(model_);
    AttackRun out;
    out.results.resize(examples.size());
    int64_t finished = 0;
    for (size_t g0 = 0; g0 < examples.size(); g0 += o_.batch) {
      const size_t g1 = std::min(examples.size(), g0 + static_cast<size_t>(o_.batch));
      std::vector<State> states(g1 - g0);
      for (size_t i = g0; i < g1; ++i) init(states[i - g0], examples[i], static_cast<int64_t>(i));
      attack_group(states);
      for (auto& s : states) {
        s.result.seconds = since(s.start);
        out.results[s.result.index] = std::move(s.result);
      }
      finished += static_cast<int64_t>(g1 - g0);
      if (progress) progress(finished);
    }
    timings_.total = since(t0) + setup_;
    out.timings = timings_;
    return out;
  }

 private:
  void init(State& s, const data::Example& ex, int64_t index) {
    s.start = Clock::now();
    s.ex = &ex;
    s.result.index = index;
    s.result.label = ex.label;
    s.result.original = ex.tokens;
    s.result.perturbed = ex.tokens;
    s.result.rationale = ex.rationale;
    s.words = ex.tokens;
    s.ids = vocab_.encode(ex.tokens);
    if (model_->config().pair) s.ids_b = vocab_.encode(ex.tokens_b);
    s.modified.assign(s.ids.size(), 0);
    s.budget_words = constraints_->word_budget(static_cast<int64_t>(s.ids.size()));
    if (ex.tokens.empty() || (model_->config().pair && ex.tokens_b.empty())) skip(s, "the text has no tokens");
    else if (static_cast<int64_t>(ex.tokens.size()) > o_.max_length)
      skip(s, "longer than max_length (" + std::to_string(o_.max_length) + " tokens)");
  }

  void skip(State& s, const std::string& why) {
    s.active = false;
    s.result.status = Status::kSkipped;
    s.result.reason = why;
  }
  void fail(State& s, const std::string& why) {
    s.active = false;
    s.result.status = Status::kFailed;
    s.result.reason = why;
    s.result.perturbed_probs = s.probs;
    s.result.perturbed_prediction = argmax(s.probs);
  }
  void succeed(State& s) {
    s.active = false;
    s.result.status = Status::kSucceeded;
    s.result.perturbed_probs = s.probs;
    s.result.perturbed_prediction = argmax(s.probs);
  }

  // One evaluator call over variants of several states (rows index `group`); counts queries.
  at::Tensor evaluate(std::vector<State*>& group, const std::vector<perturb::Variant>& variants) {
    const auto t0 = Clock::now();
    std::vector<perturb::Text> originals;
    for (State* s : group) originals.push_back({s->ids, s->ids_b});
    perturb::EvaluatorStats st;
    at::Tensor p = perturb::evaluate_variants(model_, originals, variants, o_.evaluator, &st);
    for (const auto& v : variants) ++group[v.row]->result.queries;
    timings_.model += since(t0);
    timings_.passes += st.passes;
    timings_.variants += st.variants;
    return p;
  }

  // State s (row r of the current group) with position t replaced by token `id`.
  static perturb::Variant swapped(int64_t r, const State& s, int64_t t, int64_t id) {
    perturb::Variant v{r, s.ids, s.ids_b};
    v.a[t] = id;
    return v;
  }

  std::vector<State*> active(std::vector<State>& states) {
    std::vector<State*> out;
    for (auto& s : states)
      if (s.active) out.push_back(&s);
    return out;
  }

  void attack_group(std::vector<State>& states) {
    // The originals: one query each; a wrong prediction is skipped.
    auto act = active(states);
    std::vector<perturb::Variant> vs;
    for (size_t r = 0; r < act.size(); ++r) vs.push_back({static_cast<int64_t>(r), act[r]->ids, act[r]->ids_b});
    at::Tensor p = evaluate(act, vs);
    for (size_t r = 0; r < act.size(); ++r) {
      State& s = *act[r];
      s.probs = row(p, static_cast<int64_t>(r));
      s.result.original_probs = s.probs;
      s.result.original_prediction = argmax(s.probs);
      if (s.result.label < 0) s.result.label = s.result.original_prediction;  // unlabelled: attack the prediction
      s.p_label = s.probs[s.result.label];
      if (s.result.original_prediction != s.result.label) skip(s, "the original prediction is already wrong");
    }
    if (o_.transformation == Transformation::kGradient) {
      hotflip(states);
      return;
    }
    rank(states);
    if (o_.ranking == Ranking::kPwws) pwws(states);
    else greedy(states);
  }

  // Candidate replacements of position t of s (constraints applied, one per distinct id).
  std::vector<Candidate> candidates(const State& s, int64_t t) {
    const auto t0 = Clock::now();
    std::vector<Candidate> out;
    const std::string& word = s.result.original[t];
    const int64_t id = s.ids[t];
    std::vector<std::pair<int64_t, std::string>> raw;
    if (o_.transformation == Transformation::kEmbedding) {
      if (id >= 4 && id < neighbours_.ids.size(0)) {
        const int64_t* nid = neighbours_.ids[id].data_ptr<int64_t>();
        for (int64_t k = 0; k < neighbours_.k(); ++k)
          if (nid[k] >= 0) raw.emplace_back(nid[k], vocab_.token(nid[k]));
      }
    } else if (o_.transformation == Transformation::kWordNet) {
      for (const auto& r : wordnet_->synonyms(word)) {
        raw.emplace_back(vocab_.id(r.word), r.word);
        if (static_cast<int64_t>(raw.size()) >= o_.candidates) break;
      }
    } else if (o_.transformation == Transformation::kEditor) {
      for (int64_t cid : editor_fills(s, t)) raw.emplace_back(cid, vocab_.token(cid));
    } else if (o_.transformation == Transformation::kChars) {
      Rng rng(o_.seed * 1000003 + static_cast<uint64_t>(s.result.index) * 7919 + static_cast<uint64_t>(t));
      const int64_t per = std::max<int64_t>(1, (o_.candidates + 3) / 4);
      for (const auto& c : perturb::char_candidates(word, {perturb::CharEdit::kSwap, perturb::CharEdit::kSubstitute,
                                                           perturb::CharEdit::kDelete, perturb::CharEdit::kInsert},
                                                    per, rng))
        raw.emplace_back(vocab_.id(c.word), c.word);
    }
    std::vector<int64_t> seen;
    for (auto& [cid, w] : raw) {
      if (static_cast<int64_t>(out.size()) >= o_.candidates) break;
      if (std::find(seen.begin(), seen.end(), cid) != seen.end()) continue;
      if (!constraints_->swap_allowed(word, id, w, cid)) continue;
      if (o_.constraints.max_char_distance > 0 &&
          s.char_distance + perturb::char_distance(word, w) > o_.constraints.max_char_distance)
        continue;
      seen.push_back(cid);
      out.push_back({t, cid, w, has_neighbours_ ? neighbours_.cosine_of(id, cid) : 0.0});
    }
    timings_.constraints += since(t0);
    return out;
  }

  // The editor's top fills (no label) of position t of s's current text, most probable first.
  std::vector<int64_t> editor_fills(const State& s, int64_t t) {
    const auto& c = editor_->model->config();
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.ids.size()), c.max_length - 2);
    if (t >= n) return {};
    at::Tensor ids = torch::zeros({1, n + 2}, torch::kInt64);
    auto ip = ids.accessor<int64_t, 2>();
    ip[0][0] = data::Vocab::kBos;
    for (int64_t u = 0; u < n; ++u) ip[0][u + 1] = s.ids[u];
    ip[0][n + 1] = data::Vocab::kEos;
    ip[0][t + 1] = c.mask_id();
    torch::NoGradGuard no_grad;
    const auto t0 = Clock::now();
    const at::Tensor h = editor_->model->hidden(ids, torch::tensor({n + 2}), torch::tensor({int64_t{-1}}))[0][t + 1];
    at::Tensor logits = editor_->model->logits(h.unsqueeze(0))[0];
    logits.narrow(0, 0, 4).fill_(-INFINITY);
    const at::Tensor top = std::get<1>(logits.topk(std::min<int64_t>(o_.candidates + 1, logits.size(0))));
    timings_.model += since(t0);
    std::vector<int64_t> out;
    for (int64_t k = 0; k < top.size(0); ++k) {
      const int64_t id = top[k].item<int64_t>();
      if (id != s.ids[t] && perturb::has_letter(vocab_.token(id))) out.push_back(id);
    }
    return out;
  }

  // Positions in order of importance.
  void rank(std::vector<State>& states) {
    auto act = active(states);
    if (act.empty()) return;
    for (State* s : act)
      if (s->remaining_queries(o_) <= 0) fail(*s, "query budget");
    act = active(states);
    if (act.empty()) return;
    std::vector<std::vector<int64_t>> positions(act.size());
    for (size_t r = 0; r < act.size(); ++r)
      for (int64_t t = 0; t < static_cast<int64_t>(act[r]->ids.size()); ++t)
        if (constraints_->modifiable(act[r]->result.original[t])) positions[r].push_back(t);
    std::vector<std::vector<double>> score(act.size());
    if (o_.ranking == Ranking::kGradient) {
      const auto g = gradients(act);
      for (size_t r = 0; r < act.size(); ++r)
        for (int64_t t : positions[r]) score[r].push_back(g[r][t].norm().item<double>());
    } else {
      std::vector<perturb::Variant> vs;
      for (size_t r = 0; r < act.size(); ++r) {
        State& s = *act[r];
        int64_t mine = 0;
        for (int64_t t : positions[r]) {
          if (s.remaining_queries(o_) <= mine++) break;
          perturb::Variant v{static_cast<int64_t>(r), s.ids, s.ids_b};
          if (o_.ranking == Ranking::kDelete) v.a.erase(v.a.begin() + t);
          else v.a[t] = data::Vocab::kUnk;
          vs.push_back(std::move(v));
        }
      }
      const at::Tensor p = evaluate(act, vs);
      std::vector<size_t> k(act.size(), 0);
      for (size_t i = 0; i < vs.size(); ++i) {
        State& s = *act[vs[i].row];
        const auto q = row(p, static_cast<int64_t>(i));
        const int64_t y = s.result.label, yq = argmax(q);
        // TextFooler's importance: the drop of the true class, plus the rise of the new class when the prediction changes.
        double sc = s.p_label - q[y];
        if (yq != y) sc += q[yq] - s.probs[yq];
        score[vs[i].row].push_back(sc);
        ++k[vs[i].row];
      }
      for (size_t r = 0; r < act.size(); ++r) positions[r].resize(k[r]);
      if (o_.ranking == Ranking::kPwws) {  // saliency of <unk> replacement, kept for pwws()
        for (size_t r = 0; r < act.size(); ++r) {
          act[r]->order = positions[r];
          saliency_[act[r]] = score[r];
        }
        return;
      }
    }
    for (size_t r = 0; r < act.size(); ++r) {
      std::vector<size_t> idx(positions[r].size());
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[r][a] > score[r][b]; });
      for (size_t i : idx) act[r]->order.push_back(positions[r][i]);
      if (act[r]->order.empty()) fail(*act[r], "no word can be modified");
    }
  }

  // Gradient of the true class's probability with respect to the first text's embeddings, one
  // pass over the states ([n, E] per state).
  std::vector<at::Tensor> gradients(const std::vector<State*>& act) {
    const auto t0 = Clock::now();
    std::vector<std::vector<int64_t>> a, b;
    std::vector<int64_t> targets;
    for (State* s : act) {
      a.push_back(s->ids);
      if (model_->config().pair) b.push_back(s->ids_b);
      targets.push_back(s->result.label);
      ++s->result.queries;
    }
    data::Batch batch;
    data::pad_ids(a, batch.ids, batch.lengths, batch.mask, batch.token_mask);
    if (model_->config().pair) data::pad_ids(b, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
    const auto g = explain::input_gradients(model_, batch, targets);
    std::vector<at::Tensor> out;
    for (size_t r = 0; r < act.size(); ++r)
      out.push_back(g.grads.grad_a[r].narrow(0, 1, static_cast<int64_t>(act[r]->ids.size())).to(torch::kFloat).contiguous());
    timings_.model += since(t0);
    return out;
  }

  void apply(State& s, const Candidate& c, const std::vector<double>& probs) {
    perturb::Edit e;
    e.kind = perturb::EditKind::kReplace;
    e.position = c.position;
    e.token = c.id;
    if (c.word != vocab_.token(c.id)) e.word = c.word;
    s.result.edits.push_back(e);
    s.ids[c.position] = c.id;
    s.words[c.position] = c.word;
    s.result.perturbed = s.words;
    s.modified[c.position] = 1;
    s.char_distance += perturb::char_distance(s.result.original[c.position], c.word);
    s.probs = probs;
    s.p_label = probs[s.result.label];
  }

  void greedy(std::vector<State>& states) {
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
  }

  void pwws(std::vector<State>& states) {
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

  void hotflip(std::vector<State>& states) {
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
          cands.push_back({t, w, word, neighbours_.cosine_of(s.ids[t], w)});
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

  models::TextClassifier& model_;
  const data::Vocab& vocab_;
  AttackOptions o_;
  perturb::NeighbourTable neighbours_;
  bool has_neighbours_ = false;
  std::unique_ptr<perturb::WordNet> wordnet_;
  std::unique_ptr<models::Editor> editor_;
  std::unique_ptr<perturb::Constraints> constraints_;
  std::map<const State*, std::vector<double>> saliency_;
  AttackTimings timings_;
  double setup_ = 0;  // neighbour table, WordNet
};

}  // namespace


AttackRun run_attack(models::TextClassifier& model, const data::Vocab& vocab, const std::vector<data::Example>& examples,
                     const AttackOptions& options, const std::function<void(int64_t)>& progress) {
  options.validate();
  if (model->config().vocab_size != vocab.size())
    throw InvalidArgument("attack: the vocabulary has " + std::to_string(vocab.size()) + " words, the model " +
                          std::to_string(model->config().vocab_size));
  Attacker a(model, vocab, options);
  return a.run(examples, progress);
}

}  // namespace lumen::attack
