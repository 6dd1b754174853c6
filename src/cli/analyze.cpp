// `lumen analyze`: the "Attention is not Explanation" analysis of a trained run, written as
// records.jsonl, summary.json and a self-contained report.html.
#include <cstdio>
#include <sstream>

#include "analysis/jain_wallace.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"
#include "report/analysis_report.h"
#include "train/train_run.h"

namespace lumen::cli {

namespace {

void apply_only(analysis::AnalysisOptions& a, const std::vector<std::string>& only) {
  if (only.empty()) return;
  a.gradient = a.loo = a.permutation = a.adversarial = false;
  for (const auto& s : only) {
    if (s == "gradient") a.gradient = true;
    else if (s == "loo") a.loo = true;
    else if (s == "permutation") a.permutation = true;
    else if (s == "adversarial") a.adversarial = true;
    else throw InvalidArgument("analyze: --only takes gradient, loo, permutation, adversarial; got '" + s + "'");
  }
}

}  // namespace

void register_analyze(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test", out, name;
    std::vector<std::string> only;
    std::vector<double> epsilons;
    bool plain = false, no_report = false;
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
  cmd->add_option("--only", o->only, "Run only these analyses: gradient,loo,permutation,adversarial")->delimiter(',');
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
  cmd->add_option("--attention-head", o->a.attention_head, "Head of --attention-layer (-1 = the mean over heads)")->capture_default_str();
  cmd->add_option("--seed", o->a.seed, "Seed of permutations and adversarial initialisation")->capture_default_str();
  cmd->add_option("--batch-size", o->a.batch_size, "Instances per encoder batch")->capture_default_str();
  cmd->add_flag("--plain", o->plain, "Use the plain reference paths instead of the fast ones (slow; for checking)");
  cmd->add_flag("--no-report", o->no_report, "Do not write report.html");
  cmd->callback([o] {
    setup_runtime();
    apply_only(o->a, o->only);
    if (!o->epsilons.empty()) {
      o->a.adversarial_options.epsilon = o->epsilons[0];
      o->a.adversarial_options.more_epsilons.assign(o->epsilons.begin() + 1, o->epsilons.end());
    }
    o->a.fast = !o->plain;
    o->a.progress = !globals().quiet && !globals().json;
    o->a.validate();
    models::Run run = models::load_run(o->run);
    const data::Split split = data::parse_split(o->split);
    data::Dataset ds = train::load_dataset_for_run(run, o->data);
    const auto& examples = ds.split(split);
    if (examples.empty()) throw DataError("analyze: the " + o->split + " split of " + ds.name + " is empty");
    const std::string out = o->out.empty() ? join_path(run.dir, "analysis") : o->out;
    make_dirs(out);
    info("analyzing " + std::to_string(o->a.limit > 0 ? std::min<int64_t>(o->a.limit, examples.size()) : examples.size()) +
         " " + o->split + " instances of " + ds.name);
    const analysis::AnalysisResult result = analysis::analyze(run.model, examples, run.vocab, ds.pair, o->a);
    Json summary = analysis::summarize(result.records, run.label_names, o->a);
    std::string name = o->name;
    if (name.empty()) {
      std::string d = run.dir;
      while (!d.empty() && d.back() == '/') d.pop_back();
      name = d.substr(d.find_last_of('/') == std::string::npos ? 0 : d.find_last_of('/') + 1);
    }
    summary["name"] = name;
    summary["run"] = run.dir;
    summary["data"] = ds.name;
    summary["split"] = o->split;
    summary["model"] = run.config["model"];
    summary["label_names"] = run.label_names;
    summary["seconds"] = result.seconds.to_json();
    write_atomic(join_path(out, "records.jsonl"), [&](std::ostream& os) {
      for (const auto& r : result.records) os << r.to_json(run.label_names).dump() << "\n";
    });
    write_json_file(join_path(out, "summary.json"), summary);
    std::string report;
    if (!o->no_report) {
      report = join_path(out, "report.html");
      report::write_analysis_report(report, {report::AnalysisData::load(out)});
    }
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
