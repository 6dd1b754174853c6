// The fixes of the attention debate from the command line: `lumen train` with --encoder
// ortho-lstm | diversity-lstm and --rationale-weight saves its objective with the run,
// influence refuses a run whose objective it would not differentiate, and `lumen compare`
// analyses the runs side by side (compare.json, compare.html rendered in headless Chromium);
// `lumen analyze --attention effective` reads a Transformer layer's effective attention.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/build_config.h"
#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

const char* kData = "'synthetic-keywords?n=300&length=12'";

TEST(CompareCli, TrainsTheFixesAndComparesThemWithTheBaseline) {
  test::TempDir d;
  const std::string common = std::string(" --embed-dim 16 --hidden 8 --epochs 3 --lr 0.01 --seed 3 --data ") + kData;
  const std::vector<std::pair<std::string, std::string>> runs = {{"vanilla", ""},
                                                                 {"ortho", " --encoder ortho-lstm"},
                                                                 {"diversity", " --encoder diversity-lstm"},
                                                                 {"rationale", " --rationale-weight 1"},
                                                                 {"faithful", " --faithfulness-weight 1"}};
  for (const auto& [name, flags] : runs) {
    const auto r = test::run_lumen("train -q --out " + d.file(name) + common + flags);
    ASSERT_EQ(r.code, 0) << name << ": " << r.output;
  }
  // Wiegreffe & Pinter's adversary of the vanilla run: the base's data, vocabulary and model.
  const auto adv = test::run_lumen("train -q --out " + d.file("adversary") + " --adversary-of " + d.file("vanilla") +
                                   " --adversary-lambda 0.5 --epochs 3 --lr 0.01 --seed 4");
  ASSERT_EQ(adv.code, 0) << adv.output;
  // Moradi et al.'s procedure: a trained baseline fine-tuned with the faithfulness objective.
  const auto ft = test::run_lumen("train -q --out " + d.file("finetuned") + " --init-from " + d.file("vanilla") +
                                  " --faithfulness-weight 1 --epochs 1 --lr 0.001 --seed 5");
  ASSERT_EQ(ft.code, 0) << ft.output;
  const Json ft_config = read_json_file(d.file("finetuned") + "/config.json");
  EXPECT_EQ(ft_config["init_from"], d.file("vanilla"));
  EXPECT_EQ(ft_config["train"]["faithfulness_weight"].get<double>(), 1.0);
  EXPECT_EQ(ft_config["train"]["select"], "last");  // fine-tuning keeps its last epoch by default
  EXPECT_EQ(ft_config["model"], read_json_file(d.file("vanilla") + "/config.json")["model"]);
  const Json adv_config = read_json_file(d.file("adversary") + "/config.json");
  EXPECT_EQ(adv_config["adversary"]["lambda"].get<double>(), 0.5);
  EXPECT_EQ(adv_config["model"], read_json_file(d.file("vanilla") + "/config.json")["model"]);
  const Json div = read_json_file(d.file("diversity") + "/config.json");
  EXPECT_EQ(div["train"]["diversity_weight"].get<double>(), 0.5);  // the encoder's default, saved resolved
  EXPECT_EQ(read_json_file(d.file("rationale") + "/config.json")["train"]["rationale_weight"].get<double>(), 1.0);
  EXPECT_EQ(read_json_file(d.file("ortho") + "/config.json")["model"]["encoder"], "ortho-lstm");

  // Wrong settings are one clear message each.
  auto fails = [&](const std::string& args, const std::string& message) {
    const auto r = test::run_lumen(args);
    EXPECT_NE(r.code, 0) << args;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
  };
  fails("train -q --out " + d.file("x") + common + " --encoder diversity-lstm --diversity-weight 0", "vanilla BiLSTM");
  fails("train -q --out " + d.file("y") + " --data 'synthetic-keywords?n=300&length=12' --epochs 1 --rationale-weight -1",
        "rationale_weight");
  fails("influence --run " + d.file("diversity") + " --method if-exact --test-data run --limit 2", "auxiliary loss");
  fails("influence --run " + d.file("adversary") + " --method if-exact --test-data run --limit 2", "adversarial model");
  fails("influence --run " + d.file("faithful") + " --method if-exact --test-data run --limit 2", "faithfulness_weight 1");
  fails("influence --run " + d.file("finetuned") + " --method if-exact --test-data run --limit 2", "fine-tuned");
  fails("train -q --out " + d.file("z") + " --adversary-of " + d.file("vanilla") + " --faithfulness-weight 1", "--faithfulness-weight");
  fails("train -q --out " + d.file("z") + " --init-from " + d.file("vanilla") + " --encoder cnn", "drop --encoder");
  fails("train -q --out " + d.file("z") + " --init-from " + d.file("vanilla") + " --no-lowercase", "drop --no-lowercase");

  const std::string list = d.file("vanilla") + " " + d.file("ortho") + " " + d.file("diversity") + " " + d.file("rationale") + " " +
                           d.file("adversary") + " " + d.file("faithful") + " " + d.file("finetuned");
  const auto r = test::run_lumen("--json compare --runs " + list + " --limit 25 --permutations 20 --adversaries 2 --out " + d.file("cmp"));
  ASSERT_EQ(r.code, 0) << r.output;
  const Json j = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["kind"], "lumen.compare");
  EXPECT_EQ(j["instances"], 25);
  EXPECT_EQ(j["baseline"], "vanilla");
  ASSERT_EQ(j["rows"].size(), 7u);
  const std::vector<std::string> fixes = {"vanilla",     "orthogonal",           "diversity 0.5",
                                          "rationale 1", "adversary lambda 0.5", "faithfulness 1",
                                          "faithfulness 1, fine-tuned"};
  for (size_t k = 0; k < fixes.size(); ++k) {
    const Json& row = j["rows"][k];
    EXPECT_EQ(row["fix"], fixes[k]);
    for (const char* key : {"test_accuracy", "tau_attention_gradient", "tau_attention_loo", "permutation_median_tvd",
                            "adversarial_max_jsd", "erasure_flip_rate", "plausibility_f1", "conicity"})
      EXPECT_TRUE(row[key].is_number()) << fixes[k] << " " << key << ": " << row.dump();
    for (const auto& [key, change] : row["changes"].items()) {
      const std::string dir = change["direction"];
      if (k == 0) EXPECT_EQ(dir, "baseline");
      else EXPECT_TRUE(dir == "better" || dir == "worse" || dir == "same") << dir;
      EXPECT_NEAR(change["delta"].get<double>(), row[key].get<double>() - j["rows"][0][key].get<double>(), 1e-12);
    }
  }
  // Rationale supervision puts the attention on the cue tokens.
  EXPECT_GE(j["rows"][3]["plausibility_f1"].get<double>(), j["rows"][0]["plausibility_f1"].get<double>());
  EXPECT_GT(j["rows"][3]["plausibility_f1"].get<double>(), 0.8);
  EXPECT_TRUE(path_exists(d.file("cmp") + "/compare.json"));
  if (std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") == 0) {
    const auto page = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + d.file("cmp") +
                                        "/compare.html " + d.file("shot.png") + " 8");
    EXPECT_EQ(page.code, 0) << page.output;
  }
  fails("compare --runs " + list + " --names a b", "2 names for 7 runs");
}

