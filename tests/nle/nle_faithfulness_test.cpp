// The faithfulness measures' arithmetic on hand-made cases (LAS bins, token F1, the words an
// explanation cites and their erasure), and the composed predict-then-explain sentences.
#include <gtest/gtest.h>

#include "core/error.h"
#include "nle/compose.h"
#include "nle/evaluate.h"

namespace lumen::nle {
namespace {

TEST(Las, AveragesTheLeakingAndNonLeakingBins) {
  // Leaking (explanation alone simulates): examples 0-3; non-leaking: 4-5.
  const std::vector<bool> e = {true, true, true, true, false, false};
  const std::vector<bool> xe = {true, true, true, false, true, true};
  const std::vector<bool> x = {true, false, false, false, false, true};
  const LasResult r = leakage_adjusted_simulatability(xe, x, e);
  ASSERT_TRUE(r.leaking && r.nonleaking && r.las);
  EXPECT_DOUBLE_EQ(*r.leaking, (0 + 1 + 1 + 0) / 4.0);
  EXPECT_DOUBLE_EQ(*r.nonleaking, (1 + 0) / 2.0);
  EXPECT_DOUBLE_EQ(*r.las, (0.5 + 0.5) / 2);
  EXPECT_EQ(r.n_leaking, 4);
  // Not the plain simulatability gain (mean of xe - x = 3/6), which a leaking bin would dominate.
  const LasResult only_leaking = leakage_adjusted_simulatability({true, true}, {false, true}, {true, true});
  EXPECT_FALSE(only_leaking.nonleaking.has_value());
  EXPECT_DOUBLE_EQ(*only_leaking.las, 0.5);
  EXPECT_FALSE(leakage_adjusted_simulatability({}, {}, {}).las.has_value());
}

TEST(NleMeasures, TokenF1AndCitedWords) {
  EXPECT_DOUBLE_EQ(token_f1({"a", "b"}, {"a", "b"}), 1.0);
  EXPECT_DOUBLE_EQ(token_f1({"a", "b", "c", "d"}, {"a", "b"}), 2 * 0.5 * 1.0 / 1.5);
  EXPECT_DOUBLE_EQ(token_f1({"x"}, {"a"}), 0.0);
  NleInput in{{"the", "ball", "is", "red", "."}, {"the", "ball", "is", "blue"}};
  // Content words only (stop words and punctuation never count), each once, in explanation order.
  EXPECT_EQ(cited_words({"the", "premise", "says", "the", "ball", "is", "red", ",", "not", "blue", "red"}, in),
            (std::vector<std::string>{"ball", "red", "blue"}));
  const NleInput erased = erase_words(in, {"ball", "blue"});
  EXPECT_EQ(erased.tokens, (std::vector<std::string>{"the", "is", "red", "."}));
  EXPECT_EQ(erased.tokens_b, (std::vector<std::string>{"the", "is"}));
}

Json instance(const std::vector<std::vector<double>>& scores) {
  Json a = Json::object();
  const char* names[] = {"attention", "saliency", "ig", "loo"};
  for (size_t m = 0; m < scores.size(); ++m) a[names[m]] = {{"scores", scores[m]}};
  return {{"tokens", {"free", "money", "now", "meeting", "notes"}},
          {"prediction", "spam"},
          {"probabilities", {0.1, 0.9}},
          {"attributions", a}};
}

TEST(Compose, NamesOnlyTokensTheMethodsAgreeOnWithTheirScores) {
  // Every method ranks "free" first and "money" second.
  const Json inst = instance({{0.5, 0.3, 0.1, 0.05, 0.05}, {0.9, 0.5, 0.0, 0.2, 0.1}, {0.4, 0.3, 0.2, -0.1, 0.0}, {0.6, 0.2, 0.1, 0.0, 0.01}});
  ComposeOptions o;
  o.top_k = 2;
  const auto ex = compose_explanation(inst, {"ham", "spam"}, std::nullopt, std::nullopt, "", o);
  EXPECT_FALSE(ex.hedged);
  EXPECT_DOUBLE_EQ(ex.overlap, 1.0);
  ASSERT_GE(ex.claims.size(), 2u);
  EXPECT_EQ(ex.claims[0].kind, "prediction");
  EXPECT_NE(ex.claims[0].sentence.find("spam (probability 0.90)"), std::string::npos) << ex.claims[0].sentence;
  EXPECT_EQ(ex.claims[1].kind, "tokens");
  EXPECT_NE(ex.claims[1].sentence.find("\"free\" and \"money\""), std::string::npos) << ex.claims[1].sentence;
  // The claim links to the numbers: every voting method's score for each named token.
  const Json& t0 = ex.claims[1].evidence["tokens"][0];
  EXPECT_EQ(t0["token"], "free");
  EXPECT_EQ(t0["votes"], 4);
  EXPECT_DOUBLE_EQ(t0["scores"]["saliency"].get<double>(), 0.9);
  EXPECT_EQ(ex.to_json()["claims"].size(), ex.claims.size());
}

TEST(Compose, HedgesWhenTheMethodsDisagree) {
  // Each method has another favourite: no token reaches half of the votes with top 1.
  const Json inst = instance({{0.9, 0, 0, 0, 0}, {0, 0.9, 0, 0, 0}, {0, 0, 0.9, 0, 0}, {0, 0, 0, 0.9, 0}});
  ComposeOptions o;
  o.top_k = 1;
  const auto ex = compose_explanation(inst, {"ham", "spam"}, std::nullopt, std::nullopt, "", o);
  EXPECT_TRUE(ex.hedged);
  EXPECT_DOUBLE_EQ(ex.overlap, 0.0);
  bool disagreement = false, tokens = false;
  for (const auto& c : ex.claims) {
    disagreement |= c.kind == "disagreement";
    tokens |= c.kind == "tokens";
  }
  EXPECT_TRUE(disagreement);
  EXPECT_FALSE(tokens);  // nothing is claimed as important
}

TEST(Compose, CitesTheCounterfactualAndTheInfluentialExamples) {
  const Json inst = instance({{0.5, 0.3, 0.1, 0.05, 0.05}, {0.9, 0.5, 0.0, 0.2, 0.1}});
  CounterfactualEvidence cf;
  cf.kind = "deletion";
  cf.removed = {"free"};
  cf.prediction = "ham";
  cf.probability = 0.71;
  const Json infl = {{"proponents", {{{"train", 12}, {"score", 3.5}, {"label_name", "spam"}, {"text", "free money"}}}},
                     {"opponents", {{{"train", 40}, {"score", -2.0}, {"label_name", "ham"}, {"text", "meeting at noon"}}}}};
  const auto ex = compose_explanation(inst, {"ham", "spam"}, cf, infl, "tracin", ComposeOptions{});
  std::string text;
  int influence = 0;
  for (const auto& c : ex.claims) {
    if (c.kind == "counterfactual") {
      EXPECT_NE(c.sentence.find("Removing \"free\" changes the prediction to ham (probability 0.71)"), std::string::npos) << c.sentence;
      EXPECT_EQ(c.evidence["removed"][0], "free");
    }
    if (c.kind == "influence") {
      ++influence;
      EXPECT_EQ(c.evidence["method"], "tracin");
    }
  }
  EXPECT_EQ(influence, 2);
  EXPECT_NE(ex.text.find("most helpful training example (tracin score 3.5) is #12"), std::string::npos) << ex.text;
  EXPECT_NE(ex.text.find("most harmful"), std::string::npos);
}

TEST(Compose, ConsensusOrderAndErrors) {
  const Json inst = instance({{0.1, 0.5, 0.3, 0, 0}, {0.2, 0.6, 0.1, 0, 0}});
  const auto order = consensus_order(inst, 2);
  ASSERT_EQ(order.size(), 5u);
  EXPECT_EQ(order[0], 1);  // "money": first for both
  EXPECT_THROW(compose_explanation(Json::object(), {"a"}, std::nullopt, std::nullopt, "", ComposeOptions{}), InvalidArgument);
  ComposeOptions bad;
  bad.agreement = 0;
  EXPECT_THROW(bad.validate(), InvalidArgument);
}

}  // namespace
}  // namespace lumen::nle
