// `lumen predict`: labels and probabilities for texts given as arguments or on stdin (one per
// line; for pair models "FIRST<TAB>SECOND").
#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "core/error.h"
#include "data/batch.h"
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
    std::vector<data::Example> examples = examples_from_texts(run, texts, "predict");
    std::vector<const data::Example*> ptrs;
    for (auto& e : examples) ptrs.push_back(&e);
    torch::NoGradGuard no_grad;
    const data::Batch batch = data::make_batch(ptrs, run.vocab, run.model_config.pair);
    const at::Tensor probs = torch::softmax(run.model->forward(batch).logits, 1).to(torch::kDouble);
    Json out = Json::array();
    for (size_t i = 0; i < texts.size(); ++i) {
      const int64_t pred = probs[i].argmax().item<int64_t>();
      Json p = Json::object();
      for (size_t c = 0; c < run.label_names.size(); ++c) p[run.label_names[c]] = probs[i][c].item<double>();
      out.push_back({{"text", texts[i]}, {"label", run.label_names[pred]}, {"probabilities", p}});
      if (!globals().json)
        std::printf("%s\t%.4f\t%s\n", run.label_names[pred].c_str(), probs[i][pred].item<double>(), texts[i].c_str());
    }
    if (globals().json) print_json(out);
  });
}

}  // namespace lumen::cli
