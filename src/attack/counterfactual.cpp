#include "attack/counterfactual.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "data/batch.h"
#include "explain/common.h"
#include "models/eval_guard.h"
#include "perturb/stop_words.h"
#include "perturb/variant_evaluator.h"

namespace lumen::attack {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kMask = -7;  // a slot for the editor to fill

const std::set<std::string> kAuxiliaries = {"is", "are", "was", "were", "am", "do", "does", "did", "can", "could",
                                            "will", "would", "should", "may", "might", "must", "has", "have", "had"};
const std::map<std::string, std::string> kQuantifiers = {
    {"all", "some"},      {"some", "all"},     {"every", "no"},         {"no", "every"},     {"many", "few"},
    {"few", "many"},      {"always", "never"}, {"never", "always"},     {"most", "few"},     {"none", "all"},
    {"more", "less"},     {"less", "more"},    {"everyone", "nobody"},  {"nobody", "everyone"},
    {"everything", "nothing"}, {"nothing", "everything"}, {"often", "rarely"}, {"rarely", "often"}};

struct Candidate {
  std::vector<int64_t> ids;
  std::vector<std::string> words;
  std::string code;
};

class Generator {
 public:
  Generator(models::TextClassifier& model, models::Editor& editor, const data::Vocab& vocab, const CounterfactualOptions& o)
      : model_(model), editor_(editor), vocab_(vocab), o_(o), rng_(o.seed) {}

  CounterfactualResult run(const data::Example& ex, int64_t index) {
    const auto t0 = Clock::now();
    CounterfactualResult r;
    r.index = index;
    r.original = ex.tokens;
    passes_ = queries_ = 0;
    ids_ = vocab_.encode(ex.tokens);
    ids_b_ = model_->config().pair ? vocab_.encode(ex.tokens_b) : std::vector<int64_t>{};
    words_ = ex.tokens;
    if (ids_.empty()) {
      r.reason = "the text has no tokens";
      return r;
    }
    const at::Tensor p0 = evaluate({{ids_, words_, ""}});
    r.original_probs = row(p0, 0);
    r.original_prediction = argmax(r.original_probs);
    const int64_t C = static_cast<int64_t>(r.original_probs.size());
    if (o_.target >= C) throw InvalidArgument("counterfactual: target " + std::to_string(o_.target) + " is not a class of the model");
    r.target = o_.target >= 0 ? o_.target : runner_up(r.original_probs, r.original_prediction);
    if (r.target == r.original_prediction) {
      r.reason = "the model already predicts the target";
      r.flipped = false;
    } else {
      std::vector<std::pair<Candidate, std::vector<double>>> found;
      if (o_.method == "mice") mice(r.target, found);
      else if (o_.method == "polyjuice") polyjuice(r.target, found);
      else crest(r.target, found);
      finish(r, found);
    }
    r.editor_passes = passes_;
    r.queries = queries_;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
  }

 private:
  static int64_t argmax(const std::vector<double>& p) {
    return static_cast<int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
  }
  static int64_t runner_up(const std::vector<double>& p, int64_t pred) {
    int64_t best = -1;
    for (int64_t k = 0; k < static_cast<int64_t>(p.size()); ++k)
      if (k != pred && (best < 0 || p[k] > p[best])) best = k;
    return best;
  }
  static std::vector<double> row(const at::Tensor& p, int64_t r) {
    const double* d = p.data_ptr<double>() + r * p.size(1);
    return std::vector<double>(d, d + p.size(1));
  }

  at::Tensor evaluate(const std::vector<Candidate>& cands) {
    std::vector<perturb::Variant> vs;
    for (const auto& c : cands) vs.push_back({0, c.ids, ids_b_});
    queries_ += static_cast<int64_t>(vs.size());
    return perturb::evaluate_variants(model_, {{ids_, ids_b_}}, vs);
  }

  // |gradient x input| of p(target) at `ids`, 0 beyond the editor's window.
  std::vector<double> attribution(const std::vector<int64_t>& ids, int64_t target) {
    data::Batch b;
    data::pad_ids({ids}, b.ids, b.lengths, b.mask, b.token_mask);
    if (model_->config().pair) data::pad_ids({ids_b_}, b.ids_b, b.lengths_b, b.mask_b, b.token_mask_b);
    models::EvalGuard eval(model_);
    const auto g = explain::input_gradients(model_, b, {target});
    const at::Tensor s = (g.grads.grad_a * g.emb_a).sum(2)[0].abs().to(torch::kDouble).contiguous();
    ++queries_;
    std::vector<double> out(ids.size());
    const int64_t room = editor_.model->config().max_length - 2;
    for (size_t t = 0; t < ids.size(); ++t) out[t] = static_cast<int64_t>(t) < room ? s[t + 1].item<double>() : -1.0;
    return out;
  }

