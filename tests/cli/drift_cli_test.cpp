// `lumen drift` (attention across training): the final model's own checkpoint agrees with it
// exactly (tau 1, JSD 0), earlier ones less; a run compared with itself agrees exactly and
// with another seed less; drift.json and drift.html (rendered in headless Chromium) are written.
#include <gtest/gtest.h>

#include <cstdlib>

#include "analysis/attention_drift.h"
#include "core/build_config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

TEST(AttentionDrift, ComparesAttentionsByTauAndJsd) {
  const std::vector<std::vector<double>> a = {{0.5, 0.3, 0.2}, {0.1, 0.9}}, reversed = {{0.2, 0.3, 0.5}, {0.9, 0.1}};
  const analysis::AttentionAgreement same = analysis::compare_attention(a, a);
  EXPECT_EQ(same.instances, 2);
  EXPECT_DOUBLE_EQ(same.tau_mean, 1.0);
  EXPECT_DOUBLE_EQ(same.jsd_mean, 0.0);
  const analysis::AttentionAgreement rev = analysis::compare_attention(a, reversed);
  EXPECT_DOUBLE_EQ(rev.tau_mean, -1.0);
  EXPECT_GT(rev.jsd_mean, 0.0);
  const analysis::AttentionAgreement flat = analysis::compare_attention({{0.5, 0.5}}, {{0.4, 0.6}});
  EXPECT_EQ(flat.tau_undefined, 1);  // constant attention has no ranking
  EXPECT_TRUE(flat.to_json()["tau_mean"].is_null());
  EXPECT_THROW(analysis::compare_attention(a, {{0.5, 0.5, 0.0}, {0.1, 0.8, 0.1}}), InvalidArgument);
}

TEST(DriftCli, FollowsAttentionAcrossCheckpointsAndAgainstOtherRuns) {
  test::TempDir d;
  for (const char* seed : {"5", "6"}) {
    const auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=300&length=12' --out " + d.file(std::string("kw") + seed) +
                                   " --embed-dim 16 --hidden 8 --epochs 4 --lr 0.01 --seed " + seed);
    ASSERT_EQ(r.code, 0) << r.output;
  }
  const auto r = test::run_lumen("--json drift --run " + d.file("kw5") + " --limit 30 --compare " + d.file("kw5") + " " + d.file("kw6"));
  ASSERT_EQ(r.code, 0) << r.output;
  const Json j = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["instances"], 30);
  ASSERT_EQ(j["checkpoints"].size(), 4u);
  const int64_t final_epoch = j["final_epoch"].get<int64_t>();
  int earlier_below_one = 0;
  for (const auto& c : j["checkpoints"]) {
    EXPECT_EQ(c["instances"], 30);
    if (c["epoch"].get<int64_t>() == final_epoch) {
      EXPECT_NEAR(c["tau_mean"].get<double>(), 1.0, 1e-12) << c.dump();
      EXPECT_NEAR(c["jsd_mean"].get<double>(), 0.0, 1e-12) << c.dump();
    } else {
      earlier_below_one += c["tau_mean"].get<double>() < 1.0;
    }
  }
  EXPECT_EQ(earlier_below_one, 3);
  ASSERT_EQ(j["compare"].size(), 2u);
  EXPECT_NEAR(j["compare"][0]["tau_mean"].get<double>(), 1.0, 1e-12);  // the run itself
  EXPECT_LT(j["compare"][1]["tau_mean"].get<double>(), 1.0);            // another seed
  EXPECT_GT(j["compare"][1]["jsd_mean"].get<double>(), 0.0);
  EXPECT_TRUE(path_exists(d.file("kw5") + "/drift/drift.json"));
  if (std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") == 0) {
    const auto page = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + d.file("kw5") +
                                        "/drift/drift.html " + d.file("shot.png") + " 2");
    EXPECT_EQ(page.code, 0) << page.output;
  }
  // A run without checkpoints says so; a bad limit is one clear message.
  ASSERT_EQ(test::run_lumen("train -q --data 'synthetic-keywords?n=200&length=8' --out " + d.file("bare") +
                            " --embed-dim 8 --hidden 4 --epochs 1 --no-checkpoints").code, 0);
  const auto bare = test::run_lumen("drift --run " + d.file("bare"));
  EXPECT_EQ(bare.code, 0) << bare.output;
  EXPECT_NE(bare.output.find("kept no checkpoints"), std::string::npos) << bare.output;
  EXPECT_EQ(test::run_lumen("drift --run " + d.file("bare") + " --limit -1").code, 2);
}

}  // namespace
}  // namespace lumen
