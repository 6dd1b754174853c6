// The explanation generators: the decoder is causal, generation stops at </s>, every
// arrangement predicts and explains, a saved system gives the same outputs, and (statistical,
// label slow) on the synthetic task the explanations name the true rationale and the
// counterfactual test tells them from shuffled ones.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "app/nle.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/runtime.h"
#include "nle/evaluate.h"
#include "nle/system.h"
#include "support/fixtures.h"

namespace lumen::nle {
namespace {

TEST(Seq2Seq, DecoderIsCausalAndEncoderIgnoresPadding) {
  torch::manual_seed(0);
  Seq2SeqConfig c;
  c.vocab_size = 20;
  c.labels = 2;
  c.dropout = 0;
  Seq2Seq m(c);
  m->eval();
  torch::NoGradGuard g;
  auto src = torch::tensor({{5, 6, 7, 0, 0}}, torch::kLong);
  auto mem = m->encode(src, src.ne(0));
  // Padding positions: changing what sits there (kept masked) changes nothing downstream.
  auto src2 = torch::tensor({{5, 6, 7, 0, 0}}, torch::kLong);
  auto mem_short = m->encode(src2.narrow(1, 0, 3), src2.narrow(1, 0, 3).ne(0));
  EXPECT_TRUE(torch::allclose(m->classify(mem, src.ne(0)), m->classify(mem_short, src2.narrow(1, 0, 3).ne(0)), 1e-5, 1e-5));
  // Position t's logits do not depend on target tokens after t.
  auto a = m->decode(mem, src.ne(0), torch::tensor({{2, 8, 9, 10}}, torch::kLong));
  auto b = m->decode(mem, src.ne(0), torch::tensor({{2, 8, 11, 12}}, torch::kLong));
  EXPECT_TRUE(torch::allclose(a.narrow(1, 0, 2), b.narrow(1, 0, 2), 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(a.narrow(1, 2, 1), b.narrow(1, 2, 1), 1e-5, 1e-5));
  const auto gen = m->generate(mem, src.ne(0), 2, 3, 6);
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_LE(gen[0].size(), 6u);
  for (int64_t id : gen[0]) EXPECT_NE(id, 3);  // </s> is never part of the explanation
}

NleTrainOptions quick_options() {
  NleTrainOptions o;
  o.epochs = 2;
  o.model_dim = 32;
  o.ff_dim = 64;
  o.layers = 1;
  o.progress = false;
  return o;
}

TEST(NleSystem, EveryArrangementPredictsAndSavedSystemsAgree) {
  const NleDataset ds = synthetic_nle(300, 3);
  NleSystem s = train_nle_system(ds, quick_options());
  std::vector<NleInput> in;
  for (size_t i = 0; i < 8; ++i) in.push_back(input_of(ds.test[i].example));
  test::TempDir dir;
  save_nle_system(s, dir.path(), Json::object());
  NleSystem loaded = load_nle_system(dir.path());
  for (auto a : all_arrangements()) {
    ASSERT_TRUE(s.has(a)) << to_string(a);
    const auto out = nle_predict(s, a, in), again = nle_predict(loaded, a, in);
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      ASSERT_EQ(out[i].probs.size(), 2u);
      EXPECT_NEAR(out[i].probs[0] + out[i].probs[1], 1.0, 1e-5);
      EXPECT_LE(static_cast<int64_t>(out[i].explanation.size()), s.options.max_explanation_length);
      EXPECT_EQ(out[i].label, again[i].label);
      EXPECT_EQ(out[i].explanation, again[i].explanation);
      EXPECT_NEAR(out[i].probs[1], again[i].probs[1], 1e-6);
    }
  }
  // Batched predictions equal one at a time.
  const auto batched = nle_predict(s, Arrangement::kJoint, in);
  for (size_t i = 0; i < in.size(); ++i) {
    const auto one = nle_predict(s, Arrangement::kJoint, {in[i]});
    EXPECT_EQ(one[0].explanation, batched[i].explanation);
    EXPECT_NEAR(one[0].probs[0], batched[i].probs[0], 1e-5);
  }
}

TEST(NleSystem, OnlyTheRequestedArrangementsAndClearErrors) {
  const NleDataset ds = synthetic_nle(120, 3);
  NleTrainOptions o = quick_options();
  o.epochs = 1;
  o.arrangements = {Arrangement::kJoint};
  NleSystem s = train_nle_system(ds, o);
  EXPECT_TRUE(s.has(Arrangement::kJoint));
  EXPECT_FALSE(s.has(Arrangement::kExplainThenPredict));
  EXPECT_THROW(nle_predict(s, Arrangement::kExplainThenPredict, {input_of(ds.test[0].example)}), InvalidArgument);
  EXPECT_THROW(parse_arrangement("explain-first"), InvalidArgument);
  test::TempDir dir;
  EXPECT_THROW(load_nle_system(dir.path()), IoError);
  dir.write("config.json", "{\"format\": \"something else\"}");
  EXPECT_THROW(load_nle_system(dir.path()), ModelError);
  NleTrainOptions bad = quick_options();
  bad.heads = 3;
  EXPECT_THROW(bad.validate(), InvalidArgument);
}

TEST(NleEvaluation, SmallRunReportsEveryMeasure) {
  const NleDataset ds = synthetic_nle(300, 3);
  NleSystem s = train_nle_system(ds, quick_options());
  NleEvalOptions eo;
  eo.limit = 20;
  eo.insertion_candidates = 2;
  eo.bootstrap = 50;
  eo.progress = false;
  const NleEvaluation ev = evaluate_nle(s, ds, eo);
  EXPECT_EQ(ev.test_examples, 20);
  ASSERT_EQ(ev.arrangements.size(), 3u);
  for (const auto& a : ev.arrangements) {
    EXPECT_EQ(a.records.size(), 20u);
    EXPECT_TRUE(a.rationale_named.has_value());
    EXPECT_TRUE(a.las.has_value());
    EXPECT_LE(a.separation_low, a.separation + 1e-12);
    EXPECT_GE(a.separation_high, a.separation - 1e-12);
    for (const auto& r : a.records) {
      EXPECT_EQ(r.insertions, 2);
      EXPECT_LE(r.insertion_unmentioned, r.insertion_flips);
      EXPECT_EQ(r.random.cited.size() <= r.erasure.cited.size(), true);
    }
  }
  const Json j = ev.summary_json();
  EXPECT_EQ(j["arrangements"].size(), 3u);
  EXPECT_NE(ev.table().find("| joint |"), std::string::npos);
}

// Statistical (label slow): the must-show 3 on the synthetic pair task.
TEST(NleSyntheticTask, ExplanationsNameTheRationaleAndPassTheCounterfactualTest) {
  configure_threads(0);  // as `lumen` runs: LibTorch on one thread, the models on every core
  test::TempDir dir;
  app::TrainNleRequest r;
  r.data = "synthetic-nle?n=3000";
  r.out = dir.file("nle");
  r.train.progress = r.eval.progress = false;
  r.eval.insertion_candidates = 4;
  const auto result = app::train_nle(r);
  ASSERT_TRUE(result.evaluation.has_value());
  for (const auto& a : result.evaluation->arrangements) {
    SCOPED_TRACE(to_string(a.arrangement));
    ASSERT_TRUE(a.rationale_named.has_value());
    EXPECT_GE(*a.rationale_named, 0.8);
    EXPECT_GE(a.accuracy, 0.8);
    // Erasing what the explanation cites moves the prediction more than erasing what a shuffled
    // explanation cites, with the bootstrap interval above 0.
    EXPECT_GT(a.separation_low, 0.0);
    EXPECT_GT(a.faithful.mean_drop, a.random.mean_drop);
  }
  EXPECT_TRUE(path_exists(join_path(r.out, "evaluation.json")));
  EXPECT_TRUE(path_exists(join_path(r.out, "records.jsonl")));
}

}  // namespace
}  // namespace lumen::nle