  static std::vector<int64_t> by_score(const std::vector<double>& s) {
    std::vector<int64_t> order(s.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
    while (!order.empty() && s[order.back()] < 0) order.pop_back();  // outside the editor's window
    return order;
  }

  // Fills the kMask slots of `seq` with the editor conditioned on `label`: its argmax fill, then
  // samples from the top 20 per slot; distinct fills only.
  std::vector<Candidate> infill(const std::vector<int64_t>& seq, const std::vector<std::string>& words, int64_t label,
                                const std::string& code) {
    const auto& c = editor_.model->config();
    const int64_t room = c.max_length - 2;
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(seq.size()), room);
    std::vector<int64_t> slots;
    at::Tensor ids = torch::zeros({1, n + 2}, torch::kInt64);
    auto ip = ids.accessor<int64_t, 2>();
    ip[0][0] = data::Vocab::kBos;
    for (int64_t t = 0; t < n; ++t) {
      ip[0][t + 1] = seq[t] == kMask ? c.mask_id() : seq[t];
      if (seq[t] == kMask) slots.push_back(t);
    }
    ip[0][n + 1] = data::Vocab::kEos;
    for (int64_t t = n; t < static_cast<int64_t>(seq.size()); ++t)
      if (seq[t] == kMask) throw InvalidArgument("counterfactual: a blank beyond the editor's window");
    if (slots.empty()) return {};
    at::Tensor logits;
    {
      torch::NoGradGuard no_grad;
      const at::Tensor h = editor_.model->hidden(ids, torch::tensor({n + 2}), torch::tensor({label}))[0];
      std::vector<int64_t> rows;
      for (int64_t t : slots) rows.push_back(t + 1);
      logits = editor_.model->logits(h.index_select(0, torch::tensor(rows))).to(torch::kDouble);
    }
    ++passes_;
    logits.narrow(1, 0, 4).fill_(-INFINITY);  // <pad> <unk> <s> </s>
    auto [top, idx] = logits.topk(std::min<int64_t>(20, logits.size(1)), 1);
    const at::Tensor prob = torch::softmax(top, 1).contiguous();
    std::vector<Candidate> out;
    std::set<std::vector<int64_t>> seen;
    for (int64_t k = 0; k < o_.samples * 3 && static_cast<int64_t>(out.size()) < o_.samples; ++k) {
      Candidate cand{seq, words, code};
      for (size_t j = 0; j < slots.size(); ++j) {
        int64_t pick = 0;
        if (k > 0) {  // sample
          const double* pr = prob[j].data_ptr<double>();
          double u = rng_.uniform(), acc = 0;
          for (pick = 0; pick < prob.size(1) - 1; ++pick) {
            acc += pr[pick];
            if (u < acc) break;
          }
        }
        const int64_t id = idx[j][pick].item<int64_t>();
        cand.ids[slots[j]] = id;
        cand.words[slots[j]] = vocab_.token(id);
      }
      if (seen.insert(cand.ids).second) out.push_back(std::move(cand));
    }
    return out;
  }

  // `count` top positions of `order` blanked in `ids` / `words`.
  static std::pair<std::vector<int64_t>, std::vector<std::string>> blank(const std::vector<int64_t>& ids,
                                                                         const std::vector<std::string>& words,
                                                                         const std::vector<int64_t>& positions) {
    auto a = ids;
    auto w = words;
    for (int64_t t : positions) {
      a[t] = kMask;
      w[t] = "<mask>";
    }
    return {a, w};
  }

  void collect(const std::vector<Candidate>& cands, int64_t target, std::vector<std::pair<Candidate, std::vector<double>>>& found,
               std::vector<std::pair<double, Candidate>>* scored = nullptr) {
    if (cands.empty()) return;
    const at::Tensor p = evaluate(cands);
    for (size_t i = 0; i < cands.size(); ++i) {
      auto q = row(p, static_cast<int64_t>(i));
      if (argmax(q) == target) found.emplace_back(cands[i], q);
      if (scored) scored->emplace_back(q[target], cands[i]);
    }
  }

