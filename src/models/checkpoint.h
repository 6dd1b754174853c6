// Model weights on disk (LibTorch archive, written atomically) and the run directory that
// `lumen train` writes: config.json, vocab.txt, model.pt, checkpoints/epoch-NNN.pt, metrics.json.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "models/classifier.h"

namespace lumen::models {

// Writes the parameters of `model` and its config, atomically. Throws IoError.
void save_weights(TextClassifier& model, const std::string& path);

// Reads weights saved by save_weights into `model`. Throws ModelError when the file is
// truncated, foreign, or of a model with another configuration or shapes.
void load_weights(TextClassifier& model, const std::string& path);

// A trained run: everything needed to rebuild the model and encode new text.
struct Run {
  std::string dir;
  Json config;  // the whole config.json
  ModelConfig model_config;
  data::TokenizerOptions tokenizer;
  data::Vocab vocab;
  std::vector<std::string> label_names;
  std::string data_spec;
  TextClassifier model{nullptr};
};

// Loads `dir` (a run directory) or a model file inside one. Throws IoError / ModelError.
Run load_run(const std::string& path);

// A saved epoch checkpoint of a run (checkpoints/epoch-NNN.pt), with the learning rate of the
// steps that led to it (Lumen's Adam runs at the constant TrainOptions::lr).
struct CheckpointInfo {
  int64_t epoch = 0;
  std::string path;
  double lr = 0;
};
// The run's checkpoints in epoch order; empty when it kept none.
std::vector<CheckpointInfo> list_checkpoints(const Run& run);

}  // namespace lumen::models
