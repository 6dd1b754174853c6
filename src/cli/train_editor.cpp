// `lumen train-editor`: Lumen's masked language model (the counterfactual editor) trained on a
// run's own training texts, with the run's vocabulary, conditioned on the label.
#include <cstdio>

#include "cli/common.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"
#include "models/masked_lm.h"
#include "train/editor_trainer.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_train_editor(CLI::App& app) {
  struct Options {
    std::string run, data, out;
    bool no_label = false;
    models::MaskedLmConfig model;
    train::EditorTrainOptions train;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("train-editor", "Train the counterfactual editor (a masked language model) for a run");
  cmd->add_option("--run", o->run, "Run directory (its vocabulary and tokenizer are used)")->required();
  cmd->add_option("--data", o->data, "Dataset spec (default: the run's own data)");
  cmd->add_option("--out", o->out, "Editor directory (default: RUN/editor)");
  cmd->add_option("--epochs", o->train.epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", o->train.batch_size, "Texts per batch")->capture_default_str();
  cmd->add_option("--lr", o->train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--model-dim", o->model.model_dim, "Transformer size")->capture_default_str();
  cmd->add_option("--embed-dim", o->model.embed_dim, "Embedding size")->capture_default_str();
  cmd->add_option("--layers", o->model.layers, "Transformer layers")->capture_default_str();
  cmd->add_option("--heads", o->model.heads, "Attention heads")->capture_default_str();
  cmd->add_option("--ff-dim", o->model.ff_dim, "Feed-forward size")->capture_default_str();
  cmd->add_option("--max-length", o->model.max_length, "Longest training window (tokens + 2)")->capture_default_str();
  cmd->add_option("--seed", o->train.seed, "Seed")->capture_default_str();
  cmd->add_flag("--no-label", o->no_label, "Train without the label token (an unconditioned MLM)");
  cmd->callback([o] {
    setup_runtime();
    o->train.progress = !globals().quiet && !globals().json;
    o->train.label_conditioned = !o->no_label;
    o->train.validate();
    models::Run run = models::load_run(o->run);
    data::Dataset ds = train::load_dataset_for_run(run, o->data);
    o->model.vocab_size = run.vocab.size();
    o->model.labels = o->no_label ? 0 : static_cast<int64_t>(run.label_names.size());
    o->model.validate();
    const std::string out = o->out.empty() ? join_path(run.dir, "editor") : o->out;
    info("training the editor on " + std::to_string(ds.train.size()) + " texts of " + ds.name);
    torch::manual_seed(o->train.seed);
    models::Editor e;
    e.model = models::MaskedLm(o->model);
    e.vocab = run.vocab;
    e.label_names = run.label_names;
    Json report = train::train_editor(e.model, ds.train, ds.dev, run.vocab, o->train);
    report["run"] = run.dir;
    report["data"] = ds.name;
    models::save_editor(e, out, report);
    if (globals().json) {
      print_json({{"out", out}, {"report", report}});
      return;
    }
    const Json& last = report["epochs"].back();
    std::printf("%s: %lld epochs, dev masked-token accuracy %.3f, loss %.3f (%.1f s)\n", out.c_str(),
                static_cast<long long>(o->train.epochs), last["dev_masked_accuracy"].is_null() ? NAN : last["dev_masked_accuracy"].get<double>(),
                last["dev_loss"].is_null() ? NAN : last["dev_loss"].get<double>(), report["seconds"].get<double>());
  });
}

}  // namespace lumen::cli
