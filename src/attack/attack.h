// Adversarial examples (the survey's 3.1.3.1): word-level attacks on a trained classifier,
// batched across examples through the one variant evaluator, every emitted example re-checked
// by separate code (verify.h).
//
// Recipes (options.cpp; where they differ from their papers is in docs/attacks.md):
//   textfooler   deletion ranking; embedding-neighbour swaps (K = 50, cosine >= 0.5); stop
//                words, part of speech; a word-share cap stands in for the sentence encoder
//   pwws         WordNet synonyms; probability-weighted word saliency order
//   deepwordbug  <unk> ranking; character swaps, deletions, insertions, substitutions;
//                total edit distance <= 30
//   hotflip      first-order gradient flips over the vocabulary (top candidates per step
//                evaluated exactly); at most 2 words, cosine >= 0.8 in the model's embedding
//   bae          deletion ranking; the editor's 50 fills of the masked word; part of speech;
//                a word-share cap stands in for the sentence encoder
//   bert-attack  <unk> ("[MASK]") ranking; the editor's 48 fills; at most 40% of the words
//   clare        the editor's replace / insert / merge (50 fills each, least confidence per
//                action), every (position, action) scored once and applied best first
//   semattack    an embedding perturbation optimised against the true class, projected onto
//                the words of the semantic spaces (synonyms, neighbours, typos)
//   alzantot     the genetic search over 8 embedding neighbours (Alzantot et al. 2018)
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/classifier.h"
#include "perturb/constraints.h"
#include "perturb/edit.h"
#include "perturb/variant_evaluator.h"

