// `lumen predict`: labels and probabilities for texts given as arguments or on stdin (one per
// line; for pair models "FIRST<TAB>SECOND").
#include <cstdio>
#include <iostream>

#include "app/predict.h"
#include "cli/common.h"
#include "core/error.h"
#include "models/checkpoint.h"

namespace lumen::cli {

void register_predict(CLI::App& app) {
  struct Options {
    std::string run;
    std::vector<std::string> texts;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("predict", "Predict labels of texts (arguments, or stdin one per line)");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("texts", o->texts, "Texts; pairs as 'FIRST<TAB>SECOND'. Without any, read stdin");
  cmd->callback([o] {
    setup_runtime();
    models::Run run = models::load_run(o->run);
    std::vector<std::string> texts = o->texts;
    if (texts.empty()) {
      std::string line;
      while (std::getline(std::cin, line))
        if (!line.empty()) texts.push_back(line);
    }
    if (texts.empty()) throw InvalidArgument("predict: no texts given (pass them as arguments or on stdin)");
    const app::PredictionResult result = app::predict(run, texts);
    if (globals().json) {
      print_json(result.to_json());
      return;
    }
    for (const auto& p : result.predictions)
      std::printf("%s\t%.4f\t%s\n", p.label.c_str(), p.probabilities[p.label_index], p.text.c_str());
  });
}

}  // namespace lumen::cli
