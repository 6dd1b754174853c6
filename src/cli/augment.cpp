// `lumen augment`: adversarial examples of a run's training split, written as extra training
// data for `lumen train --augment FILE` (adversarial training).
#include <cstdio>

#include "attack/attack.h"
#include "attack/augment.h"
#include "attack/verify.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "models/checkpoint.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_augment(CLI::App& app) {
  struct Options {
    std::string run, recipe = "textfooler", data, split = "train", out;
    int64_t limit = 0, budget = -1;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("augment", "Adversarial examples of the training split as extra training data");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--recipe", o->recipe, "textfooler | pwws | deepwordbug | hotflip | bae | bert-attack | clare | semattack | alzantot")->capture_default_str();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Attack the first N examples only (0 = all)")->capture_default_str();
  cmd->add_option("--query-budget", o->budget, "Model queries per example (omit for no limit)");
  cmd->add_option("--out", o->out, "The JSONL file to write")->required();
  cmd->callback([o] {
    setup_runtime();
    attack::AttackOptions a = attack::recipe_options(o->recipe);
    if (o->budget != -1) a.query_budget = o->budget;
    const std::string w = attack::adapt_to_vectors(a, false);
    if (!w.empty()) warn(w);
    a.validate();
    models::Run run = models::load_run(o->run);
    if (attack::needs_editor(a)) a.editor_dir = join_path(run.dir, "editor");
    bool pair = false;
    const std::vector<data::Example> examples = app::split_examples(run, o->data, o->split, o->limit, "augment", &pair);
    const size_t n = examples.size();
    Progress bar("augment", static_cast<int64_t>(n), !globals().quiet && !globals().json);
    const attack::CheckedAttack checked = attack::attack_and_verify(run.model, run.vocab, examples, a, pair, advance_to(bar));
    bar.finish();
    const attack::AttackRun& result = checked.run;
    const attack::VerifyReport& check = checked.check;
    if (!check.violations.empty())
      throw ModelError("augment: " + std::to_string(check.violations.size()) + " adversarial examples fail the re-check (first: #" +
                       std::to_string(check.violations[0].index) + " " + check.violations[0].what + "); nothing written");
    const int64_t written = attack::write_augmentation(o->out, result, examples, run.label_names, o->recipe);
    if (globals().json) {
      print_json({{"out", o->out}, {"examples", written}, {"attacked", n}});
      return;
    }
    std::printf("wrote %lld adversarial examples (of %zu attacked %s examples) to %s\n", static_cast<long long>(written), n,
                o->split.c_str(), o->out.c_str());
  });
}

}  // namespace lumen::cli