namespace lumen::attack {

// How the positions to attack are ordered (greedy word-importance search).
enum class Ranking { kDelete, kUnk, kGradient, kPwws };
std::string to_string(Ranking r);
Ranking parse_ranking(const std::string& s);

// Where replacement words come from.
// kEditor: the fills of Lumen's masked language model at the masked word (BAE, BERT-Attack).
// kEditorActions: CLARE's replace, insert and merge, each filled by the masked language model.
// kSemantic: SemAttack's semantic spaces (WordNet synonyms, embedding neighbours, typos in the
// vocabulary), reached by optimising a perturbation of the embeddings and projecting it.
enum class Transformation { kEmbedding, kWordNet, kChars, kGradient, kEditor, kEditorActions, kSemantic };
std::string to_string(Transformation t);

// How candidates are searched. kGreedy: the recipe's own greedy search (word importance, PWWS's
// order, HotFlip's gradient steps, CLARE's action order, SemAttack's projections). kBeam:
// TextAttack's BeamSearch, every candidate at every position of every beam text each step, the
// `beam_width` best kept (width 1 = its GreedySearch). kGenetic: Alzantot et al. 2018's
// population search.
enum class Search { kGreedy, kBeam, kGenetic };
std::string to_string(Search s);
Search parse_search(const std::string& s);

struct AttackOptions {
  // textfooler | pwws | deepwordbug | hotflip: sets the fields below (recipe_options).
  std::string recipe = "textfooler";
  Ranking ranking = Ranking::kDelete;
  Transformation transformation = Transformation::kEmbedding;
  Search search = Search::kGreedy;
  perturb::ConstraintOptions constraints;
  // Beam search: texts kept per step.
  int64_t beam_width = 4;
  // Genetic search (TextAttack's AlzantotGeneticAlgorithm defaults): population, generations,
  // and the softmax temperature of parent selection by fitness (1 - p(true class)).
  int64_t population = 60;
  int64_t generations = 20;
  double temperature = 0.3;
  // Fluency under the editor: the editor's pseudo-perplexity of the words within 2 of every
  // change in the perturbed text over the same of the original (at most 24 positions each) may
  // be at most this; 0 = off. Needs the editor. Checked on the best candidates first, re-checked
  // on every emitted example.
  double max_fluency_ratio = 0;
  // CLARE: the editor's least probability of a fill (TextAttack's min_confidence) per action;
  // actions are scored at the `clare_positions` most important positions (deletion score; 0 =
  // every position) with each action's `clare_score_fills` most probable fills, then applied
  // with all `candidates` fills.
  double min_fill_replace = 5e-4, min_fill_insert = 0.0, min_fill_merge = 5e-3;
  int64_t clare_positions = 20;
  int64_t clare_score_fills = 10;
  // SemAttack: optimisation steps of the embedding perturbation (Adam), its step size relative
  // to the mean embedding norm, the weight of its squared norm, and how often it is projected
  // onto real words and evaluated.
  int64_t sem_steps = 40;
  double sem_step_size = 0.1;
  double sem_norm_weight = 0.05;
  int64_t sem_project_every = 5;
  // Candidate replacements per position (neighbours, synonyms, character edits, flips).
  int64_t candidates = 50;
  // Model queries per example (every evaluated variant counts, the original included); -1 = no
  // limit. An example that runs out fails with reason "query budget".
  int64_t query_budget = -1;
  // Texts longer than this are skipped (typed result), so one huge text cannot stall a run.
  int64_t max_length = 2000;
  // Examples attacked in lockstep: their candidates share the evaluator's passes.
  int64_t batch = 64;
  uint64_t seed = 0;
  perturb::EvaluatorOptions evaluator;
  // Word vectors for neighbours and cosines: empty = the model's own embedding.
  std::string vectors;
  // WordNet's database directory (pwws; part-of-speech constraint).
  std::string wordnet_dir;
  // The editor (`lumen train-editor`) for the masked-LM recipes; it must share the run's vocabulary.
  std::string editor_dir;
  void validate() const;
  Json to_json() const;
};

// The recipe's settings; throws InvalidArgument listing the recipes for an unknown name, and
// names the recipes that need Lumen's masked language model (not built yet).
AttackOptions recipe_options(const std::string& recipe);
std::vector<std::string> recipe_names();
// Whether the options need the editor (masked-LM transformations, the fluency constraint).
bool needs_editor(const AttackOptions& o);

// The recipes' cosine thresholds are those of their papers, meant for synonym-tuned vectors
// (counter-fitted GloVe). A task model's own embedding does not place synonyms together
// (cosines of trained neighbours are mostly far below 0.5), so without options.vectors the
// threshold is dropped unless the user set it (`user_set_cosine`); returns the warning to
// report, empty when nothing changed.
std::string adapt_to_vectors(AttackOptions& options, bool user_set_cosine);

enum class Status { kSucceeded, kFailed, kSkipped };
std::string to_string(Status s);

struct AttackResult {
  int64_t index = 0;  // position in the attacked examples
  Status status = Status::kSkipped;
  std::string reason;  // failed / skipped: why
  int64_t label = -1;
  std::vector<std::string> original, perturbed;  // words as written
  std::vector<perturb::Edit> edits;              // replacements at original positions
  std::vector<double> original_probs, perturbed_probs;
  int64_t original_prediction = -1, perturbed_prediction = -1;
  int64_t queries = 0;
  double seconds = 0;
  // max_fluency_ratio set: the perturbed text's fluency ratio (NaN otherwise).
  double fluency_ratio = NAN;
  // Positions of the example's known rationale (synthetic tasks), to measure where attacks act.
  std::vector<int64_t> rationale;
  int64_t words_changed() const { return static_cast<int64_t>(edits.size()); }
  Json to_json(const std::vector<std::string>& label_names) const;
};

struct AttackTimings {
  double model = 0;        // the variant evaluator and gradient passes
  double constraints = 0;  // generating candidates and checking constraints
  double total = 0;
  int64_t passes = 0, variants = 0;  // evaluator passes and variants, for the mean batch
  Json to_json() const;
};

struct AttackRun {
  std::vector<AttackResult> results;
  AttackTimings timings;
};

// Attacks every example (tokens filled, labels set) with the model in eval mode. `progress`
// is called with the number of finished examples.
AttackRun run_attack(models::TextClassifier& model, const data::Vocab& vocab, const std::vector<data::Example>& examples,
                     const AttackOptions& options, const std::function<void(int64_t)>& progress = {});

// The word vectors the attack's neighbours and cosines use: options.vectors (GloVe / word2vec
// text, mapped onto the vocabulary; words without a vector get 0) or the model's embedding.
at::Tensor attack_vectors(models::TextClassifier& model, const data::Vocab& vocab, const AttackOptions& options);

// TextAttack's metrics with their denominators (shared/reference/metrics.md), the timings, and
// where the attacks acted when rationales are known.
Json summarize(const AttackRun& run, const AttackOptions& options);

}  // namespace lumen::attack
