#include "train/train_run.h"

#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/fs.h"
#include "data/augmentation.h"
#include "data/vocabulary_report.h"
#include "data/word_vectors.h"
#include "models/checkpoint.h"

namespace lumen::train {
namespace fs = std::filesystem;

void TrainRunOptions::validate() const {
  if (data.empty() && adversary_of.empty() && init_from.empty()) throw InvalidArgument("train: --data must be given");
  if (!adversary_of.empty() && !init_from.empty())
    throw InvalidArgument("train: --adversary-of trains a new model from scratch; it cannot be combined with --init-from");
  if (!adversary_of.empty() && !(adversary_lambda >= 0))
    throw InvalidArgument("train: --adversary-lambda must be >= 0");
  if (out.empty()) throw InvalidArgument("train: --out must be given");
  if (min_count < 1) throw InvalidArgument("train: min_count must be >= 1, got " + std::to_string(min_count));
  tokenizer.validate();
  train.validate();
}

Json train_run(const TrainRunOptions& o, const std::function<void(const std::string&)>& log,
               const std::function<void(const std::string&)>& warn) {
  o.validate();
  if (path_exists(o.out) && !o.overwrite && !(is_directory(o.out) && fs::is_empty(o.out)))
    throw IoError("train: " + o.out + " already exists; choose another --out or pass --overwrite");
  const auto t0 = std::chrono::steady_clock::now();
  // An adversary of a trained run, or a fine-tuned run, reads the base's data with the base's
  // tokenizer and vocabulary.
  std::optional<models::Run> base;
  if (!o.adversary_of.empty()) base = models::load_run(o.adversary_of);
  if (!o.init_from.empty()) base = models::load_run(o.init_from);
  const bool adversary = !o.adversary_of.empty(), fine_tune = !o.init_from.empty();
  data::Dataset ds = base ? load_dataset_for_run(*base, o.data) : data::load_dataset(data::parse_data_spec(o.data));
  const data::TokenizerOptions tokenizer_options = base ? base->tokenizer : o.tokenizer;
  data::Tokenizer tokenizer(tokenizer_options);
  const data::TokenizeReport tr = data::tokenize_dataset(ds, tokenizer);
  int64_t augmented = 0;
  if (!o.augment.empty()) {
    auto extra = data::read_augmentation(o.augment, ds.label_names);
    for (const auto& e : extra)
      if (e.tokens_b.empty() == ds.pair) throw DataError(e.source + ": " + (ds.pair ? "a pair dataset needs tokens_b" : "tokens_b in a single-text dataset"));
    augmented = static_cast<int64_t>(extra.size());
    ds.train.insert(ds.train.end(), extra.begin(), extra.end());
    log("augment " + o.augment + ": " + std::to_string(augmented) + " adversarial training examples added");
  }
  std::vector<const std::vector<std::string>*> texts;
  for (const auto& e : ds.train) {
    texts.push_back(&e.tokens);
    if (ds.pair) texts.push_back(&e.tokens_b);
  }
  const data::Vocab vocab = base ? base->vocab : data::Vocab::build(texts, o.min_count);
  const int64_t min_count = base ? base->config.value("min_count", o.min_count) : o.min_count;
  char buf[256];
  std::snprintf(buf, sizeof buf, "data %s: %zu train / %zu dev / %zu test, %lld labels, vocabulary %lld%s", ds.name.c_str(),
                ds.train.size(), ds.dev.size(), ds.test.size(), static_cast<long long>(ds.label_names.size()),
                static_cast<long long>(vocab.size()),
                tr.truncated ? (", " + std::to_string(tr.truncated) + " texts truncated").c_str() : "");
  log(buf);
  const data::VocabularyReport vocabulary = data::vocabulary_report(ds, tr, vocab, min_count, tokenizer_options);
  Json warnings = Json::array();
  if (vocabulary.collapsed()) {
    warnings.push_back(vocabulary.warning());
    if (warn) warn(vocabulary.warning());
  }

  models::ModelConfig mc = base ? base->model_config : o.model;
  mc.vocab_size = vocab.size();
  mc.num_classes = static_cast<int64_t>(ds.label_names.size());
  mc.pair = ds.pair;
  mc.validate();
  TrainOptions topt = o.train;
  topt.diversity_weight = topt.diversity_for(mc);  // saved resolved
  // Fine-tuning keeps its last epoch unless told otherwise: the dev metric would pick the epoch
  // nearest the base run whenever the new objective costs accuracy (Moradi et al.'s reference
  // fine-tunes for a fixed number of steps).
  if (fine_tune && topt.select == "auto") {
    topt.select = "last";
    log("fine-tuning " + o.init_from + ": keeping the last epoch (--select roc_auc or accuracy to choose by dev)");
  }
  if (adversary) {
    if (topt.diversity_weight > 0 || topt.rationale_weight > 0 || topt.faithfulness_weight > 0)
      throw InvalidArgument("train: an adversarial model is trained on its own objective; drop --diversity-weight, "
                            "--rationale-weight and --faithfulness-weight");
    topt.adversary = TrainOptions::Adversary{base->model, o.adversary_lambda};
  }
  torch::manual_seed(o.train.seed);
  models::TextClassifier model(mc);
  if (fine_tune) {
    torch::NoGradGuard no_grad;
    auto to = model->parameters(), from = base->model->parameters();
    for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
    log("init from " + base->dir);
  }
  Json embeddings_report = nullptr;
  if (!o.embeddings.empty() && !base) {
    at::Tensor w = model->embedding->weight.detach();
    const auto rep = data::load_word_vectors(o.embeddings, vocab, w);
    embeddings_report = {{"path", o.embeddings}, {"covered", rep.covered}, {"vocab", rep.vocab}, {"coverage", rep.coverage()}};
    std::snprintf(buf, sizeof buf, "embeddings %s: %lld of %lld words covered (%.1f%%)", o.embeddings.c_str(),
                  static_cast<long long>(rep.covered), static_cast<long long>(rep.vocab), 100 * rep.coverage());
    log(buf);
  }

  // Assemble the run under a temporary name; rename at the end.
  const std::string tmp = o.out + ".partial-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  make_dirs(join_path(tmp, "checkpoints"));
  try {
    Json config{{"lumen", "run-v1"},
                {"data", ds.name},
                {"label_names", ds.label_names},
                {"model", mc.to_json()},
                {"tokenizer", tokenizer_options.to_json()},
                {"min_count", min_count},
                {"train", topt.to_json()},
                {"embeddings", embeddings_report}};
    if (!o.augment.empty()) config["augment"] = {{"path", o.augment}, {"examples", augmented}};
    if (adversary) config["adversary"] = {{"base", base->dir}, {"lambda", o.adversary_lambda}};
    if (fine_tune) config["init_from"] = base->dir;
    write_json_file(join_path(tmp, "config.json"), config);
    vocab.save(join_path(tmp, "vocab.txt"));
    const data::EncodedSet train = data::EncodedSet::from(ds.train, vocab, ds.pair);
    const data::EncodedSet dev = data::EncodedSet::from(ds.dev, vocab, ds.pair);
    const data::EncodedSet test = data::EncodedSet::from(ds.test, vocab, ds.pair);
    std::snprintf(buf, sizeof buf, "model %s + %s attention, %lld parameters", mc.encoder.c_str(), mc.attention.c_str(),
                  static_cast<long long>([&] {
                    int64_t n = 0;
                    for (auto& p : model->parameters()) n += p.numel();
                    return n;
                  }()));
    log(buf);
    TrainResult result = fit(model, train, dev, topt, [&](int64_t epoch) {
      if (!o.keep_checkpoints) return;
      char name[64];
      std::snprintf(name, sizeof name, "checkpoints/epoch-%03lld.pt", static_cast<long long>(epoch));
      models::save_weights(model, join_path(tmp, name));
    });
    models::save_weights(model, join_path(tmp, "model.pt"));
    const ClassificationMetrics test_metrics = evaluate(model, test);
    Json metrics = result.to_json();
    metrics["test"] = test_metrics.to_json();
    metrics["train_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics["splits"] = {{"train", ds.train.size()}, {"dev", ds.dev.size()}, {"test", ds.test.size()}};
    metrics["vocabulary"] = vocabulary.to_json();
    metrics["warnings"] = warnings;
    write_json_file(join_path(tmp, "metrics.json"), metrics);
    if (o.train.record_order)
      write_json_file(join_path(tmp, "order.json"), {{"lumen", "order-v1"},
                                                     {"lr", o.train.lr},
                                                     {"batch_size", o.train.batch_size},
                                                     {"train_size", train.size()},
                                                     {"epochs", result.order}});
    if (path_exists(o.out)) fs::remove_all(o.out);
    fs::rename(tmp, o.out, ec);
    if (ec) throw IoError("train: cannot rename " + tmp + " to " + o.out + ": " + ec.message());
    return metrics;
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace lumen::train

namespace lumen::train {

data::Dataset load_dataset_for_run(const models::Run& run, const std::string& spec) {
  data::Dataset ds = data::load_dataset(data::parse_data_spec(spec.empty() ? run.data_spec : spec));
  if (ds.pair != run.model_config.pair)
    throw DataError(std::string("eval: the run's model takes ") + (run.model_config.pair ? "text pairs" : "single texts") +
                    ", " + ds.name + " has " + (ds.pair ? "pairs" : "single texts"));
  for (auto split : {data::Split::kTrain, data::Split::kDev, data::Split::kTest}) {
    for (auto& e : ds.split(split)) {
      const std::string& name = ds.label_names.at(e.label);
      auto it = std::find(run.label_names.begin(), run.label_names.end(), name);
      if (it == run.label_names.end())
        throw DataError("eval: " + e.source + ": label '" + name + "' is not one the run was trained on");
      e.label = it - run.label_names.begin();
    }
  }
  ds.label_names = run.label_names;
  data::tokenize_dataset(ds, data::Tokenizer(run.tokenizer));
  return ds;
}

}  // namespace lumen::train
