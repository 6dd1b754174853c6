// `lumen influence` and `lumen influence-check` end to end on small trained runs: the JSON and
// HTML written, --resume reusing a finished request, the view rendering, mislabel detection,
// and one clear message with a non-zero exit for what cannot be run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/build_config.h"
#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

// The JSON document printed by --json (a trailing error line after it is allowed).
Json printed(const std::string& output) {
  const size_t a = output.find('{'), b = output.rfind('}');
  return Json::parse(output.substr(a, b - a + 1));
}

class InfluenceCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=400&length=10' --out " + dir_->file("run") +
                             " --encoder average --embed-dim 16 --hidden 16 --epochs 10 --record-order");
    ASSERT_EQ(r.code, 0) << r.output;
    r = test::run_lumen("train -q --data 'synthetic-keywords?n=400&length=10' --out " + dir_->file("bare") +
                        " --encoder average --embed-dim 16 --hidden 16 --epochs 2 --no-checkpoints");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
};
test::TempDir* InfluenceCli::dir_ = nullptr;

TEST_F(InfluenceCli, WritesTheDocumentAndTheViewAndResumesAFinishedRequest) {
  const std::string run = " --run " + dir_->file("run"), out = dir_->file("inf");
  auto r = test::run_lumen("--json influence" + run + " --method if-exact --test-data run --limit 3 --top 4 --self-influence --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const Json doc = read_json_file(out + "/influence.json");
  ASSERT_EQ(doc["tests"].size(), 3u);
  for (const auto& t : doc["tests"]) {
    EXPECT_LE(t["proponents"].size(), 4u);
    for (const auto& e : t["proponents"]) {
      EXPECT_GT(e["score"].get<double>(), 0);
      EXPECT_TRUE(e["text"].is_string());
    }
    for (const auto& e : t["opponents"]) EXPECT_LT(e["score"].get<double>(), 0);
  }
  EXPECT_EQ(doc["self_influence"].size(), 320u);
  EXPECT_TRUE(doc["diagnostics"]["converged"].get<bool>());
  EXPECT_NE(doc["sign"].get<std::string>().find("proponent"), std::string::npos);
  // The run kept its training order.
  const Json order = read_json_file(dir_->file("run") + "/order.json");
  EXPECT_EQ(order["epochs"].size(), 10u);
  EXPECT_EQ(order["train_size"].get<int64_t>(), 320);
  // --resume: the same request is not recomputed (the file is untouched).
  r = test::run_lumen("influence" + run + " --method if-exact --test-data run --limit 3 --top 4 --self-influence --resume --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("not recomputed"), std::string::npos) << r.output;
  // A finished TracIn leaves no partial results behind (its checkpoints were saved as units).
  const std::string out2 = dir_->file("tracin-out");
  r = test::run_lumen("influence" + run + " --method tracin --params all --test 'good superb film' --out " + out2);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(path_exists(out2 + "/influence.json"));
  EXPECT_FALSE(path_exists(out2 + "/partial"));
  for (const char* method : {"tracin", "representer", "ekfac", "fastif", "sgd", "shapley"}) {
    r = test::run_lumen("--json influence" + run + " --method " + method + " --test 'good superb film' --shapley-points 30" +
                        " --shapley-permutations 60");
    ASSERT_EQ(r.code == 0 || std::string(method) == "shapley", true) << method << ": " << r.output;
    const Json j = printed(r.output);
    EXPECT_EQ(j["method"], method);
  }
  // EK-FAC's factors were cached in the run by the loop above: the second run reads them back
  // and gives the same scores.
  r = test::run_lumen("--json influence" + run + " --method ekfac --test 'good superb film' --keep-scores");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json cached = printed(r.output);
  EXPECT_TRUE(cached["diagnostics"]["factors_cached"].get<bool>());
  test::run_command("rm -rf " + dir_->file("run") + "/influence");
  r = test::run_lumen("--json influence" + run + " --method ekfac --test 'good superb film' --keep-scores");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json fresh = printed(r.output);
  EXPECT_FALSE(fresh["diagnostics"]["factors_cached"].get<bool>());
  EXPECT_EQ(cached["scores"], fresh["scores"]);
  if (std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no Chromium (scripts/install-deps.sh installs chromium-headless-shell)";
  r = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + out + "/influence.html " +
                        dir_->file("influence.png") + " 3");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(InfluenceCli, BadInputsEndWithOneClearMessage) {
  const std::string run = " --run " + dir_->file("run");
  auto r = test::run_lumen("influence -q --run " + dir_->file("bare") + " --method tracin --test 'good film'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("checkpoints"), std::string::npos) << r.output;
  r = test::run_lumen("influence -q" + run + " --method if-exact --test 'qqqq zzzz'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("does not know"), std::string::npos) << r.output;
  r = test::run_lumen("influence -q" + run + " --method if-exact --params decodr --test 'good film'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown parameter group"), std::string::npos) << r.output;
  r = test::run_lumen("influence -q" + run + " --method nope --test 'good film'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("if-exact"), std::string::npos) << r.output;
  // LiSSA with a scale below the Hessian's largest eigenvalue: not converged, said so, exit 1.
  r = test::run_lumen("influence -q" + run + " --method if-lissa --lissa-scale 1e-4 --test 'good film'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("NOT CONVERGED"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("nan"), std::string::npos) << r.output;
}

TEST_F(InfluenceCli, InfluenceCheckFindsFlippedLabels) {
  auto r = test::run_lumen("--json influence-check -q --run " + dir_->file("run") +
                           " --methods if-exact,representer,sgd --mislabel 0.1 --epochs 20");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json j = printed(r.output);
  ASSERT_EQ(j["mislabel"]["table"].size(), 4u);  // the training-loss baseline and three methods
  for (const auto& row : j["mislabel"]["table"]) {
    EXPECT_GT(row["auc"].get<double>(), 0.5) << row.dump();
    EXPECT_GE(row["found"]["0.5"].get<double>(), 0.5) << row.dump();
  }
  r = test::run_lumen("--json influence-check -q --run " + dir_->file("run") +
                      " --shapley-removal --shapley-points 40 --shapley-permutations 60");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json s = printed(r.output)["shapley_removal"];
  EXPECT_EQ(s["players"].get<int64_t>(), 40);
  EXPECT_EQ(s["accuracy_high_value_first"].size(), 6u);
  EXPECT_EQ(s["accuracy_random"].size(), 6u);
  // Leave-one-out and LDS retrain one model per core at once; the same as one at a time.
  Json both[2];
  for (int k = 0; k < 2; ++k) {
    r = test::run_lumen(std::string("--json influence-check -q --run ") + dir_->file("run") +
                        " --methods if-exact --loo-points 4 --lds-subsets 4 --lds-seeds 2 --test-points 5 --epochs 5" +
                        (k ? " --sequential" : ""));
    ASSERT_EQ(r.code, 0) << r.output;
    both[k] = printed(r.output);
  }
  EXPECT_NEAR(both[0]["leave_one_out"]["table"][0]["pearson"].get<double>(),
              both[1]["leave_one_out"]["table"][0]["pearson"].get<double>(), 1e-3);
  EXPECT_EQ(both[0]["leave_one_out"]["points"], both[1]["leave_one_out"]["points"]);
  EXPECT_NEAR(both[0]["linear_datamodeling"]["table"][0]["lds"].get<double>(),
              both[1]["linear_datamodeling"]["table"][0]["lds"].get<double>(), 1e-3);
  // LDS: the subsets' seed-mean test losses, the interval from resampling subsets, and the full
  // set's class weights kept in every retraining.
  const Json& lds = both[0]["linear_datamodeling"];
  EXPECT_EQ(lds["seeds"].get<int64_t>(), 2);
  ASSERT_EQ(lds["subset_test_loss"].size(), 4u);
  EXPECT_EQ(lds["subset_test_loss"][0].size(), 5u);
  EXPECT_EQ(lds["base_test_loss"].size(), 5u);
  EXPECT_EQ(lds["class_weights"].size(), 2u);
  const Json& row = lds["table"][0];
  EXPECT_EQ(row["per_test"].size(), 5u);
  ASSERT_TRUE(row["lds_95"][0].is_number()) << row.dump();
  EXPECT_LE(row["lds_95"][0].get<double>(), row["lds_95"][1].get<double>());
  // Nothing removed: both curves start at the same accuracy.
  EXPECT_EQ(s["accuracy_high_value_first"][0], s["accuracy_random"][0]);
}

}  // namespace
}  // namespace lumen
