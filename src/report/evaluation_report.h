// The HTML report of `lumen evaluate-explanations`: the methods ranked with a verdict each
// (faithful / no better than random / ignores the model), ERASER comprehensiveness and
// sufficiency by bin, deletion curves against the random order, agreement between methods,
// the sanity checks (cascading and independent randomisation, label-permuted model) and
// plausibility against known rationales. Self-contained (report/page.h).
#pragma once
#include <string>

#include "core/json.h"

namespace lumen::report {

// `eval` is the JSON of analysis::evaluate_explanations.
std::string render_evaluation_report(const Json& eval, const std::string& title);
void write_evaluation_report(const std::string& path, const Json& eval, const std::string& title);

}  // namespace lumen::report
