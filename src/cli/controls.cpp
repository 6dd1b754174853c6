// `lumen controls`: Wiegreffe & Pinter's (2019) controls for a trained run (uniform attention,
// variance across seeds, attention frozen into a no-context model): controls.json, a table per
// control on stdout, and the report's sections when the run has been analysed.
#include <cstdio>

#include "app/controls.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_controls(CLI::App& app) {
  struct Options {
    std::string run, data, out;
    bool no_uniform = false, no_frozen = false;
    analysis::ControlsOptions c;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("controls", "Wiegreffe & Pinter's controls for a run: uniform attention, seeds, frozen attention");
  cmd->add_option("--run", o->run, "Base run directory")->required();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--out", o->out, "Output directory (default: RUN/controls)");
  cmd->add_option("--seeds", o->c.seeds, "Extra seeds of the base configuration (0 = skip)")->capture_default_str();
  cmd->add_option("--epochs", o->c.epochs, "Epochs of the control models (0 = the base run's)")->capture_default_str();
  cmd->add_option("--seed", o->c.seed, "Seed of the first control model")->capture_default_str();
  cmd->add_flag("--no-uniform", o->no_uniform, "Skip the uniform-attention baseline");
  cmd->add_flag("--no-frozen", o->no_frozen, "Skip the frozen-attention no-context models");
  cmd->callback([o] {
    setup_runtime();
    o->c.uniform = !o->no_uniform;
    o->c.frozen = !o->no_frozen;
    o->c.progress = !globals().quiet && !globals().json;
    o->c.validate();
    models::Run run = models::load_run(o->run);
    app::ControlsRequest request;
    request.data = o->data;
    request.out = o->out;
    request.options = o->c;
    request.log = info;
    const app::ControlsOutcome outcome = app::run_controls(run, request);
    const std::string& out = outcome.out;
    const std::string& report = outcome.report;
    const Json& controls = outcome.controls;
    const std::vector<Json>& sections = outcome.sections;
    if (globals().json) {
      print_json({{"out", out}, {"report", report}, {"controls", controls}});
      return;
    }
    for (const auto& s : sections) {
      std::printf("%s\n", s["title"].get<std::string>().c_str());
      if (!s.contains("table")) continue;
      for (const auto& row : s["table"]["rows"]) {
        std::string line = "  ";
        for (const auto& v : row) {
          char buf[64];
          if (v.is_number()) std::snprintf(buf, sizeof buf, "%.4f  ", v.get<double>());
          else std::snprintf(buf, sizeof buf, "%s  ", v.get<std::string>().c_str());
          line += buf;
        }
        std::printf("%s\n", line.c_str());
      }
    }
    std::printf("wrote %s/controls.json%s\n", out.c_str(),
                report.empty() ? " (run `lumen analyze` on the base run, then `lumen report --controls`)"
                               : ("; report " + report).c_str());
  });
}

}  // namespace lumen::cli