TEST(CompareCli, AnalyzesATransformersEffectiveAttention) {
  test::TempDir d;
  ASSERT_EQ(test::run_lumen("train -q --out " + d.file("tf") + " --encoder transformer --embed-dim 16 --model-dim 16 --heads 4 "
                            "--ff-dim 16 --epochs 2 --lr 0.01 --data " + kData).code, 0);
  auto analyze = [&](const std::string& kind) {
    const auto r = test::run_lumen("--json analyze --run " + d.file("tf") + " --attention-layer 0 --attention " + kind +
                                   " --only gradient --limit 20 --no-report --out " + d.file(kind));
    EXPECT_EQ(r.code, 0) << r.output;
    return Json::parse(r.output.substr(r.output.find('{')))["summary"];
  };
  const Json raw = analyze("raw"), eff = analyze("effective");
  EXPECT_EQ(eff["options"]["attention"]["kind"], "effective");
  const double t_raw = raw["overall"]["kendall"]["attention_gradient"]["mean"], t_eff = eff["overall"]["kendall"]["attention_gradient"]["mean"];
  EXPECT_NE(t_raw, t_eff);  // 14 positions against a head rank of 4: the null space is not empty
  const auto bad = test::run_lumen("analyze --run " + d.file("tf") + " --attention effective --limit 2");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.output.find("--attention-layer"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace lumen
