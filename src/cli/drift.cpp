// `lumen drift`: attention across training. Every saved checkpoint's pooling attention against
// the final model's (and other runs' on the same instances): Kendall tau-b and JSD per epoch,
// written as drift.json and drift.html.
#include <cstdio>

#include "app/drift.h"
#include "cli/common.h"
#include "core/fs.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_drift(CLI::App& app) {
  struct Options {
    std::string run, out;
    app::DriftRequest q;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("drift", "Attention across training: each checkpoint's attention against the final model's");
  cmd->add_option("--run", o->run, "Run directory (trained with its checkpoints kept)")->required();
  cmd->add_option("--compare", o->q.compare, "Other runs compared on the same instances")->take_all();
  cmd->add_option("--data", o->q.data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->q.split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->q.limit, "The first N instances (0 = all)")->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (default: RUN/drift)");
  cmd->callback([o] {
    setup_runtime();
    models::Run run = models::load_run(o->run);
    o->q.out = o->out.empty() ? join_path(run.dir, "drift") : o->out;
    const Json d = app::attention_drift(run, o->q);
    if (globals().json) {
      print_json(d);
      return;
    }
    std::printf("%lld %s instances; attention against the final model (epoch %s):\n",
                static_cast<long long>(d["instances"].get<int64_t>()), o->q.split.c_str(), d["final_epoch"].dump().c_str());
    auto num = [](const Json& v) { return v.is_null() ? NAN : v.get<double>(); };
    for (const auto& c : d["checkpoints"])
      std::printf("  epoch %3lld  tau %+.3f (median %+.3f)  JSD %.4f (median %.4f)\n", static_cast<long long>(c["epoch"].get<int64_t>()),
                  num(c["tau_mean"]), num(c["tau_median"]), num(c["jsd_mean"]), num(c["jsd_median"]));
    if (d["checkpoints"].empty()) std::printf("  (the run kept no checkpoints)\n");
    for (const auto& c : d["compare"])
      std::printf("  %s: tau %+.3f (median %+.3f)  JSD %.4f (median %.4f)\n", c["run"].get<std::string>().c_str(), num(c["tau_mean"]),
                  num(c["tau_median"]), num(c["jsd_mean"]), num(c["jsd_median"]));
    std::printf("wrote %s/drift.json and drift.html\n", o->q.out.c_str());
  });
}

}  // namespace lumen::cli