  void mice(int64_t target, std::vector<std::pair<Candidate, std::vector<double>>>& found) {
    std::vector<Candidate> beam = {{ids_, words_, "mice"}};
    for (int64_t round = 0; round < o_.rounds && found.empty(); ++round) {
      std::vector<std::pair<double, Candidate>> scored;
      for (const Candidate& x : beam) {
        const auto order = by_score(attribution(x.ids, target));
        if (order.empty()) continue;
        double lo = 0, hi = o_.max_mask;
        for (int64_t step = 0; step < o_.search_steps; ++step) {
          const double f = step == 0 ? hi : (lo + hi) / 2;
          const int64_t m = std::clamp<int64_t>(static_cast<int64_t>(std::llround(f * x.ids.size())), 1,
                                                static_cast<int64_t>(order.size()));
          const auto [seq, w] = blank(x.ids, x.words, std::vector<int64_t>(order.begin(), order.begin() + m));
          const size_t before = found.size();
          collect(infill(seq, w, target, "mice"), target, found, &scored);
          if (found.size() > before) hi = f;
          else if (step == 0) break;  // not even the largest share flips: the next round edits further
          else lo = f;
        }
      }
      std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      beam.clear();
      for (size_t k = 0; k < scored.size() && static_cast<int64_t>(beam.size()) < o_.beam; ++k) beam.push_back(scored[k].second);
    }
  }

