// `lumen counterfactual`: what would have to change for another outcome (MiCE, Polyjuice's control
// codes, CREST-style rationale edits) with the run's editor; counterfactuals.jsonl + summary.json.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/counterfactual.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_counterfactual(CLI::App& app) {
  struct Options {
    std::string run, editor, data, split = "test", out, target, codes;
    std::vector<std::string> texts;
    int64_t limit = 0;
    attack::CounterfactualOptions c;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("counterfactual", "Counterfactuals: minimal edits that change the prediction");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("texts", o->texts, "Texts (or use --data)");
  cmd->add_option("--method", o->c.method, "mice | polyjuice | crest")->capture_default_str();
  cmd->add_option("--target", o->target, "The label to reach (default: the other / runner-up class)");
  cmd->add_option("--codes", o->codes, "polyjuice: control codes, comma-separated (negation,quantifier,shuffle,delete,lexical,resemantic,insert,restructure)");
  cmd->add_option("--editor", o->editor, "Editor directory (default: RUN/editor, from `lumen train-editor`)");
  cmd->add_option("--data", o->data, "A dataset split instead of texts (spec; 'run' = the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->add_option("--limit", o->limit, "With --data: the first N examples (0 = all)")->capture_default_str();
  cmd->add_option("--samples", o->c.samples, "Editor fills sampled per blanking")->capture_default_str();
  cmd->add_option("--rounds", o->c.rounds, "mice: edit rounds")->capture_default_str();
  cmd->add_option("--sparsity", o->c.sparsity, "crest: the rationale's share of the tokens")->capture_default_str();
  cmd->add_option("--seed", o->c.seed, "Seed of the editor's sampling")->capture_default_str();
  cmd->add_option("--out", o->out, "Write counterfactuals.jsonl and summary.json here");
  cmd->callback([o] {
    setup_runtime();
    o->c.codes = split_list(o->codes);
    o->c.validate();
    models::Run run = models::load_run(o->run);
    if (!o->texts.empty() && !o->data.empty()) throw InvalidArgument("counterfactual: give texts or --data, not both");
    std::vector<data::Example> examples;
    if (!o->data.empty()) {
      examples = app::split_examples(run, o->data, o->split, o->limit, "counterfactual");
    } else {
      std::vector<std::string> texts = o->texts;
      if (texts.empty())
        for (std::string line; std::getline(std::cin, line);)
          if (!line.empty()) texts.push_back(line);
      if (texts.empty()) throw InvalidArgument("counterfactual: no texts given (arguments, stdin, or --data)");
      examples = app::examples_from_texts(run, texts, "counterfactual");
    }
    app::CounterfactualRequest request;
    request.options = o->c;
    request.target = o->target;
    request.editor = o->editor;
    info("counterfactuals (" + o->c.method + ") for " + std::to_string(examples.size()) + " texts");
    const app::CounterfactualOutcome outcome = app::counterfactuals(run, examples, request);
    const Json& summary = outcome.summary;
    const Json& records = outcome.records;
    if (!o->out.empty()) app::write_counterfactuals(o->out, outcome);
    if (globals().json) {
      print_json({{"summary", summary}, {"results", records}});
      return;
    }
    if (o->data.empty())
      for (const auto& r : records) {
        std::printf("#%lld %s -> %s: %s\n", static_cast<long long>(r["index"].get<int64_t>()),
                    r["original"]["prediction"].dump().c_str(), r["target"].dump().c_str(),
                    r["flipped"].get<bool>() ? "flipped" : r.value("reason", std::string("not flipped")).c_str());
        for (const auto& c : r["counterfactuals"]) {
          std::string t;
          for (const auto& w : c["tokens"]) t += (t.empty() ? "" : " ") + w.get<std::string>();
          std::printf("  [%s, %lld words changed] %s\n", c["code"].get<std::string>().c_str(),
                      static_cast<long long>(c["distance"].get<int64_t>()), t.c_str());
        }
      }
    auto num = [&](const char* k) { return summary[k].is_null() ? NAN : summary[k].get<double>(); };
    std::printf("%s: flip rate %.3f (%lld of %lld), median minimality %.3f, fluency ratio %.2f, self-BLEU %.2f, "
                "%.1f editor passes and %.2f s per instance; %lld re-checked, 0 violations\n",
                o->c.method.c_str(), num("flip_rate"), static_cast<long long>(summary["flipped"].get<int64_t>()),
                static_cast<long long>(summary["attempted"].get<int64_t>()), num("minimality_median"), num("fluency_ratio_mean"),
                num("self_bleu_mean"), num("editor_passes_per_instance"), num("seconds_per_instance"),
                static_cast<long long>(summary["verification"]["checked"].get<int64_t>()));
  });
}

}  // namespace lumen::cli
