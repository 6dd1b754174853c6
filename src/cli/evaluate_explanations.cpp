// `lumen evaluate-explanations`: ranks attribution methods on a run by faithfulness (ERASER,
// deletion curves), agreement, sanity checks and, on data with known rationales, plausibility;
// writes evaluation.json and an HTML report.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "analysis/explanation_evaluation.h"
#include "cli/common.h"
#include "cli/explain_options.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "report/evaluation_report.h"
#include "train/train_run.h"

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
    data::Dataset ds = train::load_dataset_for_run(run, o->data);
    const auto& split = ds.split(data::parse_split(o->split));
    if (split.empty()) throw DataError("evaluate-explanations: the " + o->split + " split of " + ds.name + " is empty");
    const size_t n = o->limit > 0 ? std::min<size_t>(split.size(), o->limit) : split.size();
    std::vector<data::Example> examples(split.begin(), split.begin() + n);
    std::vector<analysis::NamedExplainer> methods;
    for (const auto& name : explain::parse_methods(o->m.methods, run.model))
      methods.push_back({name, std::shared_ptr<const explain::Explainer>(explain::make_explainer(name))});
    analysis::EvaluationOptions eo;
    eo.explain = o->m.options;
    eo.sanity = !o->no_sanity;
    eo.batch_size = o->batch_size;
    eo.permuted_epochs = o->permuted_epochs;
    eo.progress = !globals().quiet && !globals().json;
    data::EncodedSet ptrain, pdev;
    if (eo.sanity && !o->no_permuted && !ds.train.empty()) {
      ptrain = data::EncodedSet::from(ds.train, run.vocab, run.model_config.pair);
      pdev = data::EncodedSet::from(ds.dev.empty() ? ds.train : ds.dev, run.vocab, run.model_config.pair);
      Rng rng(eo.seed + 17);
      rng.shuffle(ptrain.labels);
      eo.permuted_train = &ptrain;
      eo.permuted_dev = &pdev;
    }
    info("evaluating " + std::to_string(methods.size()) + " methods on " + std::to_string(n) + " " + o->split +
         " instances of " + ds.name);
    Json result = analysis::evaluate_explanations(run.model, examples, run.vocab, methods, eo);
    result["run"] = run.dir;
    result["data"] = ds.name;
    result["split"] = o->split;
    const std::string out = o->out.empty() ? join_path(run.dir, "explanations") : o->out;
    make_dirs(out);
    write_file_atomic(join_path(out, "evaluation.json"), result.dump(1) + "\n");
    report::write_evaluation_report(join_path(out, "evaluation.html"), result,
                                    "Which explanation to believe? " + run.dir);
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
