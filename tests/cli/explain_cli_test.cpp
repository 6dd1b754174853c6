// `lumen explain` and `lumen evaluate-explanations` as a user runs them: a trained run in, JSON
// and HTML out; the pages render in headless Chromium without a console message; attention
// edits change what they say; bad input gives one clear message.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/build_config.h"
#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

bool have_browser() {
  return std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") == 0;
}

class ExplainCli : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    for (const char* enc : {"lstm", "transformer"}) {
      const auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=300&length=10' --out " + dir_->file(enc) +
                                     " --encoder " + enc + " --embed-dim 16 --hidden 8 --epochs 2");
      ASSERT_EQ(r.code, 0) << r.output;
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
};
test::TempDir* ExplainCli::dir_ = nullptr;

TEST_F(ExplainCli, PrintsJsonWithEveryMethodAndItsConventions) {
  const auto r = test::run_lumen("--json explain --run " + dir_->file("transformer") +
                                 " --methods all --samples 50 --steps 16 'good great film <b>&amp;' 'awful plot'");
  ASSERT_EQ(r.code, 0) << r.output;
  Json doc;
  ASSERT_NO_THROW(doc = Json::parse(r.output)) << r.output;
  ASSERT_EQ(doc["instances"].size(), 2u);
  EXPECT_EQ(doc["methods"].size(), 13u);
  for (const auto& inst : doc["instances"]) {
    const size_t n = inst["tokens"].size();
    for (const auto& [name, a] : inst["attributions"].items()) EXPECT_EQ(a["scores"].size(), n) << name;
    EXPECT_TRUE(inst["attributions"]["ig"].contains("completeness_gap"));
    EXPECT_EQ(inst["attention"]["layers"].size(), 2u);               // layers
    EXPECT_EQ(inst["attention"]["rollout"].size(), n + 2);           // positions <s> .. </s>
    EXPECT_EQ(inst["attention"]["flow"].size(), n + 2);
  }
  EXPECT_NE(doc["conventions"].get<std::string>().find("target class"), std::string::npos);
}

TEST_F(ExplainCli, ViewAndEvaluationReportRenderInHeadlessChromium) {
  if (!have_browser()) GTEST_SKIP() << "no Chromium (scripts/install-deps.sh installs chromium-headless-shell)";
  const std::string view = dir_->file("view.html");
  auto r = test::run_lumen("explain -q --run " + dir_->file("transformer") + " --methods all --samples 50 --steps 16" +
                           " --out " + view + " --set-attention uniform:1:0 zero:2 -- 'good great <script>alert(1)</script> film'");
  ASSERT_EQ(r.code, 0) << r.output;
  // Heatmap, bipartite graph, layer x head grid, rollout, flow, and after the edit: probabilities,
  // pooling attention, heatmap.
  r = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + view + " " +
                        dir_->file("view.png") + " 8");
  EXPECT_EQ(r.code, 0) << r.output;
  const std::string ev = dir_->file("ev");
  r = test::run_lumen("evaluate-explanations -q --run " + dir_->file("lstm") +
                      " --limit 20 --methods attention,grad_input,loo --permuted-epochs 1 --out " + ev);
  ASSERT_EQ(r.code, 0) << r.output;
  const Json e = read_json_file(ev + "/evaluation.json");
  EXPECT_EQ(e["ranking"].size(), 3u);
  EXPECT_TRUE(e["sanity"].contains("label_permuted"));
  EXPECT_TRUE(e["plausibility"].contains("loo"));
  r = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + ev + "/evaluation.html " +
                        dir_->file("ev.png") + " 9");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(ExplainCli, AttentionEditsChangeTheAttentionAndAreValidated) {
  auto r = test::run_lumen("--json explain --run " + dir_->file("lstm") +
                           " --methods attention --set-attention pin:1,0,0 -- 'good awful fine'");
  ASSERT_EQ(r.code, 0) << r.output;
  Json doc;
  ASSERT_NO_THROW(doc = Json::parse(r.output)) << r.output;
  const auto& inst = doc["instances"][0];
  const auto after = inst["edited"]["attributions"]["attention"]["scores"].get<std::vector<double>>();
  ASSERT_EQ(after.size(), 3u);
  EXPECT_DOUBLE_EQ(after[0], 1.0);
  EXPECT_DOUBLE_EQ(after[1], 0.0);
  r = test::run_lumen("explain --run " + dir_->file("lstm") + " --set-attention uniform:3 -- 'good'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("layer must be < 0"), std::string::npos) << r.output;
  r = test::run_lumen("explain --run " + dir_->file("lstm") + " --methods nonsense 'good'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown method 'nonsense'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lumen
