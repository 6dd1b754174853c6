// `lumen attack`: adversarial examples of a trained run (textfooler, pwws, deepwordbug, hotflip,
// bae, bert-attack, clare, semattack, alzantot), written as attacks.jsonl, summary.json and attacks.html, every example re-checked.
#include <cstdio>

#include "app/attack.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_attack(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test", out;
    int64_t limit = 0;
    bool no_report = false;
    app::AttackRequest q;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("attack", "Adversarial examples: word-level attacks, every example re-checked");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--recipe", o->q.recipe, "textfooler | pwws | deepwordbug | hotflip | bae | bert-attack | clare | semattack | alzantot")
      ->capture_default_str();
  cmd->add_option("--search", o->q.search, "greedy (the recipe's own) | beam | genetic (default: the recipe's)");
  cmd->add_option("--beam-width", o->q.beam_width, "Texts kept per beam-search step (default 4)");
  cmd->add_option("--population", o->q.population, "Genetic search: population (default 60)");
  cmd->add_option("--generations", o->q.generations, "Genetic search: generations (default 20)");
  cmd->add_option("--max-fluency-ratio", o->q.max_fluency,
                  "Fluency constraint: editor pseudo-perplexity around the changes, perturbed over original, at most X (0 = off)");
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Attack the first N examples only (0 = all)")->capture_default_str();
  cmd->add_option("--query-budget", o->q.budget, "Model queries per example (omit for no limit)");
  cmd->add_option("--out", o->out, "Output directory (default: RUN/attack-RECIPE)");
  cmd->add_option("--candidates", o->q.candidates, "Candidate replacements per position (default: the recipe's)");
  cmd->add_option("--ranking", o->q.ranking, "Word importance: delete | unk | gradient | pwws (default: the recipe's)");
  cmd->add_option("--max-share", o->q.max_share, "Largest share of words changed (default: the recipe's)");
  cmd->add_option("--max-words", o->q.max_words, "Most words changed (0 = no bound; default: the recipe's)");
  cmd->add_option("--min-cosine", o->q.min_cosine, "Minimum word-vector cosine of a swap (0 = off; default: the recipe's)");
  cmd->add_option("--protect", o->q.protect, "Words never modified (comma-separated)");
  cmd->add_option("--vectors", o->q.vectors, "Word vectors (GloVe / word2vec text) for neighbours and cosines (default: the model's embedding)");
  cmd->add_option("--editor", o->q.editor, "Editor directory for bae / bert-attack / clare and the fluency constraint (default: RUN/editor)");
  cmd->add_option("--wordnet", o->q.wordnet, "WordNet database directory (default: $LUMEN_WORDNET or /usr/share/wordnet)");
  cmd->add_option("--max-length", o->q.max_length, "Skip texts longer than this many tokens")->capture_default_str();
  cmd->add_option("--batch", o->q.batch, "Examples attacked together (their candidates share model passes)")->capture_default_str();
  cmd->add_option("--seed", o->q.seed, "Seed of the character edits")->capture_default_str();
  cmd->add_flag("--plain", o->q.plain, "Evaluate candidates with plain batches (no BiLSTM state reuse; for checking)");
  cmd->add_flag("--no-report", o->no_report, "Do not write attacks.html");
  cmd->callback([o] {
    setup_runtime();
    const app::PreparedAttack prepared = app::prepare_attack(o->q);
    if (!prepared.warning.empty()) warn(prepared.warning);
    models::Run run = models::load_run(o->run);
    bool pair = false;
    const std::vector<data::Example> examples = app::split_examples(run, o->data, o->split, o->limit, "attack", &pair);
    const size_t n = examples.size();
    const std::string& recipe = o->q.recipe;
    const std::string out = o->out.empty() ? join_path(run.dir, "attack-" + recipe) : o->out;
    info("attacking " + std::to_string(n) + " " + o->split + " examples of " + run.data_spec + " with " + recipe);
    Progress bar("attack", static_cast<int64_t>(n), !globals().quiet && !globals().json);
    const app::AttackOutcome outcome =
        app::run_attack(run, examples, pair, prepared, o->q.editor, o->data, o->split, advance_to(bar));
    bar.finish();
    const Json& summary = outcome.summary;
    const std::string html = app::write_attack(out, outcome, !o->no_report, "Attack: " + recipe + " on " + run.dir);
    if (globals().json) {
      print_json({{"out", out}, {"report", html}, {"summary", summary}});
      return;
    }
    auto num = [&](const char* k) { return summary[k].is_null() ? NAN : summary[k].get<double>(); };
    std::printf("%s: %lld examples, success rate %.3f, accuracy %.3f -> %.3f under attack, %.1f%% words perturbed, "
                "%.1f queries/example, %.1f examples/s; %lld re-checked, 0 violations\n",
                recipe.c_str(), static_cast<long long>(n), num("success_rate"), num("original_accuracy"),
                num("accuracy_under_attack"), num("perturbed_word_percent"), num("queries_per_example"),
                num("examples_per_second"), static_cast<long long>(outcome.checked.check.checked));
    std::printf("wrote %s/attacks.jsonl, summary.json%s\n", out.c_str(), html.empty() ? "" : ", attacks.html");
  });
}

}  // namespace lumen::cli
