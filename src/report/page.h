// The shell every Lumen HTML page shares: one self-contained file with plotly.js and the data
// embedded (no network), a common style, and a script prelude that records every error and
// console message, offers `figure(parent, title, traces, layout)` with SVG and PNG download
// buttons, and sets body data-status ("ok" once every figure has rendered without an error,
// else "error"), data-figures and data-errors for scripts/check-report.sh. Text reaches the
// page only through textContent; the embedded JSON escapes <, > and &.
#pragma once
#include <string>

#include "core/json.h"

namespace lumen::report {

// The page: `script` defines `function build(root)` that fills the <main> element from the
// global LUMEN (the parsed `data`). Title and subtitle are plain text (escaped here).
std::string render_page(const std::string& title, const std::string& subtitle, const Json& data, const char* script);

// JSON text safe inside a <script> element: <, > and & become \u003c, \u003e, \u0026.
std::string script_safe_json(const Json& j);
// &, <, >, " and ' escaped for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace lumen::report