  void crest(int64_t target, std::vector<std::pair<Candidate, std::vector<double>>>& found) {
    std::vector<Candidate> beam = {{ids_, words_, "crest"}};
    for (int64_t round = 0; round < 2 && found.empty(); ++round) {
      std::vector<std::pair<double, Candidate>> scored;
      for (const Candidate& x : beam) {
        const auto order = by_score(attribution(x.ids, target));
        if (order.empty()) continue;
        const int64_t m = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(o_.sparsity * x.ids.size())), 1,
                                              static_cast<int64_t>(order.size()));
        // The rationale: the top positions, widened to spans (a neighbour between two chosen
        // tokens joins them).
        std::vector<char> in(x.ids.size(), 0);
        for (int64_t k = 0; k < m; ++k) in[order[k]] = 1;
        for (size_t t = 1; t + 1 < in.size(); ++t)
          if (!in[t] && in[t - 1] && in[t + 1] && order.size() > t) in[t] = 1;
        std::vector<int64_t> pos;
        for (size_t t = 0; t < in.size(); ++t)
          if (in[t]) pos.push_back(static_cast<int64_t>(t));
        const auto [seq, w] = blank(x.ids, x.words, pos);
        collect(infill(seq, w, target, "crest"), target, found, &scored);
      }
      std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      beam.clear();
      if (!scored.empty()) beam.push_back(scored[0].second);
    }
  }

  void polyjuice(int64_t target, std::vector<std::pair<Candidate, std::vector<double>>>& found) {
    const std::vector<std::string> codes = o_.codes.empty() ? polyjuice_codes() : o_.codes;
    const auto order = by_score(attribution(ids_, target));
    std::vector<int64_t> content;  // most important content words first
    for (int64_t t : order)
      if (perturb::has_letter(words_[t]) && !perturb::english_stop_words().count(words_[t])) content.push_back(t);
    const int64_t n = static_cast<int64_t>(ids_.size());
    std::vector<Candidate> cands;
    auto add = [&](std::vector<std::string> w, const std::string& code) {
      if (w.empty()) return;
      Candidate c{vocab_.encode(w), std::move(w), code};
      if (c.ids != ids_) cands.push_back(std::move(c));
    };
    for (const auto& code : codes) {
      if (code == "negation") {
        for (int64_t t = 0; t < n; ++t) {
          if (!kAuxiliaries.count(words_[t])) continue;
          auto w = words_;
          if (t + 1 < n && (w[t + 1] == "not" || w[t + 1] == "n't")) w.erase(w.begin() + t + 1);
          else w.insert(w.begin() + t + 1, "not");
          add(w, code);
        }
        for (int64_t t = 0; t < n; ++t)
          if (words_[t] == "not" || words_[t] == "never" || words_[t] == "n't") {
            auto w = words_;
            w.erase(w.begin() + t);
            add(w, code);
          }
      } else if (code == "quantifier") {
        for (int64_t t = 0; t < n; ++t) {
          const auto it = kQuantifiers.find(words_[t]);
          if (it == kQuantifiers.end()) continue;
          auto w = words_;
          w[t] = it->second;
          add(w, code);
        }
      } else if (code == "shuffle") {  // two important content words change places
        const size_t k = std::min<size_t>(content.size(), 4);
        for (size_t i = 0; i < k; ++i)
          for (size_t j = i + 1; j < k; ++j) {
            auto w = words_;
            std::swap(w[content[i]], w[content[j]]);
            if (w != words_) add(w, code);
          }
      } else if (code == "delete") {  // the most important 1-3 token spans
        for (size_t i = 0; i < std::min<size_t>(order.size(), 3) && n > 1; ++i)
          for (int64_t len = 1; len <= 3 && len < n; ++len) {
            const int64_t s = std::min<int64_t>(order[i], n - len);
            auto w = words_;
            w.erase(w.begin() + s, w.begin() + s + len);
            add(w, code);
          }
      } else if (code == "lexical" || code == "resemantic" || code == "insert") {
        for (size_t i = 0; i < std::min<size_t>(content.size(), 3); ++i) {
          const int64_t t = content[i];
          std::vector<int64_t> seq = ids_;
          std::vector<std::string> w = words_;
          if (code == "lexical") {
            seq[t] = kMask;
          } else if (code == "resemantic") {  // a span of up to 3 around the word
            for (int64_t u = std::max<int64_t>(0, t - 1); u <= std::min<int64_t>(n - 1, t + 1); ++u) seq[u] = kMask;
          } else {
            seq.insert(seq.begin() + t, kMask);
            w.insert(w.begin() + t, "<mask>");
          }
          for (auto& c : infill(seq, w, target, code))
            if (c.ids != ids_) cands.push_back(std::move(c));
        }
      } else if (code == "restructure") {
        // The phrase around an important word (3 tokens) rewritten by the editor one word
        // shorter and one word longer: its structure changes, not only its words.
        for (size_t i = 0; i < std::min<size_t>(content.size(), 3); ++i) {
          const int64_t t = content[i];
          const int64_t lo = std::max<int64_t>(0, t - 1), hi = std::min<int64_t>(n - 1, t + 1), len = hi - lo + 1;
          for (const int64_t m : {len - 1, len + 1}) {
            if (m < 1) continue;
            std::vector<int64_t> seq(ids_.begin(), ids_.begin() + lo);
            std::vector<std::string> w(words_.begin(), words_.begin() + lo);
            seq.insert(seq.end(), m, kMask);
            w.insert(w.end(), m, "<mask>");
            seq.insert(seq.end(), ids_.begin() + hi + 1, ids_.end());
            w.insert(w.end(), words_.begin() + hi + 1, words_.end());
            for (auto& c : infill(seq, w, target, code))
              if (c.ids != ids_) cands.push_back(std::move(c));
          }
        }
      } else {
        throw InvalidArgument("counterfactual: control code '" + code +
                              "' is not built; built: negation, quantifier, shuffle, delete, lexical, resemantic, insert, restructure");
      }
    }
    collect(cands, target, found);
  }

  // Word-level edits from `a` to `b` (Levenshtein backtrace), at original positions.
  std::vector<perturb::Edit> diff(const std::vector<int64_t>& b, const std::vector<std::string>& bw) const {
    const auto& a = ids_;
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<int64_t>> d(n + 1, std::vector<int64_t>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int64_t>(i);
    for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int64_t>(j);
    for (size_t i = 1; i <= n; ++i)
      for (size_t j = 1; j <= m; ++j)
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (words_[i - 1] == bw[j - 1] ? 0 : 1)});
    std::vector<perturb::Edit> out;
    size_t i = n, j = m;
    while (i > 0 || j > 0) {
      if (i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + (words_[i - 1] == bw[j - 1] ? 0 : 1)) {
        if (words_[i - 1] != bw[j - 1]) out.push_back({perturb::EditKind::kReplace, 0, static_cast<int64_t>(i - 1), b[j - 1], bw[j - 1]});
        --i, --j;
      } else if (i > 0 && d[i][j] == d[i - 1][j] + 1) {
        out.push_back({perturb::EditKind::kDelete, 0, static_cast<int64_t>(i - 1), -1, ""});
        --i;
      } else {
        out.push_back({perturb::EditKind::kInsert, 0, static_cast<int64_t>(i), b[j - 1], bw[j - 1]});
        --j;
      }
    }
    std::reverse(out.begin(), out.end());
    for (auto& e : out)
      if (e.kind != perturb::EditKind::kDelete && e.word == vocab_.token(e.token)) e.word.clear();
    return out;
  }

  // Editor pseudo-perplexity (no label) of the positions within 5 of `changed` (at most 24 of
  // them, evenly spread), one editor row per position.
  double local_pppl(const std::vector<int64_t>& ids, const std::vector<int64_t>& changed) {
    const auto& c = editor_.model->config();
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(ids.size()), c.max_length - 2);
    std::set<int64_t> pos;
    for (int64_t t : changed)
      for (int64_t u = std::max<int64_t>(0, t - 5); u <= std::min<int64_t>(n - 1, t + 5); ++u) pos.insert(u);
    if (pos.empty()) return NAN;
    if (pos.size() > 24) {  // at most 24 positions, evenly spread (one editor row each)
      const std::vector<int64_t> all(pos.begin(), pos.end());
      pos.clear();
      for (int64_t k = 0; k < 24; ++k) pos.insert(all[k * all.size() / 24]);
    }
    const int64_t R = static_cast<int64_t>(pos.size());
    at::Tensor batch = torch::zeros({R, n + 2}, torch::kInt64);
    auto bp = batch.accessor<int64_t, 2>();
    std::vector<int64_t> rows, targets;
    int64_t r = 0;
    for (int64_t t : pos) {
      bp[r][0] = data::Vocab::kBos;
      for (int64_t u = 0; u < n; ++u) bp[r][u + 1] = ids[u];
      bp[r][n + 1] = data::Vocab::kEos;
      bp[r][t + 1] = c.mask_id();
      rows.push_back(r * (n + 2) + t + 1);
      targets.push_back(ids[t]);
      ++r;
    }
    torch::NoGradGuard no_grad;
    const at::Tensor h = editor_.model->hidden(batch, torch::full({R}, n + 2, torch::kInt64), torch::full({R}, -1, torch::kInt64));
    const at::Tensor lp = torch::log_softmax(editor_.model->logits(h.reshape({-1, h.size(2)}).index_select(0, torch::tensor(rows))).to(torch::kDouble), 1);
    ++passes_;
    const double nll = -lp.gather(1, torch::tensor(targets).unsqueeze(1)).mean().item<double>();
    return std::exp(nll);
  }

  void finish(CounterfactualResult& r, std::vector<std::pair<Candidate, std::vector<double>>>& found) {
    if (found.empty()) {
      r.reason = "no candidate reached the target";
      return;
    }
    r.flipped = true;
    std::vector<Counterfactual> all;
    std::set<std::vector<std::string>> seen;
    for (auto& [c, q] : found) {
      if (!seen.insert(c.words).second) continue;
      Counterfactual cf;
      cf.tokens = c.words;
      cf.code = c.code;
      cf.probs = q;
      cf.prediction = argmax(q);
      cf.distance = word_distance(r.original, c.words);
      cf.minimality = static_cast<double>(cf.distance) / std::max<size_t>(1, r.original.size());
      cf.edits = diff(c.ids, c.words);
      all.push_back(std::move(cf));
    }
    std::stable_sort(all.begin(), all.end(), [&](const Counterfactual& a, const Counterfactual& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.probs[r.target] > b.probs[r.target];
    });
    if (static_cast<int64_t>(all.size()) > o_.keep) all.resize(o_.keep);
    for (auto& cf : all) {
      std::vector<int64_t> changed_orig, changed_new;
      int64_t shift = 0;
      for (const auto& e : cf.edits) {
        changed_orig.push_back(std::min<int64_t>(e.position, static_cast<int64_t>(ids_.size()) - 1));
        changed_new.push_back(std::max<int64_t>(0, std::min<int64_t>(e.position + shift, static_cast<int64_t>(cf.tokens.size()) - 1)));
        shift += e.kind == perturb::EditKind::kInsert ? 1 : e.kind == perturb::EditKind::kDelete ? -1 : 0;
      }
      const double a = local_pppl(ids_, changed_orig), b = cf.tokens.empty() ? NAN : local_pppl(vocab_.encode(cf.tokens), changed_new);
      cf.fluency = std::isfinite(a) && std::isfinite(b) && a > 0 ? b / a : NAN;
    }
    r.counterfactuals = std::move(all);
    if (r.counterfactuals.size() >= 2) {
      double s = 0;
      for (size_t i = 0; i < r.counterfactuals.size(); ++i) {
        std::vector<std::vector<std::string>> refs;
        for (size_t j = 0; j < r.counterfactuals.size(); ++j)
          if (j != i) refs.push_back(r.counterfactuals[j].tokens);
        s += bleu(r.counterfactuals[i].tokens, refs);
      }
      r.self_bleu = s / r.counterfactuals.size();
    }
  }

  models::TextClassifier& model_;
  models::Editor& editor_;
  const data::Vocab& vocab_;
  CounterfactualOptions o_;
  Rng rng_;
  std::vector<int64_t> ids_, ids_b_;
  std::vector<std::string> words_;
  int64_t passes_ = 0, queries_ = 0;
};

}  // namespace

