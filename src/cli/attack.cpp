// `lumen attack`: adversarial examples of a trained run (textfooler, pwws, deepwordbug, hotflip,
// bae, bert-attack, clare, semattack, alzantot), written as attacks.jsonl, summary.json and attacks.html, every example re-checked.
#include <cstdio>

#include "attack/attack.h"
#include "attack/verify.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "models/checkpoint.h"
#include "report/attack_view.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_attack(CLI::App& app) {
  struct Options {
    std::string run, recipe = "textfooler", data, split = "test", out, vectors, wordnet, ranking, editor;
    std::string protect, search;
    int64_t beam_width = 0, population = 0, generations = 0;
    double max_fluency = -1;
    int64_t limit = 0, budget = -1, candidates = 0, batch = 64, max_length = 2000, max_words = -1;
    double max_share = -1, min_cosine = -1;
    uint64_t seed = 0;
    bool plain = false, no_report = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("attack", "Adversarial examples: word-level attacks, every example re-checked");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--recipe", o->recipe, "textfooler | pwws | deepwordbug | hotflip | bae | bert-attack | clare | semattack | alzantot")
      ->capture_default_str();
  cmd->add_option("--search", o->search, "greedy (the recipe's own) | beam | genetic (default: the recipe's)");
  cmd->add_option("--beam-width", o->beam_width, "Texts kept per beam-search step (default 4)");
  cmd->add_option("--population", o->population, "Genetic search: population (default 60)");
  cmd->add_option("--generations", o->generations, "Genetic search: generations (default 20)");
  cmd->add_option("--max-fluency-ratio", o->max_fluency,
                  "Fluency constraint: editor pseudo-perplexity around the changes, perturbed over original, at most X (0 = off)");
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Attack the first N examples only (0 = all)")->capture_default_str();
  cmd->add_option("--query-budget", o->budget, "Model queries per example (omit for no limit)");
  cmd->add_option("--out", o->out, "Output directory (default: RUN/attack-RECIPE)");
  cmd->add_option("--candidates", o->candidates, "Candidate replacements per position (default: the recipe's)");
  cmd->add_option("--ranking", o->ranking, "Word importance: delete | unk | gradient | pwws (default: the recipe's)");
  cmd->add_option("--max-share", o->max_share, "Largest share of words changed (default: the recipe's)");
  cmd->add_option("--max-words", o->max_words, "Most words changed (0 = no bound; default: the recipe's)");
  cmd->add_option("--min-cosine", o->min_cosine, "Minimum word-vector cosine of a swap (0 = off; default: the recipe's)");
  cmd->add_option("--protect", o->protect, "Words never modified (comma-separated)");
  cmd->add_option("--vectors", o->vectors, "Word vectors (GloVe / word2vec text) for neighbours and cosines (default: the model's embedding)");
  cmd->add_option("--editor", o->editor, "Editor directory for bae / bert-attack / clare and the fluency constraint (default: RUN/editor)");
  cmd->add_option("--wordnet", o->wordnet, "WordNet database directory (default: $LUMEN_WORDNET or /usr/share/wordnet)");
  cmd->add_option("--max-length", o->max_length, "Skip texts longer than this many tokens")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Examples attacked together (their candidates share model passes)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the character edits")->capture_default_str();
  cmd->add_flag("--plain", o->plain, "Evaluate candidates with plain batches (no BiLSTM state reuse; for checking)");
  cmd->add_flag("--no-report", o->no_report, "Do not write attacks.html");
  cmd->callback([o] {
    setup_runtime();
    attack::AttackOptions a = attack::recipe_options(o->recipe);
    if (o->budget != -1) a.query_budget = o->budget;
    if (o->candidates != 0) a.candidates = o->candidates;
    if (!o->ranking.empty()) a.ranking = attack::parse_ranking(o->ranking);
    if (!o->search.empty()) a.search = attack::parse_search(o->search);
    if (o->beam_width != 0) a.beam_width = o->beam_width;
    if (o->population != 0) a.population = o->population;
    if (o->generations != 0) a.generations = o->generations;
    if (o->max_fluency >= 0) a.max_fluency_ratio = o->max_fluency;
    if (o->max_share >= 0) a.constraints.max_word_share = o->max_share;
    if (o->max_words >= 0) a.constraints.max_words = o->max_words;
    if (o->min_cosine >= 0) a.constraints.min_cosine = o->min_cosine;
    a.constraints.protected_words = split_list(o->protect);
    a.vectors = o->vectors;
    const std::string vector_warning = attack::adapt_to_vectors(a, o->min_cosine >= 0);
    if (!vector_warning.empty()) warn(vector_warning);
    a.wordnet_dir = o->wordnet;
    a.max_length = o->max_length;
    a.batch = o->batch;
    a.seed = o->seed;
    a.evaluator.reuse = !o->plain;
    a.validate();
    models::Run run = models::load_run(o->run);
    if (attack::needs_editor(a))
      a.editor_dir = o->editor.empty() ? join_path(run.dir, "editor") : o->editor;
    bool pair = false;
    const std::vector<data::Example> examples = app::split_examples(run, o->data, o->split, o->limit, "attack", &pair);
    const size_t n = examples.size();
    const std::string out = o->out.empty() ? join_path(run.dir, "attack-" + o->recipe) : o->out;
    info("attacking " + std::to_string(n) + " " + o->split + " examples of " + run.data_spec + " with " + o->recipe);
    Progress bar("attack", static_cast<int64_t>(n), !globals().quiet && !globals().json);
    const attack::CheckedAttack checked = attack::attack_and_verify(run.model, run.vocab, examples, a, pair, advance_to(bar));
    bar.finish();
    const attack::AttackRun& result = checked.run;
    const attack::VerifyReport& check = checked.check;
    Json summary = attack::summarize(result, a);
    summary["verification"] = check.to_json();
    summary["warnings"] = vector_warning.empty() ? Json::array() : Json::array({vector_warning});
    summary["run"] = run.dir;
    summary["data"] = o->data.empty() ? run.data_spec : o->data;
    summary["split"] = o->split;
    summary["label_names"] = run.label_names;
    Json records = Json::array();
    for (const auto& r : result.results) records.push_back(r.to_json(run.label_names));
    make_dirs(out);
    write_atomic(join_path(out, "attacks.jsonl"), [&](std::ostream& os) {
      for (const auto& r : records) os << r.dump() << "\n";
    });
    write_file_atomic(join_path(out, "summary.json"), summary.dump(1) + "\n");
    std::string html;
    if (!o->no_report) {
      html = join_path(out, "attacks.html");
      report::write_attack_view(html, summary, records, "Attack: " + o->recipe + " on " + run.dir);
    }
    if (!check.violations.empty())
      throw ModelError("attack: " + std::to_string(check.violations.size()) + " emitted examples fail the re-check (first: #" +
                       std::to_string(check.violations[0].index) + " " + check.violations[0].what + "); see " +
                       join_path(out, "summary.json"));
    if (globals().json) {
      print_json({{"out", out}, {"report", html}, {"summary", summary}});
      return;
    }
    auto num = [&](const char* k) { return summary[k].is_null() ? NAN : summary[k].get<double>(); };
    std::printf("%s: %lld examples, success rate %.3f, accuracy %.3f -> %.3f under attack, %.1f%% words perturbed, "
                "%.1f queries/example, %.1f examples/s; %lld re-checked, 0 violations\n",
                o->recipe.c_str(), static_cast<long long>(n), num("success_rate"), num("original_accuracy"),
                num("accuracy_under_attack"), num("perturbed_word_percent"), num("queries_per_example"),
                num("examples_per_second"), static_cast<long long>(check.checked));
    std::printf("wrote %s/attacks.jsonl, summary.json%s\n", out.c_str(), html.empty() ? "" : ", attacks.html");
  });
}

}  // namespace lumen::cli
