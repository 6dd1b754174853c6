// `lumen attack` end to end on a small trained run: the three files, TextAttack's metrics with
// their denominators, the re-check in the summary, the view rendering in headless Chromium,
// and one clear message with exit 2 for what cannot be run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/build_config.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

class AttackCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=600&length=12' --out " + dir_->file("run") +
                                   " --embed-dim 32 --hidden 16 --epochs 6");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
};
test::TempDir* AttackCli::dir_ = nullptr;

TEST_F(AttackCli, WritesTypedRecordsTheSummaryAndAViewThatRenders) {
  const std::string out = dir_->file("tf");
  auto r = test::run_lumen("--json attack --run " + dir_->file("run") + " --recipe textfooler --limit 40 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const Json printed = Json::parse(r.output.substr(r.output.find('{')));
  const Json s = read_json_file(out + "/summary.json");
  EXPECT_EQ(printed["summary"]["total"], s["total"]);
  EXPECT_EQ(s["total"].get<int64_t>(), 40);
  EXPECT_EQ(s["succeeded"].get<int64_t>() + s["failed"].get<int64_t>() + s["skipped"].get<int64_t>(), 40);
  for (const char* k : {"original_accuracy", "accuracy_under_attack", "success_rate", "perturbed_word_percent",
                        "words_per_input", "queries_per_example", "examples_per_second"})
    EXPECT_TRUE(s.contains(k) && s["denominators"].is_object()) << k;
  EXPECT_EQ(s["verification"]["violations"].get<int64_t>(), 0);
  EXPECT_EQ(s["verification"]["checked"], s["succeeded"]);
  EXPECT_EQ(s["warnings"].size(), 1u);  // no --vectors: the cosine floor is dropped, and said so
  std::ifstream in(out + "/attacks.jsonl");
  int64_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    const Json j = Json::parse(line);
    const std::string st = j["status"].get<std::string>();
    EXPECT_TRUE(st == "succeeded" || st == "failed" || st == "skipped") << line;
    if (st == "succeeded") {
      EXPECT_NE(j["perturbed"]["prediction"], j["label"]) << line;
      EXPECT_GE(j["edits"].size(), 1u) << line;
      for (const auto& e : j["edits"]) EXPECT_NE(e["original"], e["replacement"]) << line;
    }
  }
  EXPECT_EQ(lines, 40);
  if (std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no Chromium (scripts/install-deps.sh installs chromium-headless-shell)";
  r = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + out + "/attacks.html " +
                        dir_->file("attacks.png") + " 2");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(AttackCli, WhatCannotRunEndsWithOneMessageAndExit2) {
  const std::string run = " --run " + dir_->file("run");
  auto r = test::run_lumen("attack -q" + run + " --recipe clare --search genetic --limit 5 --out " + dir_->file("bae"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("genetic search"), std::string::npos) << r.output;
  r = test::run_lumen("attack -q" + run + " --recipe nonsense --out " + dir_->file("x"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("textfooler"), std::string::npos) << r.output;
  r = test::run_lumen("attack -q" + run + " --query-budget 0 --out " + dir_->file("x"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("query budget"), std::string::npos) << r.output;
  r = test::run_lumen("attack -q" + run + " --max-share 1.5 --out " + dir_->file("x"));
  EXPECT_EQ(r.code, 2) << r.output;
  // Nothing was written for the refused runs.
  EXPECT_FALSE(std::ifstream(dir_->file("x") + "/summary.json").good());
  EXPECT_FALSE(std::ifstream(dir_->file("bae") + "/summary.json").good());
}

TEST_F(AttackCli, EveryRecipeRunsWithABudget) {
  for (const char* recipe : {"pwws", "deepwordbug", "hotflip"}) {
    const std::string out = dir_->file(recipe);
    auto r = test::run_lumen("attack -q --run " + dir_->file("run") + " --recipe " + recipe +
                             " --limit 20 --query-budget 50 --out " + out);
    ASSERT_EQ(r.code, 0) << recipe << ": " << r.output;
    const Json s = read_json_file(out + "/summary.json");
    EXPECT_EQ(s["verification"]["violations"].get<int64_t>(), 0) << recipe;
    EXPECT_LE(s["queries_per_example"].get<double>(), 50.0) << recipe;
  }
}

TEST_F(AttackCli, AugmentWritesAdversarialTrainingDataThatTrainReads) {
  const std::string aug = dir_->file("aug.jsonl");
  auto r = test::run_lumen("--json augment --run " + dir_->file("run") + " --recipe textfooler --limit 60 --out " + aug);
  ASSERT_EQ(r.code, 0) << r.output;
  const Json printed = Json::parse(r.output.substr(r.output.find('{')));
  ASSERT_GT(printed["examples"].get<int64_t>(), 0) << r.output;
  std::ifstream in(aug);
  std::string first;
  std::getline(in, first);
  const Json line = Json::parse(first);
  EXPECT_TRUE(line["tokens"].is_array());
  EXPECT_TRUE(line["label"].is_string());
  r = test::run_lumen("train -q --data 'synthetic-keywords?n=600&length=12' --augment " + aug + " --out " +
                      dir_->file("adv") + " --embed-dim 32 --hidden 16 --epochs 2");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json config = read_json_file(dir_->file("adv") + "/config.json");
  EXPECT_EQ(config["augment"]["examples"], printed["examples"]);
  const Json metrics = read_json_file(dir_->file("adv") + "/metrics.json");
  EXPECT_EQ(metrics["splits"]["train"].get<int64_t>(), 480 + printed["examples"].get<int64_t>());
  // A line with a label the data does not have: one message naming the line, exit 1, no run.
  const std::string bad = dir_->write("bad.jsonl", first + "\n{\"tokens\": [\"a\"], \"label\": \"nope\"}\n");
  r = test::run_lumen("train -q --data 'synthetic-keywords?n=600&length=12' --augment " + bad + " --out " +
                      dir_->file("bad-run") + " --epochs 1");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.jsonl:2"), std::string::npos) << r.output;
  EXPECT_FALSE(std::ifstream(dir_->file("bad-run") + "/config.json").good());
}

TEST_F(AttackCli, CounterfactualsWithTheRunsEditorAndClearErrors) {
  const std::string run = " --run " + dir_->file("run");
  auto r = test::run_lumen("train-editor -q" + run + " --epochs 2 --model-dim 32 --embed-dim 32 --ff-dim 64 --layers 1");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string out = dir_->file("cf");
  r = test::run_lumen("counterfactual -q" + run + " --data run --limit 20 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const Json s = read_json_file(out + "/summary.json");
  for (const char* k : {"flip_rate", "minimality_median", "fluency_ratio_mean", "closeness_mean", "self_bleu_mean",
                        "editor_passes_per_instance", "seconds_per_instance"})
    EXPECT_TRUE(s.contains(k)) << k;
  EXPECT_EQ(s["verification"]["violations"].get<int64_t>(), 0);
  r = test::run_lumen("--json counterfactual -q" + run + " --method polyjuice --codes negation,delete 'good bad good film'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(Json::parse(r.output.substr(r.output.find('{')))["results"].size(), 1u);
  r = test::run_lumen("counterfactual -q" + run + " --target nope 'good film'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("not a label of this run"), std::string::npos) << r.output;
  r = test::run_lumen("counterfactual -q" + run + " --method polyjuice --codes restructure 'good film'");
  EXPECT_EQ(r.code, 0) << r.output;
  r = test::run_lumen("counterfactual -q" + run + " --method polyjuice --codes nonsense 'good film'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("restructure"), std::string::npos) << r.output;
  // An editor trained for another run's vocabulary.
  r = test::run_lumen("train -q --data 'synthetic-keywords?n=300&length=8&seed=3' --out " + dir_->file("other") +
                      " --embed-dim 16 --hidden 8 --epochs 1");
  ASSERT_EQ(r.code, 0) << r.output;
  r = test::run_lumen("counterfactual -q --run " + dir_->file("other") + " --editor " + dir_->file("run") + "/editor 'good film'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("another vocabulary"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lumen
