// The BiLSTM fast paths (explain/lstm_fast.h) against their plain twins (ExplainOptions::fast =
// false: autograd through the embeddings, one forward pass per removal), in float64: saliency,
// gradient x input, integrated gradients (every baseline, any chunking), leave-one-out by
// deletion, <pad> and <unk> (with a one-token row), for the predicted and for given classes, with
// and without a persistent attention edit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "explain/explainer.h"
#include "explain/lstm_fast.h"
#include "support/fixtures.h"

namespace lumen::explain {
namespace {

using test::batch_of;
using test::tiny_config;

void expect_twins(models::TextClassifier& model, const data::Batch& batch, const std::string& method,
                  ExplainOptions o, const std::string& label) {
  const auto e = make_explainer(method);
  o.fast = true;
  const BatchAttribution fast = e->explain(model, batch, o);
  o.fast = false;
  const BatchAttribution plain = e->explain(model, batch, o);
  EXPECT_EQ(fast.targets, plain.targets) << label;
  EXPECT_TRUE(torch::allclose(fast.scores, plain.scores, 1e-9, 1e-12))
      << label << "\nfast\n" << fast.scores << "\nplain\n" << plain.scores;
  ASSERT_EQ(fast.completeness_gap.size(), plain.completeness_gap.size()) << label;
  for (size_t r = 0; r < fast.completeness_gap.size(); ++r)
    EXPECT_NEAR(fast.completeness_gap[r], plain.completeness_gap[r], 1e-9) << label;
  EXPECT_GT(fast.scores.abs().sum().item<double>(), 0.0) << label;
}

TEST(LstmFastPaths, EqualTheGenericPathsInFloat64) {
  torch::manual_seed(11);
  for (int64_t classes : {2, 3}) {
    models::TextClassifier model(tiny_config("lstm", "additive", false, classes));
    model->to(torch::kDouble);
    const data::Batch batch = batch_of({{4, 5, 6, 7, 8, 5}, {9}, {10, 11, 12}, {13, 4}});
    for (int edited = 0; edited < 2; ++edited) {
      ExplainOptions o;
      o.path.steps = 7;
      if (edited) {  // an edit passed with the call: the pooling attention flattened halfway to uniform
        o.attention_edit = [](const at::Tensor& w, int64_t) {
          const at::Tensor m = (w > 0).to(w.scalar_type());
          return 0.5 * w + 0.5 * m / m.sum(1, true);
        };
        // The edit reaches both paths: the scores move.
        ExplainOptions unedited = o;
        unedited.attention_edit = {};
        for (const char* m : {"saliency", "loo"})
          EXPECT_FALSE(torch::allclose(make_explainer(m)->explain(model, batch, o).scores,
                                       make_explainer(m)->explain(model, batch, unedited).scores))
              << m;
      }
      for (const char* m : {"saliency", "grad_input", "loo"}) {
        expect_twins(model, batch, m, o, std::string(m) + " classes " + std::to_string(classes));
        ExplainOptions given = o;
        given.targets = {1, 0, 1, 0};
        expect_twins(model, batch, m, given, std::string(m) + " given targets");
      }
      for (Baseline b : {Baseline::kPad, Baseline::kZero, Baseline::kUnk})
        for (int64_t chunk : {0, 3}) {
          ExplainOptions ig = o;
          ig.path.baseline = b;
          ig.chunk = chunk;
          expect_twins(model, batch, "ig", ig, "ig " + to_string(b) + " chunk " + std::to_string(chunk));
          ig.path.tolerance = 1e-6;  // the adaptive mode: per-row step counts up to 64
          ig.path.max_steps = 64;
          expect_twins(model, batch, "ig", ig, "adaptive ig " + to_string(b) + " chunk " + std::to_string(chunk));
        }
      for (Removal r : {Removal::kPad, Removal::kUnk}) {
        ExplainOptions rm = o;
        rm.removal = r;
        expect_twins(model, batch, "loo", rm, "loo " + to_string(r));
      }
      ExplainOptions small = o;  // removals split into groups of a few positions
      small.max_tokens = 16;
      expect_twins(model, batch, "loo", small, "loo in small groups");
      small.removal = Removal::kPad;
      expect_twins(model, batch, "loo", small, "loo pad in small groups");
    }
  }
}

TEST(LstmFastPaths, TakenOnlyForSingleTextFusedBiLstms) {
  ExplainOptions o;
  models::TextClassifier lstm(tiny_config("lstm", "additive", false));
  EXPECT_TRUE(lstm_projection(lstm, o).has_value());
  o.fast = false;
  EXPECT_FALSE(lstm_projection(lstm, o).has_value());
  o.fast = true;
  models::TextClassifier pair(tiny_config("lstm", "additive", true));
  EXPECT_FALSE(lstm_projection(pair, o).has_value());
  models::TextClassifier cnn(tiny_config("cnn", "additive", false));
  EXPECT_FALSE(lstm_projection(cnn, o).has_value());
  auto c = tiny_config("lstm", "dot", false);
  c.lstm_impl = "plain";
  models::TextClassifier plain(c);
  EXPECT_FALSE(lstm_projection(plain, o).has_value());
}

}  // namespace
}  // namespace lumen::explain
