// `lumen analyze`: the "Attention is not Explanation" analysis of a trained run, written as
// records.jsonl, summary.json and a self-contained report.html.
#include <cstdio>
#include <sstream>

#include "analysis/jain_wallace.h"
#include "app/analyze.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_analyze(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test", out, name;
    std::vector<std::string> only;
    std::vector<double> epsilons;
    bool plain = false, no_report = false, erasure = false;
    std::string attention_kind = "raw";
    analysis::AnalysisOptions a;
  };
  auto o = std::make_shared<Options>();
  auto& ad = o->a.adversarial_options;
  auto* cmd = app.add_subcommand("analyze", "Does attention explain? Jain & Wallace's analyses with a report");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (default: RUN/analysis)");
  cmd->add_option("--name", o->name, "Name of this model in the report (default: the run directory's name)");
  cmd->add_option("--only", o->only, "Run only these analyses: gradient,loo,permutation,adversarial,erasure")->delimiter(',');
  cmd->add_flag("--erasure", o->erasure, "Also run Serrano & Smith's erasure test (zero the top attention weights until the decision flips)");
  cmd->add_option("--limit", o->a.limit, "Analyse the first N instances only (0 = all)")->capture_default_str();
  cmd->add_option("--permutations", o->a.permutations, "Random permutations per instance")->capture_default_str();
  cmd->add_option("--adversaries", ad.candidates, "Adversarial candidates K per instance")->capture_default_str();
  cmd->add_option("--adversarial-steps", ad.steps, "Adam steps of the adversarial search")->capture_default_str();
  cmd->add_option("--adversarial-lr", ad.lr, "Adam learning rate of the adversarial search")->capture_default_str();
  cmd->add_option("--penalty", ad.penalty, "Weight of the output-TVD penalty")->capture_default_str();
  cmd->add_option("--margin", ad.margin, "Optimisation margin: output TVD above it is penalised")->capture_default_str();
  cmd->add_option("--epsilon", o->epsilons,
                  "Selection: adversaries whose output TVD exceeds it are dropped; several values "
                  "(e.g. 0.01,0.05,0.1) select from the same search, the first drives the figures (default 0.05)")
      ->delimiter(',');
  cmd->add_option("--attention-layer", o->a.attention_layer,
                  "Compare a Transformer self-attention layer with the importances (-1 = pooling attention)")
      ->capture_default_str();
  cmd->add_option("--attention", o->attention_kind,
                  "With --attention-layer: raw (the weights) | effective (Brunner et al.'s effective attention: the part "
                  "outside the null space of each head's value-times-output map)")
      ->capture_default_str();
  cmd->add_option("--attention-head", o->a.attention_head, "Head of --attention-layer (-1 = the mean over heads)")->capture_default_str();
  cmd->add_option("--seed", o->a.seed, "Seed of permutations and adversarial initialisation")->capture_default_str();
  cmd->add_option("--batch-size", o->a.batch_size, "Instances per encoder batch")->capture_default_str();
  cmd->add_flag("--plain", o->plain, "Use the plain reference paths instead of the fast ones (slow; for checking)");
  cmd->add_flag("--no-report", o->no_report, "Do not write report.html");
  cmd->callback([o] {
    setup_runtime();
    app::apply_only(o->a, o->only);
    if (o->erasure) o->a.erasure = true;
    if (o->attention_kind != "raw" && o->attention_kind != "effective")
      throw InvalidArgument("analyze: --attention must be raw or effective, got '" + o->attention_kind + "'");
    o->a.effective_attention = o->attention_kind == "effective";
    if (!o->epsilons.empty()) {
      o->a.adversarial_options.epsilon = o->epsilons[0];
      o->a.adversarial_options.more_epsilons.assign(o->epsilons.begin() + 1, o->epsilons.end());
    }
    o->a.fast = !o->plain;
    o->a.progress = !globals().quiet && !globals().json;
    o->a.validate();
    models::Run run = models::load_run(o->run);
    const app::AnalysisInput input = app::analysis_input(run, o->data, o->split);
    app::AnalyzeRequest request;
    request.split = o->split;
    request.options = o->a;
    request.name = o->name;
    request.out = o->out.empty() ? join_path(run.dir, "analysis") : o->out;
    request.report = !o->no_report;
    info("analyzing " + std::to_string(input.count(o->a)) + " " + o->split + " instances of " + input.data_name);
    const app::AnalyzeResult analysed = app::analyze(run, input, request);
    const Json& summary = analysed.summary;
    const std::string& out = request.out;
    const std::string& report = analysed.report;
    const std::string name = summary["name"];
    const analysis::AnalysisResult& result = analysed.result;
    if (globals().json) {
      print_json({{"out", out}, {"report", report}, {"summary", summary}});
      return;
    }
    const Json& k = summary["overall"]["kendall"];
    auto mean = [&](const char* key) {
      return k.contains(key) && !k[key].is_null() && !k[key]["mean"].is_null() ? k[key]["mean"].get<double>() : NAN;
    };
    std::printf("%s: %zu instances, mean tau(attention, gradient) %.3f, tau(attention, LOO) %.3f (%.1f s)\n",
                name.c_str(), result.records.size(), mean("attention_gradient"), mean("attention_loo"),
                result.seconds.total());
    std::printf("wrote %s/records.jsonl, summary.json%s\n", out.c_str(), report.empty() ? "" : ", report.html");
  });
}

}  // namespace lumen::cli
