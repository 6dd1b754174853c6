// Internal to src/attack/: the attacker every search shares (the state of each attacked example,
// candidate generation under the constraints, evaluation through the variant evaluator, the
// ranking of positions, gradients, applying an edit). The searches live one per file:
//   search.cpp     greedy word importance, PWWS, HotFlip
//   beam.cpp       beam search (TextAttack's BeamSearch; width 1 = its GreedySearch)
//   genetic.cpp    the population search of Alzantot et al. 2018
//   clare.cpp      CLARE's replace / insert / merge by the editor (Li et al. 2021)
//   semattack.cpp  the embedding-space search in the spirit of SemAttack (Wang et al. 2022)
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attack/attack.h"
#include "models/masked_lm.h"
#include "perturb/constraints.h"
#include "perturb/neighbours.h"
#include "perturb/wordnet.h"

namespace lumen::attack::detail {

using Clock = std::chrono::steady_clock;
inline double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One possible change of a text: a replacement of original position `position` (kind kReplace),
// an insertion before it (kInsert), or a merge of positions `position` and `position + 1` into
// one word (kReplace with merge = true: the replacement and a deletion).
struct Candidate {
  int64_t position = 0;
  int64_t id = 0;
  std::string word;
  double cosine = 0;
  perturb::EditKind kind = perturb::EditKind::kReplace;
  bool merge = false;
  // The edits this candidate adds (original positions).
  std::vector<perturb::Edit> edits(const std::string& vocab_word) const;
};

struct State {
  const data::Example* ex = nullptr;
  AttackResult result;
  std::vector<int64_t> original_ids;  // the first text as given
  std::vector<int64_t> ids;           // current token ids of the first text
  std::vector<int64_t> ids_b;         // second text (pairs), unchanged
  std::vector<std::string> words;     // current words as written
  std::vector<char> modified;         // per original position
  std::vector<char> inserted;         // per original position (and one past the end): an insertion before it
  std::vector<int64_t> order;         // positions to try, most important first
  std::vector<Candidate> pwws_best;   // pwws: the chosen candidate of each position in `order`
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

int64_t argmax(const std::vector<double>& p);
std::vector<double> row(const at::Tensor& probs, int64_t r);

class Attacker {
 public:
  Attacker(models::TextClassifier& model, const data::Vocab& vocab, const AttackOptions& o);
  AttackRun run(const std::vector<data::Example>& examples, const std::function<void(int64_t)>& progress);

  // ---- shared by the searches
  void init(State& s, const data::Example& ex, int64_t index);
  void skip(State& s, const std::string& why);
  void fail(State& s, const std::string& why);
  void succeed(State& s);
  std::vector<State*> active(std::vector<State>& states);
  // One evaluator call over variants of several states (Variant::row indexes `group`); counts queries.
  at::Tensor evaluate(const std::vector<State*>& group, const std::vector<perturb::Variant>& variants);
  // State s (row r of its group) with the replacement-only position t set to token `id`.
  static perturb::Variant swapped(int64_t r, const State& s, int64_t t, int64_t id);
  // State s (row r) with candidate c applied on top of its edits (any kind).
  perturb::Variant with(int64_t r, const State& s, const Candidate& c) const;
  // Candidate replacements of original position t of s (constraints applied, one per distinct id).
  std::vector<Candidate> candidates(const State& s, int64_t t);
  // The editor's top fills (no label) at the masked position of `masked` (the editor's ids with
  // one mask), most probable first, with their probabilities; `exclude` is never returned.
  std::vector<std::pair<int64_t, double>> editor_fills(const std::vector<int64_t>& masked, int64_t exclude, int64_t k);
  // Batched: one editor pass for many masked texts.
  std::vector<std::vector<std::pair<int64_t, double>>> editor_fills(const std::vector<std::vector<int64_t>>& masked,
                                                                    const std::vector<int64_t>& exclude, int64_t k);
  // Positions in order of importance (state.order); fails states with nothing to modify.
  void rank(std::vector<State>& states);
  // Gradient of the true class's probability with respect to the first text's embeddings [n, E].
  std::vector<at::Tensor> gradients(const std::vector<State*>& act);
  // Applies candidate c; probs = the evaluated distribution of the result.
  void apply(State& s, const Candidate& c, const std::vector<double>& probs);
  // Whether the candidate's text passes the fluency constraint (options.max_fluency_ratio);
  // checked lazily, best candidates first: returns the index into `order` of the first that
  // passes, or -1. Candidates are evaluated in chunks of 8 through one editor pass each.
  int64_t first_fluent(const State& s, const std::vector<const Candidate*>& order);
  // Whether the original of s with `edits` passes the fluency constraint (true when it is off).
  bool fluent_edits(const State& s, const std::vector<perturb::Edit>& edits);

  void choose_fluent(const std::vector<State*>& act, const std::vector<perturb::Variant>& vs,
                     const std::vector<Candidate>& cands, const at::Tensor& p, std::vector<int64_t>& best,
                     std::vector<int64_t>& flip);

  // Per state of `act`: applies its flipping candidate (and succeeds), else its best one when it
  // lowers the true class (and fails at the word budget); -1 = nothing this round.
  void apply_choices(const std::vector<State*>& act, const at::Tensor& p, const std::vector<Candidate>& cands,
                     const std::vector<int64_t>& best, const std::vector<int64_t>& flip);

  // ---- the searches
  void attack_group(std::vector<State>& states);
  void greedy(std::vector<State>& states);
  void pwws(std::vector<State>& states);
  void hotflip(std::vector<State>& states);
  void beam(std::vector<State>& states);
  void genetic(std::vector<State>& states);
  void clare(std::vector<State>& states);
  void semattack(std::vector<State>& states);
  // CLARE's three actions at every original position of s (replace, insert before, merge with
  // the next word), each with the editor's top fills above the recipe's confidence.
  // `only`: the site codes (position * 3 + action) per state; `fills`: fills per action.
  std::vector<Candidate> clare_candidates(const std::vector<State*>& group, std::vector<int64_t>& owner,
                                          const std::vector<std::vector<int64_t>>* only, int64_t fills);

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
  double setup_ = 0;  // neighbour table, WordNet, editor
};

}  // namespace lumen::attack::detail
