// The plotting library of the HTML reports: plotly.js (MIT), taken from the npm registry by
// scripts/install-deps.sh and embedded into the binary at build time, so that every report is
// one self-contained file that opens offline.
#pragma once
#include <string_view>

namespace lumen::report {

// The minified library, and its version as the build found it.
std::string_view plotly_js();
std::string_view plotly_version();

}  // namespace lumen::report
