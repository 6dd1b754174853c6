// The HTML view of `lumen attack`: the summary (TextAttack's metrics with their denominators,
// timings, the re-check) and, per example, the original and perturbed texts with the changed
// words marked and the predictions before and after; a figure of the outcomes and of the
// perturbed-word shares. Rendered from summary.json and the records of attacks.jsonl.
#pragma once
#include <string>

#include "core/json.h"

namespace lumen::report {

std::string render_attack_view(const Json& summary, const Json& records, const std::string& title);
void write_attack_view(const std::string& path, const Json& summary, const Json& records, const std::string& title);

}  // namespace lumen::report
