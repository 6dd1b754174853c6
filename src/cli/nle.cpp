// `lumen nle`: natural-language explanations of a prediction. With --nle-run, the learned
// generators of `lumen train-nle`; with --run, predict-then-explain sentences composed from the
// run's structured results (nle/compose.h), each claim with the number behind it.
#include <cstdio>
#include <iostream>

#include "app/nle.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"

namespace lumen::cli {

void register_nle(CLI::App& app) {
  struct Options {
    std::string nle_run, run, text, text_b, arrangements, counterfactuals, influence, methods = "attention,saliency,grad_input,ig,loo,occlusion";
    int64_t top_k = 3;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("nle", "Natural-language explanation of a prediction (learned, or composed from the run's results)");
  cmd->add_option("text", o->text, "The text (the premise or passage for pairs)")->required();
  cmd->add_option("--text-b", o->text_b, "The second text of a pair (hypothesis, question)");
  cmd->add_option("--nle-run", o->nle_run, "A lumen train-nle directory: its learned generators explain");
  cmd->add_option("--arrangements", o->arrangements, "With --nle-run: which arrangements (default: all it has)");
  cmd->add_option("--run", o->run, "A classifier run: explain it from its attributions, counterfactuals and influence");
  cmd->add_option("--methods", o->methods, "With --run: attribution methods to consult")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "With --run: how many top tokens per method are compared")->capture_default_str();
  cmd->add_option("--counterfactuals", o->counterfactuals, "With --run: lumen counterfactual --json-out output to cite");
  cmd->add_option("--influence", o->influence, "With --run: lumen influence --json-out output to cite");
  cmd->callback([o] {
    setup_runtime();
    if (o->nle_run.empty() == o->run.empty()) throw InvalidArgument("nle: give exactly one of --nle-run or --run");
    Json out;
    if (!o->nle_run.empty()) {
      nle::NleSystem system = nle::load_nle_system(o->nle_run);
      app::NleExplainRequest r;
      r.text = o->text;
      r.text_b = o->text_b;
      for (const auto& a : split_list(o->arrangements)) r.arrangements.push_back(nle::parse_arrangement(a));
      out = app::nle_explain(system, r);
      if (globals().json) {
        print_json(out);
        return;
      }
      for (const auto& e : out["explanations"])
        std::printf("%-22s %s: %s\n", e["arrangement"].get<std::string>().c_str(), e["label"].get<std::string>().c_str(),
                    e["explanation"].get<std::string>().c_str());
      return;
    }
    app::ComposeNleRequest r;
    r.text = o->text;
    r.text_b = o->text_b;
    r.methods = o->methods;
    r.top_k = o->top_k;
    r.counterfactuals = o->counterfactuals;
    r.influence = o->influence;
    out = app::compose_nle(models::load_run(o->run), r);
    if (globals().json) {
      print_json(out);
      return;
    }
    std::printf("%s\n\n", out["text"].get<std::string>().c_str());
    for (const auto& c : out["claims"])
      std::printf("  [%s] %s\n", c["kind"].get<std::string>().c_str(), c["evidence"].dump().c_str());
  });
}

}  // namespace lumen::cli
