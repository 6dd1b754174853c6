#include "app/controls.h"

#include "core/fs.h"
#include "report/analysis_report.h"
#include "report/controls_sections.h"
#include "train/train_run.h"

namespace lumen::app {

ControlsOutcome run_controls(models::Run& run, const ControlsRequest& request) {
  request.options.validate();
  data::Dataset ds = train::load_dataset_for_run(run, request.data == "run" ? "" : request.data);
  ControlsOutcome o;
  o.out = request.out.empty() ? join_path(run.dir, "controls") : request.out;
  make_dirs(o.out);
  o.controls = analysis::run_controls(run, ds, request.options, request.log ? request.log : [](const std::string&) {}).to_json();
  write_json_file(join_path(o.out, "controls.json"), o.controls);
  o.sections = report::controls_sections(o.controls);
  const std::string analysis_dir = join_path(run.dir, "analysis");
  if (path_exists(join_path(analysis_dir, "summary.json"))) {
    o.report = join_path(o.out, "report.html");
    report::ReportExtras extras;
    extras.controls = o.sections;
    report::write_analysis_report(o.report, {report::AnalysisData::load(analysis_dir)}, extras);
  }
  return o;
}

}  // namespace lumen::app
