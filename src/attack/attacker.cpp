// The attacker the searches share (attacker.h): set-up, example states, candidate generation,
// evaluation, ranking, gradients, applying edits, the fluency constraint; and run_attack.
#include "attack/attacker.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attack/fluency.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/batch.h"
#include "explain/common.h"
#include "models/eval_guard.h"
#include "perturb/char_edits.h"
#include "perturb/stop_words.h"

namespace lumen::attack::detail {

int64_t argmax(const std::vector<double>& p) {
  return static_cast<int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
}

std::vector<double> row(const at::Tensor& probs, int64_t r) {
  const int64_t C = probs.size(1);
  const double* p = probs.data_ptr<double>() + r * C;
  return std::vector<double>(p, p + C);
}

std::vector<perturb::Edit> Candidate::edits(const std::string& vocab_word) const {
  perturb::Edit e;
  e.kind = kind;
  e.position = position;
  e.token = id;
  if (word != vocab_word) e.word = word;
  if (!merge) return {e};
  perturb::Edit d;
  d.kind = perturb::EditKind::kDelete;
  d.position = position + 1;
  return {e, d};
}

Attacker::Attacker(models::TextClassifier& model, const data::Vocab& vocab, const AttackOptions& o)
    : model_(model), vocab_(vocab), o_(o) {
  const auto t0 = Clock::now();
  const bool need_vectors = o.transformation == Transformation::kEmbedding ||
                            o.transformation == Transformation::kGradient ||
                            o.transformation == Transformation::kSemantic || o.constraints.min_cosine > 0;
  if (need_vectors) {
    const at::Tensor vec = attack_vectors(model, vocab, o);
    std::vector<char> eligible(vocab.size(), 0);
    for (int64_t v = 4; v < vocab.size(); ++v) eligible[v] = perturb::has_letter(vocab.token(v));
    const bool many = o.transformation == Transformation::kEmbedding || o.transformation == Transformation::kSemantic;
    neighbours_ = perturb::build_neighbours(vec, eligible, many ? o.candidates : 1);
    has_neighbours_ = true;
  }
  const bool needs_editor = o.transformation == Transformation::kEditor ||
                            o.transformation == Transformation::kEditorActions || o.max_fluency_ratio > 0;
  if (needs_editor) {
    if (o.editor_dir.empty())
      throw InvalidArgument("attack: " + std::string(o.max_fluency_ratio > 0 ? "the fluency constraint" : "recipe " + o.recipe) +
                            " needs an editor (`lumen train-editor`)");
    editor_ = std::make_unique<models::Editor>(models::load_editor(o.editor_dir, &vocab));
  }
  if (o.transformation == Transformation::kWordNet || o.transformation == Transformation::kSemantic || o.constraints.same_pos)
    wordnet_ = std::make_unique<perturb::WordNet>(o.wordnet_dir.empty() ? perturb::WordNet::default_dir() : o.wordnet_dir);
  constraints_ = std::make_unique<perturb::Constraints>(o.constraints, has_neighbours_ ? &neighbours_ : nullptr,
                                                         wordnet_.get());
  setup_ = since(t0);
  timings_.constraints += setup_;
}

AttackRun Attacker::run(const std::vector<data::Example>& examples, const std::function<void(int64_t)>& progress) {
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
      if (o_.max_fluency_ratio > 0 && s.result.status == Status::kSucceeded)
        s.result.fluency_ratio = fluency_ratio(*editor_->model, s.original_ids, s.result.edits);
      out.results[s.result.index] = std::move(s.result);
    }
    finished += static_cast<int64_t>(g1 - g0);
    if (progress) progress(finished);
  }
  timings_.total = since(t0) + setup_;
  out.timings = timings_;
  return out;
}

void Attacker::init(State& s, const data::Example& ex, int64_t index) {
  s.start = Clock::now();
  s.ex = &ex;
  s.result.index = index;
  s.result.label = ex.label;
  s.result.original = ex.tokens;
  s.result.perturbed = ex.tokens;
  s.result.rationale = ex.rationale;
  s.words = ex.tokens;
  s.ids = vocab_.encode(ex.tokens);
  s.original_ids = s.ids;
  if (model_->config().pair) s.ids_b = vocab_.encode(ex.tokens_b);
  s.modified.assign(s.ids.size(), 0);
  s.inserted.assign(s.ids.size() + 1, 0);
  s.budget_words = constraints_->word_budget(static_cast<int64_t>(s.ids.size()));
  if (ex.tokens.empty() || (model_->config().pair && ex.tokens_b.empty())) skip(s, "the text has no tokens");
  else if (static_cast<int64_t>(ex.tokens.size()) > o_.max_length)
    skip(s, "longer than max_length (" + std::to_string(o_.max_length) + " tokens)");
}

void Attacker::skip(State& s, const std::string& why) {
  s.active = false;
  s.result.status = Status::kSkipped;
  s.result.reason = why;
}

void Attacker::fail(State& s, const std::string& why) {
  s.active = false;
  s.result.status = Status::kFailed;
  s.result.reason = why;
  s.result.perturbed_probs = s.probs;
  s.result.perturbed_prediction = argmax(s.probs);
}

