// `lumen train-nle` and `lumen nle` end to end on the built binary: the directory it writes,
// the learned explanations of a typed pair, the composed explanation of a classifier run, and
// the errors a user sees.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

Json json_of(const std::string& out) { return Json::parse(out.substr(out.find('{'))); }

TEST(NleCli, TrainsEvaluatesAndExplainsTypedPairs) {
  test::TempDir dir;
  const std::string out = dir.file("nle");
  auto r = test::run_lumen("--json train-nle --data 'synthetic-nle?n=240' --out " + out +
                           " --epochs 1 --model-dim 32 --ff-dim 64 --layers 1 --eval-limit 10 --insertions 1");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json j = json_of(r.output);
  ASSERT_EQ(j["evaluation"]["arrangements"].size(), 3u);
  for (const char* f : {"config.json", "vocab.txt", "classifier.pt", "joint.pt", "etp_reader.pt", "evaluation.json", "records.jsonl", "evaluation.md"})
    EXPECT_TRUE(path_exists(join_path(out, f))) << f;
  // 10 test examples x 3 arrangements, one line each.
  const std::string records = read_file(join_path(out, "records.jsonl"));
  EXPECT_EQ(std::count(records.begin(), records.end(), '\n'), 30);

  r = test::run_lumen("--json nle --nle-run " + out + " 'the ball is red . the cup is blue .' --text-b 'the cup is green'");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json e = json_of(r.output);
  ASSERT_EQ(e["explanations"].size(), 3u);
  for (const auto& x : e["explanations"]) {
    EXPECT_TRUE(x["label"] == "entailment" || x["label"] == "contradiction") << x.dump();
    EXPECT_TRUE(x["explanation"].is_string());
  }
  r = test::run_lumen("nle --nle-run " + out + " 'x' --arrangements nonsense");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown arrangement"), std::string::npos) << r.output;
  r = test::run_lumen("nle 'x'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("exactly one of --nle-run or --run"), std::string::npos) << r.output;
  r = test::run_lumen("train-nle --data 'synthetic-nle?size=3' --out " + dir.file("bad"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown key 'size'"), std::string::npos) << r.output;
}

TEST(NleCli, ComposesFromARunWithItsCounterfactualAndInfluence) {
  test::TempDir dir;
  auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=300&length=12' --out " + dir.file("kw") +
                           " --embed-dim 16 --hidden 8 --epochs 3 --seed 3");
  ASSERT_EQ(r.code, 0) << r.output;
  // An influence document naming this text, as `lumen influence --out` writes it.
  const std::string text = "great film and superb cast";
  dir.write("influence.json", Json{{"method", "tracin"},
                                   {"tests", {{{"test", 0}, {"text", text},
                                               {"proponents", {{{"train", 7}, {"score", 1.5}, {"label_name", "positive"}, {"text", "great great"}}}},
                                               {"opponents", Json::array()}}}}}
                                  .dump());
  r = test::run_lumen("--json nle --run " + dir.file("kw") + " '" + text + "' --influence " + dir.file("influence.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  const Json j = json_of(r.output);
  EXPECT_EQ(j["claims"][0]["kind"], "prediction");
  EXPECT_TRUE(j["sources"]["influence"]["found"].get<bool>());
  bool influence = false;
  for (const auto& c : j["claims"])
    if (c["kind"] == "influence") {
      influence = true;
      EXPECT_EQ(c["evidence"]["train"], 7);
    }
  EXPECT_TRUE(influence);
  // A deletion counterfactual, when reported, really flips the prediction.
  for (const auto& c : j["claims"])
    if (c["kind"] == "counterfactual") {
      std::string kept;
      const auto removed = c["evidence"]["removed"].get<std::vector<std::string>>();
      for (const auto& t : j["instance"]["tokens"])
        if (std::find(removed.begin(), removed.end(), t.get<std::string>()) == removed.end()) kept += (kept.empty() ? "" : " ") + t.get<std::string>();
      const auto p = test::run_lumen("--json predict --run " + dir.file("kw") + " '" + kept + "'");
      ASSERT_EQ(p.code, 0) << p.output;
      EXPECT_EQ(Json::parse(p.output.substr(p.output.find('[')))[0]["label"], c["evidence"]["prediction"]);
      EXPECT_NE(c["evidence"]["prediction"], j["instance"]["prediction"]);
    }
  r = test::run_lumen("nle --run " + dir.file("kw") + " '" + text + "' --influence " + dir.file("missing.json"));
  EXPECT_EQ(r.code, 1) << r.output;
}

}  // namespace
}  // namespace lumen
