// The application layer's predictions (app/predict.h): input order kept, probabilities that sum
// to one, the same as one unbatched forward pass whatever the batching, and clear errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "app/inputs.h"
#include "app/predict.h"
#include "core/error.h"
#include "core/runtime.h"
#include "data/batch.h"
#include "support/fixtures.h"

namespace lumen::app {
namespace {

models::Run tiny_run(bool pair) {
  configure_threads(0);
  models::Run run;
  std::vector<std::vector<std::string>> words = {{"a", "good", "great", "film", "bad", "awful", "plot", "the"}};
  std::vector<const std::vector<std::string>*> texts = {&words[0]};
  run.vocab = data::Vocab::build(texts, 1);
  torch::manual_seed(11);
  run.model_config = test::tiny_config("lstm", "additive", pair, 3);
  run.model_config.vocab_size = run.vocab.size();
  run.model = models::TextClassifier(run.model_config);
  run.label_names = {"neg", "neutral", "pos"};
  return run;
}

const std::vector<std::string> kTexts = {"a good film", "bad", "the plot the plot was awful and the film bad", "great great"};

TEST(AppPredict, KeepsInputOrderAndEqualsOneUnbatchedPass) {
  models::Run run = tiny_run(false);
  const std::vector<data::Example> examples = examples_from_texts(run, kTexts, "test");
  std::vector<const data::Example*> ptrs;
  for (const auto& e : examples) ptrs.push_back(&e);
  torch::NoGradGuard no_grad;
  const at::Tensor plain = torch::softmax(run.model->forward(data::make_batch(ptrs, run.vocab, false)).logits, 1).to(torch::kDouble);
  for (int64_t rows : {1, 2, 64}) {
    const PredictionResult r = predict(run, kTexts, rows);
    ASSERT_EQ(r.predictions.size(), kTexts.size());
    for (size_t i = 0; i < kTexts.size(); ++i) {
      const Prediction& p = r.predictions[i];
      EXPECT_EQ(p.text, kTexts[i]);
      ASSERT_EQ(p.probabilities.size(), 3u);
      double sum = 0;
      for (size_t c = 0; c < 3; ++c) {
        sum += p.probabilities[c];
        EXPECT_NEAR(p.probabilities[c], plain[i][c].item<double>(), 1e-6) << i << " rows " << rows;
        EXPECT_LE(p.probabilities[c], p.probabilities[p.label_index]);
      }
      EXPECT_NEAR(sum, 1.0, 1e-6);  // float32 softmax
      EXPECT_EQ(p.label, run.label_names[p.label_index]);
    }
  }
  const Json j = predict(run, kTexts).to_json();
  ASSERT_EQ(j.size(), kTexts.size());
  EXPECT_EQ(j[0]["text"], kTexts[0]);
  EXPECT_TRUE(j[0]["probabilities"].contains("neutral"));
}

TEST(AppPredict, PairsNeedATabAndEmptyInputIsAnError) {
  const models::Run run = tiny_run(true);
  const PredictionResult r = predict(run, {"a good film\tgreat", "bad\tthe plot"});
  EXPECT_EQ(r.predictions.size(), 2u);
  try {
    predict(run, {"a good film\tgreat", "no tab here"});
    FAIL() << "a pair without a tab was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("input 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(predict(run, {}), InvalidArgument);
  EXPECT_THROW(predict(tiny_run(false), {"   "}), DataError);
}

}  // namespace
}  // namespace lumen::app