void Attacker::succeed(State& s) {
  s.active = false;
  s.result.status = Status::kSucceeded;
  s.result.perturbed_probs = s.probs;
  s.result.perturbed_prediction = argmax(s.probs);
}

std::vector<State*> Attacker::active(std::vector<State>& states) {
  std::vector<State*> out;
  for (auto& s : states)
    if (s.active) out.push_back(&s);
  return out;
}

at::Tensor Attacker::evaluate(const std::vector<State*>& group, const std::vector<perturb::Variant>& variants) {
  const auto t0 = Clock::now();
  std::vector<perturb::Text> originals;
  for (State* s : group) originals.push_back({s->original_ids, s->ids_b});
  perturb::EvaluatorStats st;
  at::Tensor p = perturb::evaluate_variants(model_, originals, variants, o_.evaluator, &st);
  for (const auto& v : variants) ++group[v.row]->result.queries;
  timings_.model += since(t0);
  timings_.passes += st.passes;
  timings_.variants += st.variants;
  return p;
}

perturb::Variant Attacker::swapped(int64_t r, const State& s, int64_t t, int64_t id) {
  perturb::Variant v{r, s.ids, s.ids_b};
  v.a[t] = id;
  return v;
}

perturb::Variant Attacker::with(int64_t r, const State& s, const Candidate& c) const {
  auto edits = s.result.edits;
  for (auto& e : c.edits(vocab_.token(c.id))) edits.push_back(e);
  perturb::Variant v{r, perturb::apply_edits(s.original_ids, edits), s.ids_b};
  return v;
}

void Attacker::attack_group(std::vector<State>& states) {
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
  switch (o_.transformation) {
    case Transformation::kGradient: hotflip(states); return;
    case Transformation::kSemantic: semattack(states); return;
    default: break;
  }
  if (o_.search == Search::kBeam) return beam(states);
  if (o_.search == Search::kGenetic) return genetic(states);
  if (o_.transformation == Transformation::kEditorActions) return clare(states);
  rank(states);
  if (o_.ranking == Ranking::kPwws) pwws(states);
  else greedy(states);
}

std::vector<Candidate> Attacker::candidates(const State& s, int64_t t) {
  const auto t0 = Clock::now();
  std::vector<Candidate> out;
  const std::string& word = s.result.original[t];
  const int64_t id = s.original_ids[t];
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
  } else if (o_.transformation == Transformation::kEditor || o_.transformation == Transformation::kEditorActions) {
    // The editor sees the current text with position t masked.
    const auto& c = editor_->model->config();
    std::vector<int64_t> masked = s.ids;
    masked[t] = c.mask_id();
    for (const auto& [cid, prob] : editor_fills(masked, s.ids[t], o_.candidates + 1)) raw.emplace_back(cid, vocab_.token(cid));
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
    Candidate c;
    c.position = t;
    c.id = cid;
    c.word = w;
    c.cosine = has_neighbours_ ? neighbours_.cosine_of(id, cid) : 0.0;
    out.push_back(std::move(c));
  }
  timings_.constraints += since(t0);
  return out;
}

std::vector<std::pair<int64_t, double>> Attacker::editor_fills(const std::vector<int64_t>& masked, int64_t exclude,
                                                               int64_t k) {
  return editor_fills(std::vector<std::vector<int64_t>>{masked}, {exclude}, k)[0];
}

