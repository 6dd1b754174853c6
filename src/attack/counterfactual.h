// Counterfactuals (the survey's 3.1.3.2): what would have to change for another outcome.
//   mice       MiCE (Ross et al. 2021): mask the tokens with the largest gradient attribution
//              toward the target, infill them with the label-conditioned editor, binary search
//              over the masked share (up to 55%), beam search over edit rounds.
//   polyjuice  Polyjuice's control codes (Wu et al. 2021): negation, quantifier, shuffle and
//              delete by exact rules; lexical, resemantic, insert and restructure (a phrase
//              rewritten one word shorter or longer) by the editor. Blanks go where the
//              attribution is largest (the survey: perturb by token importance).
//   crest      CREST-style (Treviso et al. 2023): a sparse rationale (the top `sparsity` share of
//              the attribution, contiguous spans) decides where the editor rewrites; the sparsity
//              sets how close the counterfactual stays.
// Every candidate is scored through the variant evaluator; every reported counterfactual is
// re-checked by a fresh forward pass.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/classifier.h"
#include "models/masked_lm.h"
#include "perturb/edit.h"

namespace lumen::attack {

struct CounterfactualOptions {
  std::string method = "mice";  // mice | polyjuice | crest
  // Target class per example; -1 = the other class (binary) / the runner-up class.
  int64_t target = -1;
  // polyjuice: the control codes to try (empty = every built code).
  std::vector<std::string> codes;
  // Candidates the editor samples per infill (the first is its argmax fill).
  int64_t samples = 8;
  // mice: largest masked share, binary-search steps, edit rounds, beam width.
  double max_mask = 0.55;
  int64_t search_steps = 4;
  int64_t rounds = 3;
  int64_t beam = 2;
  // crest: the rationale's share of the tokens.
  double sparsity = 0.15;
  // Counterfactuals kept per example (for diversity).
  int64_t keep = 3;
  uint64_t seed = 0;
  void validate() const;
  Json to_json() const;
};

std::vector<std::string> polyjuice_codes();  // the built codes

struct Counterfactual {
  std::vector<std::string> tokens;
  std::vector<perturb::Edit> edits;  // position-level edits of the original
  std::string code;                  // polyjuice: the control code; mice / crest: the method
  std::vector<double> probs;
  int64_t prediction = -1;
  double minimality = 0;   // word-level Levenshtein distance / original length
  int64_t distance = 0;    // word-level Levenshtein distance (closeness)
  double fluency = 1;      // editor pseudo-perplexity of the edit / of the original (local window)
};

struct CounterfactualResult {
  int64_t index = 0;
  std::vector<std::string> original;
  std::vector<double> original_probs;
  int64_t original_prediction = -1, target = -1;
  bool flipped = false;
  std::string reason;                       // why no counterfactual was found
  std::vector<Counterfactual> counterfactuals;  // flips first (best first), at most `keep`
  int64_t editor_passes = 0, queries = 0;
  double seconds = 0;
  double self_bleu = -1;  // among the kept counterfactuals; -1 with fewer than two
  Json to_json(const std::vector<std::string>& label_names) const;
};

// Counterfactuals of every example. The editor must share the run's vocabulary (load it with
// models::load_editor(dir, &vocab)). Throws InvalidArgument for a target outside the classes.
std::vector<CounterfactualResult> generate_counterfactuals(models::TextClassifier& model, models::Editor& editor,
                                                           const data::Vocab& vocab,
                                                           const std::vector<data::Example>& examples,
                                                           const CounterfactualOptions& options);

// Flip rate, median and mean minimality, mean fluency ratio, mean closeness, diversity
// (self-BLEU), editor passes and seconds per instance; plus the re-check (a fresh forward pass
// of every reported counterfactual gives its claimed prediction; edits give its tokens).
Json summarize_counterfactuals(models::TextClassifier& model, const data::Vocab& vocab,
                               const std::vector<CounterfactualResult>& results, const std::vector<data::Example>& examples,
                               const CounterfactualOptions& options);

// Word-level Levenshtein distance.
int64_t word_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);
// BLEU-4 of `hyp` against `refs` (add-one smoothing of the 2-4-gram precisions, brevity penalty).
double bleu(const std::vector<std::string>& hyp, const std::vector<std::vector<std::string>>& refs);

}  // namespace lumen::attack
