#include "attack/verify.h"

#include <torch/torch.h>

#include <cmath>
#include <set>

#include "data/batch.h"
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
  for (const AttackResult& r : run.results) {
    if (r.status != Status::kSucceeded) continue;
    ++rep.checked;
    auto bad = [&](const std::string& what) { rep.violations.push_back({r.index, what}); };
    const data::Example& ex = examples.at(r.index);
    if (r.original != ex.tokens) bad("the original words are not the example's tokens");
    const int64_t n = static_cast<int64_t>(r.original.size());
    // The edits, from scratch.
    std::vector<std::string> rebuilt = r.original;
    std::set<int64_t> seen;
    int64_t chars = 0;
    for (const perturb::Edit& e : r.edits) {
      if (e.kind != perturb::EditKind::kReplace || e.text != 0) {
        bad("an edit that is not a replacement in the first text");
        continue;
      }
      if (e.position < 0 || e.position >= n) {
        bad("an edit outside the text");
        continue;
      }
      if (!seen.insert(e.position).second) bad("position " + std::to_string(e.position) + " modified twice");
      const std::string& before = r.original[e.position];
      const std::string after = e.word.empty() ? vocab.token(e.token) : e.word;
      if (vocab.id(after) != e.token) bad("edit at " + std::to_string(e.position) + ": word and token id disagree");
      rebuilt[e.position] = after;
      if (!perturb::has_letter(before)) bad("a token without letters was modified: " + before);
      if (c.stop_words && perturb::english_stop_words().count(before)) bad("a stop word was modified: " + before);
      if (protected_words.count(before)) bad("a protected word was modified: " + before);
      if (specials.count(after) || after.empty()) bad("a special or empty token was inserted");
      if (c.min_cosine > 0 && cosine(vectors, vocab.id(before), e.token) < c.min_cosine - 1e-6)
        bad("cosine below " + std::to_string(c.min_cosine) + ": " + before + " -> " + after);
      if (wn) {
        const uint8_t a = wn->parts_of_speech(before), b = wn->parts_of_speech(after);
        if (a != 0 && b != 0 && (a & b) == 0) bad("no shared part of speech: " + before + " -> " + after);
      }
      chars += perturb::char_distance(before, after);
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
