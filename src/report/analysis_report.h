// The HTML report of `lumen analyze` (and `lumen report` for several models side by side): one
// self-contained file with the plotting library and the data inside, the paper's figures
// (tau histograms per class, permutation violins by maximum-attention bin, maximum-JSD
// histograms and violins), a comparison of the models, the Wiegreffe & Pinter controls when
// present, and a browsable table of instances with attention, gradient, leave-one-out and
// adversarial attention as heatmaps over the text. Every figure has SVG and PNG download
// buttons. Text reaches the page only through textContent (never parsed as HTML), and the
// embedded JSON escapes <, > and &.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "report/page.h"

namespace lumen::report {

struct AnalysisData {
  std::string name;
  Json summary;
  std::vector<Json> records;
  // Reads summary.json and records.jsonl of an analysis directory. Throws IoError/DataError.
  static AnalysisData load(const std::string& dir);
};

// Optional extra sections (Wiegreffe & Pinter controls: report::controls_sections).
struct ReportExtras {
  std::vector<Json> controls;
};

// The page as a string; `title` defaults to a title naming the models.
std::string render_analysis_report(const std::vector<AnalysisData>& analyses, const ReportExtras& extras = {},
                                   const std::string& title = "");
// Writes render_analysis_report(...) atomically to `path`.
void write_analysis_report(const std::string& path, const std::vector<AnalysisData>& analyses,
                           const ReportExtras& extras = {}, const std::string& title = "");

}  // namespace lumen::report