std::vector<std::string> polyjuice_codes() {
  return {"negation", "quantifier", "shuffle", "delete", "lexical", "resemantic", "insert", "restructure"};
}

void CounterfactualOptions::validate() const {
  if (method != "mice" && method != "polyjuice" && method != "crest")
    throw InvalidArgument("counterfactual: method must be mice, polyjuice or crest; got '" + method + "'");
  if (samples < 1 || search_steps < 1 || rounds < 1 || beam < 1 || keep < 1)
    throw InvalidArgument("counterfactual: samples, search steps, rounds, beam and keep must be at least 1");
  if (!(max_mask > 0 && max_mask <= 1)) throw InvalidArgument("counterfactual: max_mask must be in (0, 1]");
  if (!(sparsity > 0 && sparsity <= 1)) throw InvalidArgument("counterfactual: sparsity must be in (0, 1]");
  const auto built = polyjuice_codes();
  for (const auto& c : codes)
    if (std::find(built.begin(), built.end(), c) == built.end())
      throw InvalidArgument("counterfactual: control code '" + c +
                            "' is unknown; built: negation, quantifier, shuffle, delete, lexical, resemantic, insert, restructure");
}

Json CounterfactualOptions::to_json() const {
  return {{"method", method}, {"target", target}, {"codes", codes.empty() ? polyjuice_codes() : codes},
          {"samples", samples}, {"max_mask", max_mask}, {"search_steps", search_steps}, {"rounds", rounds},
          {"beam", beam}, {"sparsity", sparsity}, {"keep", keep}, {"seed", seed}};
}

