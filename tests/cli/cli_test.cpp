// The `lumen` program as a user runs it: a whole train / eval / predict cycle on a small CSV,
// and one clear message, a non-zero exit and nothing half-written for each kind of bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/build_config.h"
#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

using Result = test::CommandResult;
Result run(const std::string& args) { return test::run_lumen(args); }

std::string small_csv(const test::TempDir& d) {
  std::string csv = "text,label\n";
  for (int i = 0; i < 60; ++i) {
    csv += i % 2 ? "\"great movie, loved it " + std::to_string(i) + "\",pos\n"
                 : "\"awful film; hated it " + std::to_string(i) + "\",neg\n";
  }
  return d.write("reviews.csv", csv);
}

const char* kSmallModel = "--embed-dim 16 --hidden 8 --lr 0.01 -q";

TEST(Cli, TrainEvalPredictOnAUserCsv) {
  test::TempDir d;
  const auto csv = small_csv(d);
  const auto r = run("train --data " + csv + " --out " + d.file("run") + " --encoder average --epochs 15 " + kSmallModel);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"config.json", "vocab.txt", "model.pt", "metrics.json", "checkpoints/epoch-015.pt"})
    EXPECT_TRUE(path_exists(d.file(std::string("run/") + f))) << f;
  const auto e = run("--json eval --run " + d.file("run"));
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_GE(Json::parse(e.output)["metrics"]["accuracy"].get<double>(), 0.9);
  const auto p = run("--json predict --run " + d.file("run") + " \"loved it, great\" \"hated it\"");
  ASSERT_EQ(p.code, 0) << p.output;
  const Json j = Json::parse(p.output);
  EXPECT_EQ(j[0]["label"], "pos");
  EXPECT_EQ(j[1]["label"], "neg");
  EXPECT_NEAR(j[0]["probabilities"]["pos"].get<double>() + j[0]["probabilities"]["neg"].get<double>(), 1.0, 1e-6);
  // An existing run is not silently replaced.
  const auto again = run("train --data " + csv + " --out " + d.file("run") + " --epochs 1 " + kSmallModel);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos);
}

TEST(Cli, BadInputGivesOneClearMessageANonZeroExitAndNoRunDirectory) {
  test::TempDir d;
  const auto csv = small_csv(d);
  struct Case {
    std::string args, message;
    int code;
  };
  const std::vector<Case> cases = {
      {"train --data " + d.file("missing.csv") + " --out " + d.file("r1"), "missing.csv does not exist", 1},
      {"train --data " + csv + "?text=body --out " + d.file("r2"), "no column named 'body'", 1},
      {"train --data " + d.write("empty.csv", "") + " --out " + d.file("r3"), "empty", 1},
      {"train --data " + d.write("nolabel.csv", "text,label\nfine,pos\nbad,\n") + " --out " + d.file("r4"),
       "nolabel.csv:3: row has no label", 1},
      {"train --data " + d.write("utf.csv", "text,label\n\"ok\",pos\n\"bad \xff byte\",neg\n") + " --out " + d.file("r5"),
       "utf.csv:3: text: invalid UTF-8 at byte 4", 1},
      {"train --data " + csv + " --encoder gru --out " + d.file("r6"), "encoder must be one of lstm, cnn, average, transformer",
       2},
      {"train --out " + d.file("r7"), "--data is required", 2},
      {"eval --run " + d.file("nowhere"), "not a run directory", 1},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    EXPECT_EQ(r.code, c.code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  }
  for (const char* dir : {"r1", "r2", "r3", "r4", "r5", "r6", "r7"}) EXPECT_FALSE(path_exists(d.file(dir))) << dir;
}

TEST(Cli, ATruncatedCheckpointIsAClearErrorNotACrash) {
  test::TempDir d;
  ASSERT_EQ(run("train --data " + small_csv(d) + " --out " + d.file("run") + " --epochs 1 --encoder average " + kSmallModel).code, 0);
  const std::string bytes = read_file(d.file("run/model.pt"));
  write_file_atomic(d.file("run/model.pt"), bytes.substr(0, 100));
  const auto r = run("eval --run " + d.file("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("truncated or is not a Lumen checkpoint"), std::string::npos) << r.output;
}

// Every token contains a digit: product-code-like words, the class decided by which group of
// codes a text holds (a learnable task; a bag of words solves it).
std::string coded_csv(const test::TempDir& d) {
  std::string csv = "text,label\n";
  uint64_t x = 7;
  auto next = [&] { return (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int i = 0; i < 600; ++i) {
    const int label = i % 2;
    std::string text;
    for (int k = 0; k < 8; ++k) text += "x" + std::to_string(next() % 50) + " id" + std::to_string(next() % 30) + " ";
    text += "w" + std::to_string(label * 10 + next() % 10) + " w" + std::to_string(label * 10 + next() % 10);
    csv += text + "," + (label ? "pos" : "neg") + "\n";
  }
  return d.write("codes.csv", csv);
}

TEST(Cli, ATaskWhoseTokensAllContainDigitsTrainsByDefaultAndTheReferenceRuleIsNamedAsACollapse) {
  test::TempDir d;
  const auto csv = coded_csv(d);
  const auto r = run("train --data " + csv + " --out " + d.file("run") + " --encoder average --epochs 10 " + kSmallModel);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("collapses"), std::string::npos) << r.output;
  const Json m = read_json_file(d.file("run/metrics.json"));
  EXPECT_GE(m["test"]["accuracy"].get<double>(), 0.9) << m.dump();
  EXPECT_GT(m["vocabulary"]["vocabulary"].get<int64_t>(), 100);
  EXPECT_TRUE(m["warnings"].empty());
  // The reference rule folds every token into <num>: the run is told why it cannot learn,
  // even with --quiet, and metrics.json keeps the warning.
  const auto f = run("train --data " + csv + " --out " + d.file("folded") + " --numbers any-digit --encoder average "
                     "--epochs 2 " + kSmallModel);
  ASSERT_EQ(f.code, 0) << f.output;
  EXPECT_NE(f.output.find("tokenisation collapses the training data"), std::string::npos) << f.output;
  EXPECT_NE(f.output.find("--numbers any-digit"), std::string::npos) << f.output;
  const Json fm = read_json_file(d.file("folded/metrics.json"));
  EXPECT_EQ(fm["vocabulary"]["vocabulary"].get<int64_t>(), 5);  // <pad> <unk> <s> </s> <num>
  ASSERT_EQ(fm["warnings"].size(), 1u);
  EXPECT_LT(fm["test"]["accuracy"].get<double>(), 0.7);
  // `lumen data show` says the same before any training.
  const auto show = run("data show " + csv + " --numbers any-digit");
  EXPECT_EQ(show.code, 0) << show.output;
  EXPECT_NE(show.output.find("tokenisation collapses the training data"), std::string::npos) << show.output;
  EXPECT_EQ(run("data show " + csv).output.find("collapses"), std::string::npos);
}

TEST(Cli, HelpShowsDefaultsAndDataListNamesTheBuiltins) {
  const auto h = run("train --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.output.find("lstm | cnn | average | transformer"), std::string::npos);
  EXPECT_NE(h.output.find("TEXT=additive"), std::string::npos) << h.output;
  const auto l = run("data list");
  EXPECT_NE(l.output.find("spamassassin"), std::string::npos);
  EXPECT_NE(l.output.find("synthetic-keywords"), std::string::npos);
}

}  // namespace
}  // namespace lumen
