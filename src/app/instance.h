// One instance's adversarial example and its influential training examples, for the explorer
// (POST /api/attack, POST /api/influence) and any caller holding a run.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

// Attacks the model's prediction of one typed text ("FIRST<TAB>SECOND" for pairs) with a recipe
// that needs no editor (textfooler, pwws, deepwordbug, hotflip), re-checked by attack/verify.
// {"recipe", "result": the attack record (lumen attack's attacks.jsonl line), "verified"}.
// Throws InvalidArgument for an unknown recipe or one that needs the editor.
Json attack_text(const models::Run& run, const std::string& text, const std::string& recipe);

// Attacks the first `limit` examples of a split of the run's own data (their gold labels), for a
// background job: progress through core/progress (a server job's ProgressScope reports it and
// can cancel). {"kind": "attack", "recipe", "split", "summary", "results": [attack records]}.
Json attack_split(const models::Run& run, const std::string& split, int64_t limit, const std::string& recipe);

// Tokens joined by spaces; with a second text, "FIRST<TAB>SECOND": how the influence document
// writes an example's text (influence/document.cpp), and how a text is looked up in it.
std::string joined_tokens(const std::vector<std::string>& tokens);
std::string influence_key(const std::vector<std::string>& tokens, const std::vector<std::string>& tokens_b);

// Where a run's influence results are looked for: RUN/influence/influence.json (`lumen
// influence --run RUN --out RUN/influence`).
std::string influence_path(const models::Run& run);

// The influence document's entry for this text (its tokens as the run tokenizes them):
// {"found": true, "method", "test": {proponents, opponents, ...}} or {"found": false, "hint"}.
Json find_influence(const models::Run& run, const std::string& text);

}  // namespace lumen::app
