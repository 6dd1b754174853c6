// `lumen evaluate-explanations`: ranks attribution methods on a run by faithfulness (ERASER,
// deletion curves), agreement, sanity checks and, on data with known rationales, plausibility;
// writes evaluation.json and an HTML report.
#include <algorithm>
#include <cstdio>

#include "app/evaluate_explanations.h"
#include "cli/common.h"
#include "cli/explain_options.h"
#include "core/error.h"
#include "core/fs.h"
#include "explain/explainer.h"

namespace lumen::cli {

void register_evaluate_explanations(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test", out;
    int64_t limit = 200, batch_size = 32, permuted_epochs = 3;
    bool no_sanity = false, no_permuted = false;
    MethodFlags m;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("evaluate-explanations", "Which explanation to believe: faithfulness, agreement, sanity checks");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Evaluate the first N instances (0 = all)")->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (default: RUN/explanations)");
  cmd->add_option("--batch-size", o->batch_size, "Instances per batch")->capture_default_str();
  cmd->add_option("--permuted-epochs", o->permuted_epochs, "Epochs of the label-permuted control model")->capture_default_str();
  cmd->add_flag("--no-sanity", o->no_sanity, "Skip the randomisation sanity checks");
  cmd->add_flag("--no-permuted", o->no_permuted, "Skip the label-permuted control model");
  add_method_flags(cmd, o->m, "attention,saliency,grad_input,ig,loo,grad_sam,att_attr,rollout");
  cmd->callback([o] {
    setup_runtime();
    o->m.finish();
    models::Run run = models::load_run(o->run);
    const app::ExplanationEvaluationInput input = app::explanation_evaluation_input(run, o->data, o->split, o->limit);
    app::EvaluateExplanationsRequest request;
    request.split = o->split;
    request.methods = o->m.methods;
    request.explain = o->m.options;
    request.batch_size = o->batch_size;
    request.permuted_epochs = o->permuted_epochs;
    request.sanity = !o->no_sanity;
    request.permuted = !o->no_permuted;
    request.progress = !globals().quiet && !globals().json;
    request.out = o->out.empty() ? join_path(run.dir, "explanations") : o->out;
    const std::string& out = request.out;
    info("evaluating " + std::to_string(explain::parse_methods(request.methods, run.model).size()) + " methods on " +
         std::to_string(input.examples.size()) + " " + o->split + " instances of " + input.dataset.name);
    const Json result = app::evaluate_explanations(run, input, request);
    if (globals().json) {
      print_json(result);
      return;
    }
    std::printf("%-4s %-12s %-22s %8s %8s %8s %8s %8s\n", "rank", "method", "verdict", "comp", "suff", "morf", "decorr", "f1");
    for (const auto& r : result["ranking"]) {
      auto f = [&](const char* k) { return r[k].is_null() ? std::nan("") : r[k].get<double>(); };
      std::printf("%-4d %-12s %-22s %8.3f %8.3f %8.3f %8.3f %8.3f\n", r["rank"].get<int>(),
                  r["method"].get<std::string>().c_str(), r["verdict"].get<std::string>().c_str(),
                  f("aopc_comprehensiveness"), f("aopc_sufficiency"), f("aopc_most_relevant_first"), f("decorrelation"),
                  f("token_f1"));
    }
    std::printf("wrote %s/evaluation.json and %s/evaluation.html\n", out.c_str(), out.c_str());
  });
}

}  // namespace lumen::cli
