// Batched per-example gradients from recorded linear maps (issue #12): the fused BiLSTM's taps
// equal its plain twin's; per-example gradients of whole selections (embedding included) from
// one backward pass per batch equal autograd one example at a time; the sparse embedding part's
// norms and products equal the dense ones; TracIn on all parameters takes the batched path.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/parallel.h"
#include "core/runtime.h"
#include "data/spec.h"
#include "influence/gradients.h"
#include "influence/influence.h"
#include "influence/taps.h"
#include "support/fixtures.h"

namespace lumen::influence {
namespace {

struct Task {
  data::Vocab vocab;
  data::EncodedSet single, pair;
};

const Task& task() {
  static Task t = [] {
    configure_threads(0);
    Task r;
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=120&length=8"));
    std::vector<const std::vector<std::string>*> texts;
    for (const auto& e : ds.train) texts.push_back(&e.tokens);
    r.vocab = data::Vocab::build(texts, 1);
    std::vector<data::Example> train(ds.train.begin(), ds.train.begin() + 12);
    r.single = data::EncodedSet::from(train, r.vocab, false);
    // Pairs: the second text is the first one reversed and cut (lengths differ).
    for (auto& e : train) {
      e.tokens_b.assign(e.tokens.rbegin(), e.tokens.rend());
      e.tokens_b.resize(1 + e.tokens.size() / 2);
    }
    r.pair = data::EncodedSet::from(train, r.vocab, true);
    return r;
  }();
  return t;
}

models::TextClassifier make_model(const std::string& encoder, bool pair, int64_t classes = 2) {
  torch::manual_seed(7);
  models::ModelConfig c = test::tiny_config(encoder, "additive", pair, classes);
  c.vocab_size = task().vocab.size();
  models::TextClassifier m(c);
  m->to(torch::kDouble);
  m->eval();
  return m;
}

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(BatchedGradients, FusedLstmTapsEqualThePlainTwinsTaps) {
  auto model = make_model("lstm", false);
  ASSERT_NE(model->fused_lstm(), nullptr);
  const data::Batch batch = task().single.batch({0, 1, 2, 3, 4});
  const auto loss = train::TrainingLoss::make(task().single, 2, false, "auto", 0);
  std::vector<std::string> names;
  for (const auto& l : model->linear_layers()) names.push_back(l.name);
  std::vector<at::Tensor> grads[2];
  int mode = 0;
  for (auto m : {models::TapRecorder::Mode::kFast, models::TapRecorder::Mode::kPlain}) {
    BatchTaps t = forward_taps(model, batch, false, m);
    const auto by = taps_by_layer(t.taps, names);
    std::vector<int> chosen;
    for (const auto& v : by) chosen.insert(chosen.end(), v.begin(), v.end());
    // The plain twin records one tap per step, the fused path one per map.
    if (m == models::TapRecorder::Mode::kFast) EXPECT_EQ(by[0].size(), 1u);
    else EXPECT_EQ(static_cast<int64_t>(by[0].size()), batch.ids.size(1));
    torch::AutoGradMode on(true);
    const auto s = output_gradients(loss.per_example(t.logits, batch.labels).sum(), t.taps, chosen, false);
    for (size_t l = 0; l < names.size(); ++l) grads[mode].push_back(example_gradient(t.taps, s, by[l]));
    ++mode;
  }
  for (size_t l = 0; l < names.size(); ++l) EXPECT_LT(max_diff(grads[0][l], grads[1][l]), 1e-12) << names[l];
}

TEST(BatchedGradients, WholeSelectionsEqualAutogradOneExampleAtATime) {
  struct Case {
    std::string encoder, params;
    bool pair, batched;
    int64_t classes;
  };
  const std::vector<Case> cases = {{"lstm", "all", false, true, 2},          {"lstm", "all", true, true, 3},
                                   {"average", "all", false, true, 3},       {"average", "embedding", false, true, 2},
                                   {"lstm", "encoder,attention", false, true, 2}, {"cnn", "attention,decoder", false, true, 2},
                                   {"cnn", "all", false, false, 2}};
  const std::vector<int64_t> rows = {5, 0, 3, 7, 1};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.encoder + " " + c.params + (c.pair ? " pair" : ""));
    auto model = make_model(c.encoder, c.pair, c.classes);
    data::EncodedSet set = c.pair ? task().pair : task().single;
    for (size_t i = 0; i < set.labels.size(); ++i) set.labels[i] = static_cast<int64_t>(i) % c.classes;
    const auto loss = train::TrainingLoss::make(set, c.classes, c.pair, "auto", 1e-3);
    PerExampleGradients g(model, loss, select_parameters(model, c.params));
    EXPECT_EQ(g.batched(), c.batched);
    const at::Tensor plain = g.compute_plain(set, rows), fast = g.compute(set, rows);
    EXPECT_GT(plain.abs().max().item<double>(), 1e-6);
    EXPECT_LT(max_diff(fast, plain), 1e-10);
    // The parts: dense + sparse embedding rows, their norms and products.
    const GradientParts parts = g.compute_parts(set, rows);
    EXPECT_LT(max_diff(parts.to_dense(model->config().vocab_size), plain), 1e-10);
    EXPECT_LT(max_diff(parts.squared_norms(), (plain * plain).sum(1)), 1e-10);
    const GradientParts other = g.compute_parts(set, {2, 5});
    EXPECT_LT(max_diff(parts.dot(other), torch::mm(plain, g.compute_plain(set, {2, 5}).t())), 1e-10);
  }
}

// Decoder features come from forward_training (a fused BiLSTM projects each distinct token once)
// on length-sorted batches dealt to one worker per core. They equal the plain forward pass's
// context vectors, and one worker (inside a parallel region) gives the same rows, single texts
// and pairs, with batches of 1 and 5.
TEST(BatchedGradients, DecoderFeaturesOnEveryCoreEqualOneWorker) {
  for (bool pair : {false, true}) {
    auto model = make_model("lstm", pair);
    const data::EncodedSet& set = pair ? task().pair : task().single;
    for (int64_t rows : {1, 5}) {
      const Features all = decoder_features(model, set, rows);
      Features one;
      parallel_chunks(1, 1, [&](int64_t, int64_t) { one = decoder_features(model, set, rows); });
      EXPECT_LT(max_diff(all.context, one.context), 1e-12) << pair << " " << rows;
      if (pair) EXPECT_LT(max_diff(all.query, one.query), 1e-12);
      // Every row filled, whatever the batching: one batch of all 12 texts (padded) agrees.
      const Features together = decoder_features(model, set, 64);
      EXPECT_LT(max_diff(all.context, together.context), 1e-10);
      std::vector<int64_t> every(set.size());
      for (int64_t i = 0; i < set.size(); ++i) every[i] = i;
      torch::NoGradGuard no_grad;
      const models::ModelOutput plain = model->forward(set.batch(every));
      EXPECT_LT(max_diff(all.context, plain.context), 1e-10);
      if (pair) EXPECT_LT(max_diff(all.query, plain.query), 1e-10);
    }
  }
}

}  // namespace
}  // namespace lumen::influence
