// The HTML view of `lumen explain`: one self-contained page (report/page.h) that shows, per
// instance, every method's scores as a token heatmap side by side (both texts of a pair), a
// bipartite token-to-token attention graph (self-attention of one head or the head average; for
// pair models without self-attention, the second text's encoding attending over the first
// text's tokens), the layer x head grid of attention maps, the rollout and flow maps, and with
// attention edits the prediction and attributions before and after. Every figure can be saved
// as SVG or PNG.
#pragma once
#include <string>

#include "core/json.h"

namespace lumen::report {

// `doc` is the JSON document of explain::explain_document.
std::string render_explain_view(const Json& doc, const std::string& title);
void write_explain_view(const std::string& path, const Json& doc, const std::string& title);

}  // namespace lumen::report
