// One training job end to end, as `lumen train` runs it: load and tokenize the data, build the
// vocabulary and the model, optionally load pretrained vectors, train, and write the run
// directory (config.json, vocab.txt, model.pt, checkpoints/, metrics.json, and order.json with
// TrainOptions::record_order: per epoch the batches' training rows in the order they were taken). The directory is
// assembled under a temporary name and renamed at the end: a failed run leaves nothing behind.
#pragma once
#include <functional>
#include <string>

#include "core/json.h"
#include "data/spec.h"
#include "data/tokenizer.h"
#include "models/config.h"
#include "train/trainer.h"

namespace lumen::train {

struct TrainRunOptions {
  // Dataset spec (see data/spec.h).
  std::string data;
  // Run directory to create.
  std::string out;
  // Replace an existing run directory.
  bool overwrite = false;
  // Model; vocab_size, num_classes and pair are filled from the data.
  models::ModelConfig model;
  data::TokenizerOptions tokenizer;
  // Minimum count of a training token to enter the vocabulary.
  int64_t min_count = 1;
  // Extra training examples written by `lumen augment` (adversarial training); empty for none.
  std::string augment;
  // Pretrained word vectors (GloVe/fastText text or word2vec .bin); empty for random init.
  std::string embeddings;
  TrainOptions train;
  // Keep checkpoints/epoch-NNN.pt of every epoch (TracIn needs them).
  bool keep_checkpoints = true;
  // Wiegreffe & Pinter's adversarial model of this trained run (TrainOptions::adversary): the
  // new run takes the base's architecture, vocabulary, tokenizer and (unless `data` is given)
  // data; `model`, `tokenizer`, `min_count` and `embeddings` are not used. Empty: a plain run.
  std::string adversary_of;
  double adversary_lambda = 0.1;
  // Fine-tune this trained run: the new run starts from its weights, with its architecture,
  // vocabulary, tokenizer and (unless `data` is given) data, and trains on `train`'s objective
  // (e.g. Moradi et al.'s reference procedure fine-tunes a trained baseline with the
  // faithfulness term). Saved as config.json "init_from". Empty: random initialisation. With
  // train.select "auto", a fine-tuned run keeps its last epoch (saved as select "last").
  std::string init_from;
  void validate() const;
};

// Runs the job; `log` receives one-line human messages, `warn` warnings that must reach the
// user (a corpus collapsed by tokenisation, data/vocabulary_report.h). Returns the metrics.json
// content (with the vocabulary report under "vocabulary" and the warnings under "warnings").
Json train_run(const TrainRunOptions& options, const std::function<void(const std::string&)>& log,
               const std::function<void(const std::string&)>& warn = {});

}  // namespace lumen::train

namespace lumen::models {
struct Run;
}

namespace lumen::train {

// Loads `spec` (empty: the run's own data) tokenized as the run was, with labels mapped to the
// run's label names. Throws DataError for a label the run does not know.
data::Dataset load_dataset_for_run(const models::Run& run, const std::string& spec);

}  // namespace lumen::train
