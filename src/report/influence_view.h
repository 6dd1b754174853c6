// The HTML view of `lumen influence`: the method, its sign convention and diagnostics, and per
// test example its text, label and prediction, the top proponents and opponents (label, text,
// score) and the distribution of its scores over the training set; the self-influence ranking
// when computed. Rendered from influence::influence_document.
#pragma once
#include <string>

#include "core/json.h"

namespace lumen::report {

std::string render_influence_view(const Json& document, const std::string& title);
void write_influence_view(const std::string& path, const Json& document, const std::string& title);

}  // namespace lumen::report
