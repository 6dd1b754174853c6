// `lumen explain`: token attributions of every chosen method for texts or a dataset split, with
// an HTML view (--out), JSON (--json or --json-out) and attention editing (--set-attention).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/explain.h"
#include "cli/common.h"
#include "cli/explain_options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "report/explain_view.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_explain(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test", out, json_out, target;
    std::vector<std::string> texts, edits;
    int64_t limit = 10, batch_size = 32;
    MethodFlags m;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("explain", "Token attributions of a trained model, with an HTML view");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("texts", o->texts, "Texts to explain; pairs as 'FIRST<TAB>SECOND' (or use --data)");
  cmd->add_option("--data", o->data, "Explain a dataset split instead (spec, e.g. the run's own data: 'run')");
  cmd->add_option("--split", o->split, "train | dev | test (with --data)")->capture_default_str();
  cmd->add_option("--limit", o->limit, "With --data: the first N instances (0 = all)")->capture_default_str();
  cmd->add_option("--target", o->target, "Explain this class (a label name) instead of the predicted one");
  cmd->add_option("--set-attention", o->edits,
                  "Edit attention and show before/after: zero:I, zero:L:I, uniform:pool, uniform:L[:H], pin:W1,W2,...")
      ->take_all();
  cmd->add_option("--out", o->out, "Write the HTML view here");
  cmd->add_option("--json-out", o->json_out, "Write the JSON document here");
  cmd->add_option("--batch-size", o->batch_size, "Instances per batch")->capture_default_str();
  add_method_flags(cmd, o->m, app::ExplainRequest().methods);
  cmd->callback([o] {
    setup_runtime();
    o->m.finish();
    models::Run run = models::load_run(o->run);
    app::ExplainRequest r;
    r.texts = o->texts;
    r.data = o->data;
    if (r.texts.empty() && r.data.empty()) {
      std::string line;
      while (std::getline(std::cin, line))
        if (!line.empty()) r.texts.push_back(line);
    }
    r.split = o->split;
    r.limit = o->limit;
    r.methods = o->m.methods;
    r.options = o->m.options;
    r.target = o->target;
    r.edits = o->edits;
    r.batch_size = o->batch_size;
    r.progress = !globals().quiet && !globals().json;
    const Json doc = app::explain(run, r);
    if (!o->json_out.empty()) write_file_atomic(o->json_out, doc.dump(1) + "\n");
    if (!o->out.empty()) {
      report::write_explain_view(o->out, doc, "Explanations: " + run.dir);
      info("wrote " + o->out);
    }
    if (globals().json) {
      print_json(doc);
      return;
    }
    for (const auto& inst : doc["instances"]) {
      std::printf("%s: predicted %s; explaining %s\n", inst["source"].get<std::string>().c_str(),
                  inst["prediction"].get<std::string>().c_str(), inst["target"].get<std::string>().c_str());
      const auto tokens = inst["tokens"].get<std::vector<std::string>>();
      for (const auto& [name, a] : inst["attributions"].items()) {
        const auto s = a["scores"].get<std::vector<double>>();
        std::vector<size_t> idx(s.size());
        for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return s[x] > s[y]; });
        std::printf("  %-12s", name.c_str());
        for (size_t k = 0; k < std::min<size_t>(5, idx.size()); ++k)
          std::printf(" %s(%.3g)", tokens[idx[k]].c_str(), s[idx[k]]);
        if (a.contains("completeness_gap")) std::printf("  [completeness gap %.2g]", a["completeness_gap"].get<double>());
        std::printf("\n");
      }
      if (inst.contains("edited"))
        std::printf("  after --set-attention: predicted %s\n", inst["edited"]["prediction"].get<std::string>().c_str());
    }
  });
}

}  // namespace lumen::cli
