// `lumen report`: one HTML page comparing the analyses of several models (and the Wiegreffe &
// Pinter controls written by `lumen controls`).
#include <cstdio>

#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "report/analysis_report.h"
#include "report/controls_sections.h"

namespace lumen::cli {

void register_report(CLI::App& app) {
  struct Options {
    std::vector<std::string> analyses, controls;
    std::string out, title;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("report", "Write one HTML report comparing the analyses of several models");
  cmd->add_option("analyses", o->analyses, "Analysis directories written by `lumen analyze`")->required();
  cmd->add_option("--out", o->out, "HTML file to write")->required();
  cmd->add_option("--title", o->title, "Page title");
  cmd->add_option("--controls", o->controls, "controls.json files written by `lumen controls`");
  cmd->callback([o] {
    std::vector<report::AnalysisData> data;
    for (const auto& d : o->analyses) {
      if (!is_directory(d)) throw IoError("report: " + d + " is not an analysis directory");
      data.push_back(report::AnalysisData::load(d));
    }
    report::ReportExtras extras;
    for (const auto& c : o->controls)
      for (auto& s : report::controls_sections(read_json_file(c))) extras.controls.push_back(std::move(s));
    report::write_analysis_report(o->out, data, extras, o->title);
    if (globals().json) {
      print_json({{"report", o->out}});
      return;
    }
    std::printf("%s\n", o->out.c_str());
  });
}

}  // namespace lumen::cli