std::vector<CounterfactualResult> generate_counterfactuals(models::TextClassifier& model, models::Editor& editor,
                                                           const data::Vocab& vocab,
                                                           const std::vector<data::Example>& examples,
                                                           const CounterfactualOptions& options) {
  options.validate();
  if (editor.vocab.tokens() != vocab.tokens())
    throw ModelError("counterfactual: the editor was trained on another vocabulary; train one for this run with `lumen train-editor`");
  if (options.target >= model->config().num_classes)
    throw InvalidArgument("counterfactual: target " + std::to_string(options.target) + " is not a class of the model");
  models::EvalGuard eval(model);
  editor.model->eval();
  Generator g(model, editor, vocab, options);
  std::vector<CounterfactualResult> out;
  for (size_t i = 0; i < examples.size(); ++i) out.push_back(g.run(examples[i], static_cast<int64_t>(i)));
  return out;
}

Json CounterfactualResult::to_json(const std::vector<std::string>& names) const {
  auto name = [&](int64_t k) { return k >= 0 && k < static_cast<int64_t>(names.size()) ? Json(names[k]) : Json(k); };
  Json cfs = Json::array();
  for (const auto& c : counterfactuals) {
    Json edits = Json::array();
    for (const auto& e : c.edits) edits.push_back(e.to_json());
    cfs.push_back({{"tokens", c.tokens}, {"edits", edits}, {"code", c.code}, {"prediction", name(c.prediction)},
                   {"probabilities", c.probs}, {"minimality", c.minimality}, {"distance", c.distance},
                   {"fluency", std::isfinite(c.fluency) ? Json(c.fluency) : Json(nullptr)}});
  }
  Json j{{"index", index}, {"original", {{"tokens", original}, {"prediction", name(original_prediction)}, {"probabilities", original_probs}}},
         {"target", name(target)}, {"flipped", flipped}, {"counterfactuals", cfs}, {"editor_passes", editor_passes},
         {"queries", queries}, {"seconds", seconds}, {"self_bleu", self_bleu >= 0 ? Json(self_bleu) : Json(nullptr)}};
  if (!reason.empty()) j["reason"] = reason;
  return j;
}

}  // namespace lumen::attack
