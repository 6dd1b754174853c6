// Wiegreffe & Pinter's controls of a run as a job (`lumen controls`): the data loaded as the run
// was trained, the control models trained and evaluated, OUT/controls.json, and the analysis
// report with the controls' sections when the run has been analysed.
#pragma once
#include <functional>
#include <string>

#include "analysis/controls.h"
#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

struct ControlsRequest {
  std::string data;  // a data spec (empty: the run's own data)
  std::string out;   // empty: RUN/controls
  analysis::ControlsOptions options;
  // One line per trained model.
  std::function<void(const std::string&)> log;
};

struct ControlsOutcome {
  std::string out;
  std::string report;  // OUT/report.html, or "" when the run has no analysis
  Json controls;       // analysis::ControlsResult's JSON
  std::vector<Json> sections;  // the report's sections (report/controls_sections.h)
};

ControlsOutcome run_controls(models::Run& run, const ControlsRequest& request);

}  // namespace lumen::app
