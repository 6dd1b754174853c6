// Learned explanation generators in the three arrangements the survey names (Zhao et al. 2023,
// 3.1.4; Camburu et al. 2018; Rajani et al. 2019), each built from nle::Seq2Seq:
//   explain-then-predict  a generator writes the explanation from the input, and a reader
//                         predicts the label from the explanation alone;
//   predict-then-explain  a classifier predicts from the input, then a generator explains,
//                         conditioned on the input and the predicted label;
//   joint                 one encoder with a classification head and a decoder, trained on
//                         both losses.
// The classifier of predict-then-explain, trained without explanations, is also the
// "without explanations" baseline of the accuracy table.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/vocab.h"
#include "nle/dataset.h"
#include "nle/seq2seq.h"

namespace lumen::nle {

enum class Arrangement { kExplainThenPredict, kPredictThenExplain, kJoint };
// explain-then-predict | predict-then-explain | joint. Throws InvalidArgument listing them.
Arrangement parse_arrangement(const std::string& s);
std::string to_string(Arrangement a);
std::vector<Arrangement> all_arrangements();

struct NleTrainOptions {
  // Which arrangements to train (every one by default).
  std::vector<Arrangement> arrangements = all_arrangements();
  int64_t model_dim = 64, heads = 4, layers = 2, ff_dim = 128;
  double dropout = 0.1;
  int64_t epochs = 15;
  int64_t batch_size = 64;
  double lr = 2e-3;
  // Weight of the explanation loss beside the label loss (joint).
  double explanation_weight = 1.0;
  // Longest input (tokens of both texts) and explanation kept; longer ones are cut.
  int64_t max_input_length = 128;
  int64_t max_explanation_length = 32;
  // Vocabulary: tokens seen at least this often in training inputs and explanations.
  int64_t min_count = 1;
  uint64_t seed = 13;
  bool progress = true;
  void validate() const;
  Json to_json() const;
  static NleTrainOptions from_json(const Json& j);
};

// One input: the text's tokens and, for pairs, the second text's.
struct NleInput {
  std::vector<std::string> tokens, tokens_b;
};
NleInput input_of(const data::Example& e);

struct NleOutput {
  int64_t label = -1;
  std::vector<float> probs;
  std::vector<std::string> explanation;
};

// Token ids: the vocabulary, then <sep>, then one token per label.
struct TokenSpace {
  data::Vocab vocab;
  int64_t labels = 0;
  int64_t sep() const { return vocab.size(); }
  int64_t label_id(int64_t k) const { return vocab.size() + 1 + k; }
  int64_t size() const { return vocab.size() + 1 + labels; }
  // tokens [<sep> tokens_b], cut to `max_length`.
  std::vector<int64_t> encode_input(const NleInput& in, int64_t max_length) const;
};

struct NleSystem {
  TokenSpace space;
  std::vector<std::string> label_names;
  NleTrainOptions options;
  std::string data;  // the spec it was trained on
  // Null when not trained.
  Seq2Seq classifier{nullptr};     // input -> label (baseline, predict-then-explain)
  Seq2Seq pte_explainer{nullptr};  // <label> input -> explanation
  Seq2Seq etp_generator{nullptr};  // input -> explanation
  Seq2Seq etp_reader{nullptr};     // explanation -> label
  Seq2Seq joint{nullptr};          // input -> label and explanation
  bool has(Arrangement a) const;
};

// Trains every arrangement of options.arrangements (and the classifier) on ds.train, keeping
// each model's best epoch on ds.dev. `report` receives per-model epoch logs.
NleSystem train_nle_system(const NleDataset& ds, const NleTrainOptions& options, Json* report = nullptr);

// The arrangement's prediction and explanation for each input (batched, no gradients).
std::vector<NleOutput> nle_predict(NleSystem& system, Arrangement a, const std::vector<NleInput>& inputs);
// The label the explanation-only reader predicts from each explanation (explain-then-predict).
std::vector<NleOutput> read_explanations(NleSystem& system, const std::vector<std::vector<std::string>>& explanations);

// DIR/config.json, DIR/vocab.txt, DIR/<model>.pt. load throws IoError / ModelError.
void save_nle_system(const NleSystem& s, const std::string& dir, const Json& report);
NleSystem load_nle_system(const std::string& dir);

// Runs fn(0..n-1) on up to cores() threads (tasks handed out one at a time) when LibTorch runs
// on one thread (as `lumen` sets it), else on the calling thread; the first exception is
// rethrown here once every thread has stopped.
void run_tasks(int64_t n, const std::function<void(int64_t)>& fn);

// Shared by the evaluation: a classifier-only Seq2Seq trained on (ids, label) pairs.
struct ClassifierItem {
  std::vector<int64_t> ids;
  int64_t label = 0;
};
Seq2Seq train_classifier(const std::vector<ClassifierItem>& train, const std::vector<ClassifierItem>& dev, int64_t vocab_size,
                         int64_t labels, const NleTrainOptions& options, const std::string& label, Json* log);
std::vector<std::vector<float>> classify_ids(Seq2Seq& model, const std::vector<std::vector<int64_t>>& ids, int64_t batch);

}  // namespace lumen::nle
