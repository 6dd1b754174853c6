// Adversarial examples as jobs (`lumen attack`, the server's POST /api/attack and attack jobs):
// a recipe with the user's overrides, run over examples, every emitted example re-checked, the
// summary and records, and (when asked) the files of `lumen attack --out`.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attack/attack.h"
#include "attack/verify.h"
#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

// A recipe and what the user overrides in it; a negative number, zero count or empty string
// keeps the recipe's own value (attack/attack.h documents each field).
struct AttackRequest {
  std::string recipe = "textfooler";
  std::string search, ranking, protect;  // protect: comma-separated words never modified
  int64_t beam_width = 0, population = 0, generations = 0;
  double max_fluency = -1;
  int64_t budget = -1, candidates = 0, max_words = -1;
  double max_share = -1, min_cosine = -1;
  std::string vectors, wordnet;
  // The editor directory for bae / bert-attack / clare and the fluency constraint (empty:
  // RUN/editor).
  std::string editor;
  int64_t max_length = 2000, batch = 64;
  uint64_t seed = 0;
  bool plain = false;  // plain candidate batches (no BiLSTM state reuse)
};

// The recipe's options with the request's overrides, validated; `warning` says what the word
// vectors changed (attack::adapt_to_vectors). The editor directory is set by run_attack.
struct PreparedAttack {
  attack::AttackOptions options;
  std::string warning;
};
PreparedAttack prepare_attack(const AttackRequest& request);

// Whether the run has an editor (RUN/editor, from `lumen train-editor`).
bool has_editor(const models::Run& run);

struct AttackOutcome {
  attack::CheckedAttack checked;
  Json summary;  // attack::summarize + verification, warnings, run, data, split, label_names
  Json records;  // one attack record per example (attacks.jsonl's lines)
};

// Attacks `examples` (their labels are what is attacked) with the run's model; `progress`
// receives the examples done. `data` and `split` are recorded in the summary.
AttackOutcome run_attack(const models::Run& run, const std::vector<data::Example>& examples, bool pair,
                         const PreparedAttack& prepared, const std::string& editor, const std::string& data,
                         const std::string& split, const std::function<void(int64_t)>& progress = {});

// OUT/attacks.jsonl, OUT/summary.json and (with `report`) OUT/attacks.html; returns the view's
// path ("" without). Then throws ModelError naming OUT/summary.json when an emitted example
// fails the re-check.
std::string write_attack(const std::string& out, const AttackOutcome& outcome, bool report, const std::string& title);

// The recipes a served run can run: textfooler, pwws, deepwordbug, hotflip, and with an editor
// bae, bert-attack and clare.
std::vector<std::string> served_recipes(const models::Run& run);

// Attacks the model's prediction of one typed text ("FIRST<TAB>SECOND" for pairs) with a served
// recipe, re-checked: {"recipe", "result": the attack record (lumen attack's attacks.jsonl
// line), "verified"}. Throws InvalidArgument for a recipe the run cannot serve.
Json attack_text(const models::Run& run, const std::string& text, const std::string& recipe);

// Attacks the first `limit` examples of a split of the run's own data (their gold labels), for a
// background job: progress through core/progress (a server job's ProgressScope reports it and
// can cancel). {"kind": "attack", "recipe", "split", "summary", "results": [attack records]}.
Json attack_split(const models::Run& run, const std::string& split, int64_t limit, const std::string& recipe);

}  // namespace lumen::app