std::vector<std::vector<std::pair<int64_t, double>>> Attacker::editor_fills(
    const std::vector<std::vector<int64_t>>& masked, const std::vector<int64_t>& exclude, int64_t k) {
  const auto t0 = Clock::now();
  const auto& c = editor_->model->config();
  const int64_t limit = c.max_length - 2;
  std::vector<std::vector<std::pair<int64_t, double>>> out(masked.size());
  // Each text cut to the editor's window around its mask; rows grouped in chunks of 256.
  struct Row { size_t text; std::vector<int64_t> ids; int64_t mask; };
  std::vector<Row> rows;
  for (size_t i = 0; i < masked.size(); ++i) {
    const auto& m = masked[i];
    const auto it = std::find(m.begin(), m.end(), c.mask_id());
    if (it == m.end()) continue;
    const int64_t at = it - m.begin(), n = static_cast<int64_t>(m.size());
    const int64_t from = n <= limit ? 0 : std::clamp<int64_t>(at - limit / 2, 0, n - limit);
    const int64_t len = std::min(n, limit);
    Row r{i, {data::Vocab::kBos}, at - from + 1};
    for (int64_t u = from; u < from + len; ++u) r.ids.push_back(m[u]);
    r.ids.push_back(data::Vocab::kEos);
    rows.push_back(std::move(r));
  }
  torch::NoGradGuard no_grad;
  for (size_t r0 = 0; r0 < rows.size(); r0 += 256) {
    const size_t r1 = std::min(rows.size(), r0 + 256);
    int64_t T = 0;
    for (size_t r = r0; r < r1; ++r) T = std::max<int64_t>(T, static_cast<int64_t>(rows[r].ids.size()));
    const int64_t B = static_cast<int64_t>(r1 - r0);
    at::Tensor ids = torch::zeros({B, T}, torch::kInt64), lengths = torch::zeros({B}, torch::kInt64);
    auto ip = ids.accessor<int64_t, 2>();
    std::vector<int64_t> at_rows;
    for (size_t r = r0; r < r1; ++r) {
      const int64_t b = static_cast<int64_t>(r - r0);
      for (size_t u = 0; u < rows[r].ids.size(); ++u) ip[b][u] = rows[r].ids[u];
      lengths[b] = static_cast<int64_t>(rows[r].ids.size());
      at_rows.push_back(b * T + rows[r].mask);
    }
    const at::Tensor h = editor_->model->hidden(ids, lengths, torch::full({B}, -1, torch::kInt64));
    at::Tensor logits = editor_->model->logits(h.reshape({-1, h.size(2)}).index_select(0, torch::tensor(at_rows)));
    logits.narrow(1, 0, 4).fill_(-INFINITY);
    const at::Tensor probs = torch::softmax(logits.to(torch::kDouble), 1);
    auto [top_p, top_i] = probs.topk(std::min<int64_t>(k, probs.size(1)), 1);
    for (int64_t b = 0; b < B; ++b) {
      const size_t text = rows[r0 + b].text;
      for (int64_t j = 0; j < top_i.size(1); ++j) {
        const int64_t id = top_i[b][j].item<int64_t>();
        if (id == exclude[text] || !perturb::has_letter(vocab_.token(id))) continue;
        out[text].emplace_back(id, top_p[b][j].item<double>());
        if (static_cast<int64_t>(out[text].size()) >= k) break;
      }
    }
  }
  timings_.model += since(t0);
  return out;
}

void Attacker::rank(std::vector<State>& states) {
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

std::vector<at::Tensor> Attacker::gradients(const std::vector<State*>& act) {
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

void Attacker::apply(State& s, const Candidate& c, const std::vector<double>& probs) {
  for (auto& e : c.edits(vocab_.token(c.id))) s.result.edits.push_back(e);
  bool only_replacements = true;
  for (const auto& e : s.result.edits) only_replacements = only_replacements && e.kind == perturb::EditKind::kReplace;
  if (only_replacements) {
    s.ids[c.position] = c.id;
    s.words[c.position] = c.word;
  } else {
    s.ids = perturb::apply_edits(s.original_ids, s.result.edits);
    s.words = perturb::apply_edits(s.result.original, s.result.edits, vocab_.tokens());
  }
  s.result.perturbed = s.words;
  if (c.kind == perturb::EditKind::kInsert) s.inserted[c.position] = 1;
  else s.modified[c.position] = 1;
  if (c.merge) s.modified[c.position + 1] = 1;
  if (c.kind == perturb::EditKind::kReplace)
    s.char_distance += perturb::char_distance(s.result.original[c.position], c.word);
  s.probs = probs;
  s.p_label = probs[s.result.label];
}

int64_t Attacker::first_fluent(const State& s, const std::vector<const Candidate*>& order) {
  if (o_.max_fluency_ratio <= 0) return order.empty() ? -1 : 0;
  const auto t0 = Clock::now();
  for (size_t i0 = 0; i0 < order.size(); i0 += 8) {
    const size_t i1 = std::min(order.size(), i0 + 8);
    std::vector<std::vector<perturb::Edit>> edits;
    for (size_t i = i0; i < i1; ++i) {
      auto e = s.result.edits;
      for (auto& x : order[i]->edits(vocab_.token(order[i]->id))) e.push_back(x);
      edits.push_back(std::move(e));
    }
    const auto ratios = fluency_ratios(*editor_->model, s.original_ids, edits);
    for (size_t i = i0; i < i1; ++i)
      if (ratios[i - i0] <= o_.max_fluency_ratio) {
        timings_.constraints += since(t0);
        return static_cast<int64_t>(i);
      }
  }
  timings_.constraints += since(t0);
  return -1;
}

bool Attacker::fluent_edits(const State& s, const std::vector<perturb::Edit>& edits) {
  if (o_.max_fluency_ratio <= 0 || edits.empty()) return true;
  const auto t0 = Clock::now();
  const bool ok = fluency_ratio(*editor_->model, s.original_ids, edits) <= o_.max_fluency_ratio;
  timings_.constraints += since(t0);
  return ok;
}

}  // namespace lumen::attack::detail

namespace lumen::attack {

AttackRun run_attack(models::TextClassifier& model, const data::Vocab& vocab, const std::vector<data::Example>& examples,
                     const AttackOptions& options, const std::function<void(int64_t)>& progress) {
  options.validate();
  if (model->config().vocab_size != vocab.size())
    throw InvalidArgument("attack: the vocabulary has " + std::to_string(vocab.size()) + " words, the model " +
                          std::to_string(model->config().vocab_size));
  detail::Attacker a(model, vocab, options);
  return a.run(examples, progress);
}

}  // namespace lumen::attack
