// On the keyword-count task (known rationale: the cue words), gradient x input, integrated
// gradients and leave-one-out find the cues (token F1 >= 0.9 of the top-|rationale| tokens), and
// the sanity checks separate them from a fake explainer that ignores the model (M9).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "analysis/explanation_evaluation.h"
#include "data/spec.h"
#include "explain/common.h"
#include "train/trainer.h"

namespace lumen::analysis {
namespace {

// M9: scores from the token ids alone (a fixed hash), whatever the model.
class FakeExplainer : public explain::Explainer {
 public:
  std::string name() const override { return "fake"; }
  std::string description() const override { return "hash of the token id; ignores the model"; }
  explain::BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                                    const explain::ExplainOptions& o) const override {
    explain::BatchAttribution out;
    out.targets = explain::resolve_targets(model, batch, o);
    out.scores = ((batch.ids * static_cast<int64_t>(2654435761)) % 1000).to(torch::kDouble) * batch.token_mask.to(torch::kDouble);
    return out;
  }
};

TEST(KeywordTask, GradientIgAndLooFindTheCuesAndPassTheSanityChecksThatAFakeFails) {
  data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=2000&length=26"));
  std::vector<const std::vector<std::string>*> texts;
  for (auto& e : ds.train) texts.push_back(&e.tokens);
  const data::Vocab vocab = data::Vocab::build(texts, 1);
  torch::manual_seed(0);
  models::ModelConfig c;  // the paper's sizes and training (300-d, hidden 128, 8 epochs)
  c.encoder = "lstm";
  c.vocab_size = vocab.size();
  models::TextClassifier model(c);
  train::TrainOptions to;
  to.progress = false;
  const auto train_set = data::EncodedSet::from(ds.train, vocab, false);
  train::fit(model, train_set, data::EncodedSet::from(ds.dev, vocab, false), to);
  ASSERT_GT(train::evaluate(model, data::EncodedSet::from(ds.test, vocab, false)).accuracy, 0.9);

  std::vector<NamedExplainer> methods;
  for (const char* n : {"grad_input", "ig", "loo"}) methods.push_back({n, explain::make_explainer(n)});
  methods.push_back({"fake", std::make_shared<FakeExplainer>()});
  EvaluationOptions o;
  o.explain.path.steps = 32;
  const std::vector<data::Example> examples(ds.test.begin(), ds.test.begin() + 60);
  const Json r = evaluate_explanations(model, examples, vocab, methods, o);
  for (const char* n : {"grad_input", "ig", "loo"}) {
    const double f1 = r["plausibility"][n]["token_f1"].get<double>();
    RecordProperty(std::string("token_f1_") + n, std::to_string(f1));
    EXPECT_GE(f1, 0.9) << n;
    EXPECT_GE(r["sanity"]["decorrelation"][n].get<double>(), 0.5) << n;
    EXPECT_GT(r["faithfulness"][n]["aopc_most_relevant_first"].get<double>(), r["random_order"]["aopc"].get<double>()) << n;
  }
  // The fake explainer does not decorrelate at all, and the verdict says so.
  EXPECT_LT(r["sanity"]["decorrelation"]["fake"].get<double>(), 1e-9);
  for (const auto& row : r["ranking"]) {
    if (row["method"] == "fake") EXPECT_EQ(row["verdict"], "ignores the model");
    else EXPECT_EQ(row["verdict"], "faithful") << row["method"];
  }
  std::printf("token F1: grad_input %.3f, ig %.3f, loo %.3f, fake %.3f; decorrelation: %.3f %.3f %.3f %.3f\n",
              r["plausibility"]["grad_input"]["token_f1"].get<double>(), r["plausibility"]["ig"]["token_f1"].get<double>(),
              r["plausibility"]["loo"]["token_f1"].get<double>(), r["plausibility"]["fake"]["token_f1"].get<double>(),
              r["sanity"]["decorrelation"]["grad_input"].get<double>(), r["sanity"]["decorrelation"]["ig"].get<double>(),
              r["sanity"]["decorrelation"]["loo"].get<double>(), r["sanity"]["decorrelation"]["fake"].get<double>());
}

TEST(RankStatistics, SpearmanAndAveragePrecisionOnHandExamples) {
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // Ties take average ranks: x ranks (1.5, 1.5, 3), y ranks (1, 2, 3) -> r = 0.866...
  EXPECT_NEAR(spearman({1, 1, 2}, {1, 2, 3}), std::sqrt(3.0) / 2, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
  // Positives at ranks 1 and 3: AP = (1/1 + 2/3) / 2.
  EXPECT_NEAR(average_precision({0.9, 0.5, 0.7, 0.1}, {0, 1}), (1.0 + 2.0 / 3.0) / 2, 1e-12);
}

}  // namespace
}  // namespace lumen::analysis
