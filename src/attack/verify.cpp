#include "attack/verify.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <set>

#include "data/batch.h"
#include "models/masked_lm.h"
#include "models/eval_guard.h"
#include "perturb/char_edits.h"
#include "perturb/stop_words.h"
#include "perturb/wordnet.h"

namespace lumen::attack {

Json VerifyReport::to_json() const {
  Json v = Json::array();
  for (const auto& x : violations) v.push_back({{"index", x.index}, {"what", x.what}});
  return {{"checked", checked}, {"violations", violations.size()}, {"details", v}};
}

namespace {
double cosine(const at::Tensor& vectors, int64_t a, int64_t b) {
  const at::Tensor x = vectors[a].to(torch::kDouble), y = vectors[b].to(torch::kDouble);
  const double nx = x.norm().item<double>(), ny = y.norm().item<double>();
  return nx > 0 && ny > 0 ? (x * y).sum().item<double>() / (nx * ny) : 0.0;
}
// The editor's mean negative log-likelihood of the positions within 2 of `centres` (at most 24,
// evenly spread, inside the editor's window), each masked in its own forward pass; NaN if none.
double pseudo_nll(models::Editor& editor, const std::vector<int64_t>& ids, const std::vector<int64_t>& centres) {
  const auto& cfg = editor.model->config();
  const int64_t n = static_cast<int64_t>(ids.size()), m = std::min<int64_t>(n, cfg.max_length - 2);
  std::set<int64_t> pos;
  for (int64_t t : centres)
    for (int64_t u = std::min(t, n - 1) - 2; u <= std::min(t, n - 1) + 2; ++u)
      if (u >= 0 && u < m) pos.insert(u);
  std::vector<int64_t> all(pos.begin(), pos.end()), use;
  if (all.size() <= 24) use = all;
  else
    for (size_t k = 0; k < 24; ++k) use.push_back(all[k * all.size() / 24]);
  if (use.empty()) return NAN;
  double nll = 0;
  for (int64_t t : use) {
    std::vector<int64_t> row = {data::Vocab::kBos};
    for (int64_t u = 0; u < m; ++u) row.push_back(u == t ? cfg.mask_id() : ids[u]);
    row.push_back(data::Vocab::kEos);
    const int64_t T = static_cast<int64_t>(row.size());
    const at::Tensor h = editor.model->hidden(torch::tensor(row).unsqueeze(0), torch::tensor({T}), torch::tensor({int64_t{-1}}));
    const at::Tensor lp = torch::log_softmax(editor.model->logits(h[0][t + 1].unsqueeze(0)).to(torch::kDouble), 1);
    nll -= lp[0][ids[t]].item<double>();
  }
  return nll / static_cast<double>(use.size());
}

}  // namespace

VerifyReport verify_attacks(models::TextClassifier& model, const data::Vocab& vocab, const AttackRun& run,
                            const AttackOptions& o, const at::Tensor& vectors, bool pair,
                            const std::vector<data::Example>& examples) {
  VerifyReport rep;
  models::EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  const auto& c = o.constraints;
  std::unique_ptr<perturb::WordNet> wn;
  if (c.same_pos) wn = std::make_unique<perturb::WordNet>(o.wordnet_dir.empty() ? perturb::WordNet::default_dir() : o.wordnet_dir);
  const std::set<std::string> protected_words(c.protected_words.begin(), c.protected_words.end());
  const std::set<std::string> specials = {"<pad>", "<s>", "</s>"};
  std::unique_ptr<models::Editor> editor;
  if (o.max_fluency_ratio > 0) editor = std::make_unique<models::Editor>(models::load_editor(o.editor_dir, &vocab));
  for (const AttackResult& r : run.results) {
    if (r.status != Status::kSucceeded) continue;
    ++rep.checked;
    auto bad = [&](const std::string& what) { rep.violations.push_back({r.index, what}); };
    const data::Example& ex = examples.at(r.index);
    if (r.original != ex.tokens) bad("the original words are not the example's tokens");
    const int64_t n = static_cast<int64_t>(r.original.size());
    // The edits, from scratch.
    const bool actions = o.transformation == Transformation::kEditorActions;
    std::map<int64_t, const perturb::Edit*> at, before;  // replacement or deletion / insertion at each position
    int64_t chars = 0;
    for (const perturb::Edit& e : r.edits) {
      if (e.text != 0) {
        bad("an edit of the second text");
        continue;
      }
      const bool insert = e.kind == perturb::EditKind::kInsert;
      if (e.position < 0 || e.position > n || (!insert && e.position == n)) {
        bad("an edit outside the text");
        continue;
      }
      if (e.kind != perturb::EditKind::kReplace && !actions) {
        bad("an edit that is not a replacement (" + perturb::to_string(e.kind) + ")");
        continue;
      }
      auto& slot = insert ? before : at;
      if (!slot.emplace(e.position, &e).second)
        bad("position " + std::to_string(e.position) + (insert ? " has two insertions" : " modified twice"));
      if (e.kind != perturb::EditKind::kDelete) {
        const std::string after = e.word.empty() ? vocab.token(e.token) : e.word;
        if (vocab.id(after) != e.token) bad("edit at " + std::to_string(e.position) + ": word and token id disagree");
        if (specials.count(after) || after.empty() || e.token == data::Vocab::kPad || e.token == data::Vocab::kBos ||
            e.token == data::Vocab::kEos)
          bad("a special or empty token was inserted");
      }
      if (insert) continue;
      const std::string& before_word = r.original[e.position];
      if (!perturb::has_letter(before_word)) bad("a token without letters was modified: " + before_word);
      if (c.stop_words && perturb::english_stop_words().count(before_word)) bad("a stop word was modified: " + before_word);
      if (protected_words.count(before_word)) bad("a protected word was modified: " + before_word);
      if (e.kind == perturb::EditKind::kDelete) continue;
      const std::string after = e.word.empty() ? vocab.token(e.token) : e.word;
      if (c.min_cosine > 0 && cosine(vectors, vocab.id(before_word), e.token) < c.min_cosine - 1e-6)
        bad("cosine below " + std::to_string(c.min_cosine) + ": " + before_word + " -> " + after);
      if (wn) {
        const uint8_t a = wn->parts_of_speech(before_word), b = wn->parts_of_speech(after);
        if (a != 0 && b != 0 && (a & b) == 0) bad("no shared part of speech: " + before_word + " -> " + after);
      }
      chars += perturb::char_distance(before_word, after);
    }
    // A deletion is the second word of a merge: the word before it is replaced.
    for (const auto& [p, e] : at)
      if (e->kind == perturb::EditKind::kDelete) {
        auto prev = at.find(p - 1);
        if (prev == at.end() || prev->second->kind != perturb::EditKind::kReplace || before.count(p))
          bad("a deletion at " + std::to_string(p) + " that is not part of a merge");
      }
    std::vector<std::string> rebuilt;
    std::vector<int64_t> changed_new, touched;
    for (const auto& e : r.edits) touched.push_back(e.position);
    for (int64_t p = 0; p <= n; ++p) {
      if (auto it = before.find(p); it != before.end()) {
        changed_new.push_back(static_cast<int64_t>(rebuilt.size()));
        rebuilt.push_back(it->second->word.empty() ? vocab.token(it->second->token) : it->second->word);
      }
      if (p == n) break;
      auto it = at.find(p);
      if (it == at.end()) {
        rebuilt.push_back(r.original[p]);
        continue;
      }
      changed_new.push_back(static_cast<int64_t>(rebuilt.size()));
      if (it->second->kind == perturb::EditKind::kReplace)
        rebuilt.push_back(it->second->word.empty() ? vocab.token(it->second->token) : it->second->word);
    }
    if (editor) {
      const double a = pseudo_nll(*editor, vocab.encode(r.original), touched);
      const double b = pseudo_nll(*editor, vocab.encode(rebuilt), changed_new);
      const double ratio = std::isfinite(a) && std::isfinite(b) ? std::exp(b - a) : 1.0;
      if (ratio > o.max_fluency_ratio * (1 + 1e-6))
        bad("fluency ratio " + std::to_string(ratio) + " above " + std::to_string(o.max_fluency_ratio));
      if (!(std::abs(ratio - r.fluency_ratio) <= 1e-4 * std::max(1.0, ratio))) bad("the claimed fluency ratio differs");
    }
    if (rebuilt != r.perturbed) bad("the edits do not give the perturbed words");
    int64_t allowed = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(c.max_word_share * n - 1e-9)));
    if (c.max_words > 0) allowed = std::min(allowed, c.max_words);
    if (static_cast<int64_t>(r.edits.size()) > allowed)
      bad(std::to_string(r.edits.size()) + " words changed, the budget is " + std::to_string(allowed));
    if (c.max_char_distance > 0 && chars > c.max_char_distance) bad("character distance " + std::to_string(chars));
    if (o.query_budget > 0 && r.queries > o.query_budget) bad("more queries than the budget");
    // A fresh forward pass on the perturbed words, and on the original.
    for (int which = 0; which < 2; ++which) {
      data::Example e = ex;
      e.tokens = which == 0 ? r.perturbed : r.original;
      const data::Batch b = data::make_batch({&e}, vocab, pair);
      const at::Tensor p = torch::softmax(model->forward(b).logits.to(torch::kDouble), 1)[0].contiguous();
      const int64_t pred = p.argmax().item<int64_t>();
      const auto& claimed = which == 0 ? r.perturbed_probs : r.original_probs;
      const int64_t claimed_pred = which == 0 ? r.perturbed_prediction : r.original_prediction;
      if (pred != claimed_pred) bad(std::string(which == 0 ? "perturbed" : "original") + " prediction differs in a fresh pass");
      for (int64_t k = 0; k < p.size(0) && k < static_cast<int64_t>(claimed.size()); ++k)
        if (std::abs(p[k].item<double>() - claimed[k]) > 1e-4) {
          bad(std::string(which == 0 ? "perturbed" : "original") + " probabilities differ in a fresh pass");
          break;
        }
      if (which == 0 && pred == r.label) bad("the perturbed text keeps the label");
    }
  }
  return rep;
}

CheckedAttack attack_and_verify(models::TextClassifier& model, const data::Vocab& vocab,
                                const std::vector<data::Example>& examples, const AttackOptions& options, bool pair,
                                const std::function<void(int64_t)>& progress) {
  CheckedAttack c;
  c.run = run_attack(model, vocab, examples, options, progress);
  const at::Tensor vectors = options.constraints.min_cosine > 0 ? attack_vectors(model, vocab, options) : at::Tensor();
  c.check = verify_attacks(model, vocab, c.run, options, vectors, pair, examples);
  return c;
}

}  // namespace lumen::attack
