// One instance's influential training examples, for the explorer (POST /api/influence) and
// any caller holding a run (app/attack.h has its adversarial examples).
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

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
