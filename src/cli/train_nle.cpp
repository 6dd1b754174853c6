// `lumen train-nle`: explanation generators trained on human-written (or templated)
// explanations in the three arrangements, then evaluated for accuracy and faithfulness.
#include <cstdio>
#include <iostream>

#include "app/nle.h"
#include "cli/common.h"

namespace lumen::cli {

void register_train_nle(CLI::App& app) {
  struct Options {
    app::TrainNleRequest request;
    std::string arrangements = "explain-then-predict,predict-then-explain,joint";
    bool no_las = false;
  };
  auto o = std::make_shared<Options>();
  auto& r = o->request;
  auto* cmd = app.add_subcommand("train-nle", "Train natural-language explanation generators and measure their faithfulness");
  cmd->add_option("--data", r.data,
                  "Data with explanations: synthetic-nle[?n=N], esnli:DIR_OR_CSV, cose:JSONL, jsonl:FILE?text=..&label=..&explanation=..")
      ->required();
  cmd->add_option("--out", r.out, "Directory to write (models, evaluation.json, records.jsonl, evaluation.md)")->required();
  cmd->add_option("--arrangements", o->arrangements, "Comma-separated: explain-then-predict, predict-then-explain, joint")
      ->capture_default_str();
  cmd->add_option("--epochs", r.train.epochs, "Epochs per model")->capture_default_str();
  cmd->add_option("--batch-size", r.train.batch_size, "Examples per batch")->capture_default_str();
  cmd->add_option("--lr", r.train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--model-dim", r.train.model_dim, "Transformer size")->capture_default_str();
  cmd->add_option("--heads", r.train.heads, "Attention heads")->capture_default_str();
  cmd->add_option("--layers", r.train.layers, "Encoder (and decoder) layers")->capture_default_str();
  cmd->add_option("--ff-dim", r.train.ff_dim, "Feed-forward size")->capture_default_str();
  cmd->add_option("--dropout", r.train.dropout, "Dropout")->capture_default_str();
  cmd->add_option("--explanation-weight", r.train.explanation_weight, "Weight of the explanation loss (joint)")->capture_default_str();
  cmd->add_option("--max-input-length", r.train.max_input_length, "Longest input kept (tokens)")->capture_default_str();
  cmd->add_option("--max-explanation-length", r.train.max_explanation_length, "Longest explanation (tokens)")->capture_default_str();
  cmd->add_option("--min-count", r.train.min_count, "Vocabulary: minimum token count")->capture_default_str();
  cmd->add_option("--seed", r.train.seed, "Seed")->capture_default_str();
  cmd->add_option("--eval-limit", r.eval.limit, "Test examples evaluated (0 = all)")->capture_default_str();
  cmd->add_option("--insertions", r.eval.insertion_candidates, "Words tried per example by the insertion test (0 = skip)")
      ->capture_default_str();
  cmd->add_flag("--no-las", o->no_las, "Skip the simulator (leakage-adjusted simulatability)");
  cmd->add_flag("--no-eval", r.no_eval, "Train and save only");
  cmd->callback([o] {
    setup_runtime();
    auto& r = o->request;
    r.train.arrangements.clear();
    for (const auto& a : split_list(o->arrangements)) r.train.arrangements.push_back(nle::parse_arrangement(a));
    r.train.progress = r.eval.progress = !globals().quiet && !globals().json;
    r.eval.las = !o->no_las;
    r.eval.seed = r.train.seed;
    info("training explanation generators on " + r.data);
    const app::TrainNleResult result = app::train_nle(r);
    if (globals().json) {
      Json j = {{"out", result.out}, {"report", result.report}};
      if (result.evaluation) j["evaluation"] = result.evaluation->summary_json();
      print_json(j);
      return;
    }
    std::printf("%s: trained in %.1f s\n", result.out.c_str(), result.report["train_seconds"].get<double>());
    if (result.evaluation) std::printf("\n%s\n", result.evaluation->table().c_str());
  });
}

}  // namespace lumen::cli
