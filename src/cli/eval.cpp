// `lumen eval`: metrics of a trained run on a split of its own or another dataset.
#include <cstdio>

#include "cli/common.h"
#include "core/error.h"
#include "data/example.h"
#include "models/checkpoint.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_eval(CLI::App& app) {
  struct Options {
    std::string run, data, split = "test";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a trained run on a dataset split");
  cmd->add_option("--run", o->run, "Run directory (or a model file inside one)")->required();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--split", o->split, "train | dev | test")->capture_default_str();
  cmd->callback([o] {
    setup_runtime();
    models::Run run = models::load_run(o->run);
    const data::Split split = data::parse_split(o->split);
    data::Dataset ds = train::load_dataset_for_run(run, o->data);
    const auto set = data::EncodedSet::from(ds.split(split), run.vocab, ds.pair);
    if (set.size() == 0) throw DataError("eval: the " + o->split + " split of " + ds.name + " is empty");
    const auto m = train::evaluate(run.model, set);
    if (globals().json) {
      print_json({{"run", o->run}, {"data", ds.name}, {"split", o->split}, {"metrics", m.to_json()}});
      return;
    }
    std::printf("%s on %s (%s, n=%lld): accuracy %.4f, F1 %.4f", o->run.c_str(), ds.name.c_str(), o->split.c_str(),
                static_cast<long long>(m.n), m.accuracy, m.f1);
    if (m.roc_auc >= 0) std::printf(", ROC-AUC %.4f", m.roc_auc);
    std::printf("\n");
  });
}

}  // namespace lumen::cli
