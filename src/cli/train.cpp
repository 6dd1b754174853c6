// `lumen train`: binds flags into TrainRunOptions and runs the job.
#include <cstdio>

#include "cli/common.h"
#include "train/train_run.h"

namespace lumen::cli {

void register_train(CLI::App& app) {
  struct Options : train::TrainRunOptions {
    std::string numbers = "numeric";
    bool no_fold_numbers = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("train", "Train a classifier with attention and write a run directory");
  cmd->add_option("--data", o->data, "Dataset spec: builtin name or [FORMAT:]PATH[?key=value...] (required unless --adversary-of)");
  cmd->add_option("--out", o->out, "Run directory to create")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing run directory");
  cmd->add_option("--encoder", o->model.encoder,
                  "lstm | ortho-lstm | diversity-lstm | cnn | average | transformer (ortho-lstm, diversity-lstm: "
                  "Mohankumar et al. 2020)")->capture_default_str();
  cmd->add_option("--attention", o->model.attention, "additive | dot | uniform")->capture_default_str();
  cmd->add_option("--embed-dim", o->model.embed_dim, "Embedding size")->capture_default_str();
  cmd->add_option("--hidden", o->model.hidden, "BiLSTM hidden size per direction / Average output size")->capture_default_str();
  cmd->add_option("--cnn-filters", o->model.cnn_filters, "CNN filters per kernel size")->capture_default_str();
  cmd->add_option("--cnn-kernels", o->model.cnn_kernels, "CNN kernel sizes (odd)")->capture_default_str()->delimiter(',');
  cmd->add_option("--layers", o->model.layers, "Transformer layers")->capture_default_str();
  cmd->add_option("--heads", o->model.heads, "Transformer heads")->capture_default_str();
  cmd->add_option("--model-dim", o->model.model_dim, "Transformer model size")->capture_default_str();
  cmd->add_option("--ff-dim", o->model.ff_dim, "Transformer feed-forward size")->capture_default_str();
  cmd->add_option("--pooling", o->model.pooling, "Transformer pooling: attention | cls")->capture_default_str();
  cmd->add_option("--lstm-impl", o->model.lstm_impl, "BiLSTM implementation: fused | plain")->capture_default_str();
  cmd->add_option("--augment", o->augment, "Extra training examples written by `lumen augment` (adversarial training)");
  cmd->add_option("--embeddings", o->embeddings, "Pretrained vectors (GloVe/fastText .txt/.vec, word2vec .bin)");
  cmd->add_option("--min-count", o->min_count, "Minimum training count for the vocabulary")->capture_default_str();
  cmd->add_option("--max-length", o->tokenizer.max_length, "Truncate texts to this many tokens (0 = no limit)")
      ->capture_default_str();
  cmd->add_flag("!--no-lowercase", o->tokenizer.lowercase, "Keep case");
  cmd->add_option("--numbers", o->numbers,
                  "Tokens folded into <num>: numeric (numbers only: 42, 3.5, 1,000, 21st) | any-digit (every token "
                  "with a digit, as the Jain & Wallace reference code) | none")
      ->capture_default_str();
  cmd->add_flag("--no-fold-numbers", o->no_fold_numbers, "Keep numbers as they are (= --numbers none)");
  cmd->add_option("--epochs", o->train.epochs, "Epochs (0 = paper default: 8 binary, 25 otherwise)")->capture_default_str();
  cmd->add_option("--batch-size", o->train.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", o->train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o->train.weight_decay, "L2 weight decay (not on attention)")->capture_default_str();
  cmd->add_option("--class-weight", o->train.class_weight, "auto | none | balanced")->capture_default_str();
  cmd->add_option("--select", o->train.select, "Dev metric for the kept epoch: auto | roc_auc | accuracy | last")
      ->capture_default_str();
  cmd->add_option("--diversity-weight", o->train.diversity_weight,
                  "Weight of the conicity penalty on the encoder states (default: 0.5 for diversity-lstm, else 0)");
  cmd->add_option("--rationale-weight", o->train.rationale_weight,
                  "Weight of rationale supervision: cross-entropy of the attention against each training example's "
                  "rationale (synthetic tasks; JSONL ?rationale=FIELD)")
      ->capture_default_str();
  cmd->add_option("--faithfulness-weight", o->train.faithfulness_weight,
                  "Weight of Moradi et al.'s faithfulness objective: reward (capped) when counterfactual attentions (top "
                  "weight zeroed, permuted, uniform) change the decision")
      ->capture_default_str();
  cmd->add_option("--init-from", o->init_from,
                  "Fine-tune this trained run: start from its weights, architecture, vocabulary and data");
  cmd->add_option("--adversary-of", o->adversary_of,
                  "Train Wiegreffe & Pinter's adversarial model of this trained run: keep its predictions (TVD) while the "
                  "attention moves away (KL); the base's architecture, vocabulary and data");
  cmd->add_option("--adversary-lambda", o->adversary_lambda, "Weight lambda of the adversary's KL term")->capture_default_str();
  cmd->add_option("--seed", o->train.seed, "Seed of initialisation and batch order")->capture_default_str();
  cmd->add_flag("!--no-checkpoints", o->keep_checkpoints, "Do not keep a checkpoint per epoch");
  cmd->add_flag("--record-order", o->train.record_order, "Write order.json: every epoch's batches in training order (for SGD-influence)");
  cmd->callback([o, cmd] {
    if (o->data.empty() && o->adversary_of.empty() && o->init_from.empty()) throw CLI::RequiredError("--data");
    // A run built on another takes that run's model, tokenizer and vocabulary: say so rather
    // than ignore a flag that would set them.
    if (!o->adversary_of.empty() || !o->init_from.empty())
      for (const char* flag : {"--encoder", "--attention", "--embed-dim", "--hidden", "--cnn-filters", "--cnn-kernels", "--layers",
                               "--heads", "--model-dim", "--ff-dim", "--pooling", "--lstm-impl", "--embeddings", "--min-count",
                               "--max-length", "--no-lowercase", "--numbers", "--no-fold-numbers"})
        if (cmd->count(flag) > 0)
          throw CLI::ValidationError(flag, std::string("the run takes the model, tokenizer and vocabulary of ") +
                                               (o->init_from.empty() ? "--adversary-of" : "--init-from") + "; drop " + flag);
    setup_runtime();
    o->train.progress = !globals().quiet && !globals().json;
    o->tokenizer.numbers = o->no_fold_numbers ? data::NumberRule::kNone : data::parse_number_rule(o->numbers);
    const Json metrics = train::train_run(*o, info, warn);
    if (globals().json) {
      print_json({{"run", o->out}, {"metrics", metrics}});
      return;
    }
    const Json& t = metrics["test"];
    std::printf("%s: best epoch %lld, test accuracy %.4f, F1 %.4f", o->out.c_str(),
                static_cast<long long>(metrics["best_epoch"].get<int64_t>()), t["accuracy"].get<double>(),
                t["f1"].get<double>());
    if (!t["roc_auc"].is_null()) std::printf(", ROC-AUC %.4f", t["roc_auc"].get<double>());
    std::printf(" (%.1f s)\n", metrics["train_seconds"].get<double>());
    // Repeated after the result: the first one may have scrolled away behind the epochs.
    for (const auto& w : metrics["warnings"]) warn(w.get<std::string>());
  });
}

}  // namespace lumen::cli
