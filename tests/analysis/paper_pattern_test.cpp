// Jain & Wallace's central finding, reproduced on the keyword-count task with the paper's
// models and training defaults: attention agrees with gradient and leave-one-out importance
// far more for the context-free Average encoder than for a BiLSTM.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analysis/jain_wallace.h"
#include "data/spec.h"
#include "train/trainer.h"

namespace lumen::analysis {
namespace {

double mean_tau(const Json& summary, const char* key) { return summary["overall"]["kendall"][key]["mean"].get<double>(); }

TEST(PaperPattern, AverageEncoderAttentionAgreesWithImportanceFarMoreThanBiLstm) {
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=2000&length=26"));
  std::vector<const std::vector<std::string>*> texts;
  for (auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  const auto train = data::EncodedSet::from(ds.train, vocab, false);
  const auto dev = data::EncodedSet::from(ds.dev, vocab, false);
  AnalysisOptions o;
  o.permutation = o.adversarial = false;
  o.progress = false;
  Json summaries[2];
  const char* encoders[2] = {"lstm", "average"};
  for (int i = 0; i < 2; ++i) {
    torch::manual_seed(0);
    models::ModelConfig c;  // the paper's sizes: 300-d embeddings, hidden 128, additive attention
    c.encoder = encoders[i];
    c.vocab_size = vocab.size();
    models::TextClassifier model(c);
    train::TrainOptions to;  // the paper's training: 8 epochs, Adam/AMSGrad, best dev ROC-AUC
    to.progress = false;
    train::fit(model, train, dev, to);
    const auto test = data::EncodedSet::from(ds.test, vocab, false);
    EXPECT_GT(train::evaluate(model, test).accuracy, 0.9) << encoders[i];
    const auto res = analyze(model, ds.test, vocab, false, o);
    summaries[i] = summarize(res.records, ds.label_names, o);
  }
  const double lstm = mean_tau(summaries[0], "attention_gradient"), avg = mean_tau(summaries[1], "attention_gradient");
  RecordProperty("tau_attention_gradient_lstm", std::to_string(lstm));
  RecordProperty("tau_attention_gradient_average", std::to_string(avg));
  EXPECT_GT(avg, 0.5);
  EXPECT_GT(avg - lstm, 0.25) << "Average " << avg << " BiLSTM " << lstm;
  EXPECT_GT(mean_tau(summaries[1], "attention_loo"), mean_tau(summaries[0], "attention_loo") + 0.25);
  std::printf("mean tau(attention, gradient): BiLSTM %.3f, Average %.3f; tau(attention, LOO): BiLSTM %.3f, Average %.3f\n",
              lstm, avg, mean_tau(summaries[0], "attention_loo"), mean_tau(summaries[1], "attention_loo"));
}

}  // namespace
}  // namespace lumen::analysis
