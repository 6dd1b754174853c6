// The report sections of Wiegreffe & Pinter's controls (title, description, table, Plotly
// figures), built from the controls document that `lumen controls` writes (controls.json,
// analysis::ControlsResult::to_json). The analysis report shows them (ReportExtras::controls).
#pragma once
#include <vector>

#include "core/json.h"

namespace lumen::report {

// Throws DataError when `controls` is not a controls document.
std::vector<Json> controls_sections(const Json& controls);

}  // namespace lumen::report
