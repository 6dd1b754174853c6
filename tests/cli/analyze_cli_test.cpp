// `lumen analyze` and `lumen report` as a user runs them: a trained run in, records.jsonl,
// summary.json and report.html out; bad options and missing inputs give one clear message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/build_config.h"
#include "core/fs.h"
#include "core/json.h"
#include "report/controls_sections.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

test::CommandResult lumen_run(const std::string& args) { return test::run_lumen(args); }

int64_t lines(const std::string& path) {
  std::ifstream in(path);
  std::string l;
  int64_t n = 0;
  while (std::getline(in, l)) n += !l.empty();
  return n;
}

TEST(AnalyzeCli, WritesRecordsSummaryAndReportAndComparesRuns) {
  test::TempDir d;
  const std::string data = "'synthetic-keywords?n=400'";
  for (const char* enc : {"lstm", "average"}) {
    auto r = lumen_run("train -q --data " + data + " --out " + d.file(enc) + " --encoder " + enc +
                       " --embed-dim 16 --hidden 8 --epochs 2");
    ASSERT_EQ(r.code, 0) << r.output;
    r = lumen_run("analyze -q --run " + d.file(enc) + " --limit 25 --adversarial-steps 30 --permutations 20");
    ASSERT_EQ(r.code, 0) << r.output;
    const std::string out = d.file(std::string(enc) + "/analysis");
    EXPECT_EQ(lines(out + "/records.jsonl"), 25);
    const Json s = read_json_file(out + "/summary.json");
    EXPECT_EQ(s["overall"]["instances"], 25);
    for (const char* k : {"attention_gradient", "attention_loo", "gradient_loo"})
      EXPECT_TRUE(s["overall"]["kendall"][k].contains("mean")) << k;
    EXPECT_TRUE(s["overall"].contains("permutation"));
    EXPECT_TRUE(s["overall"].contains("adversarial"));
    EXPECT_TRUE(s["by_predicted_class"].is_object());
    EXPECT_TRUE(path_exists(out + "/report.html"));
    std::ifstream in(out + "/records.jsonl");
    std::string first;
    std::getline(in, first);
    const Json rec = Json::parse(first);
    const size_t n = rec["tokens"].size();
    for (const char* k : {"attention", "gradient", "loo"}) EXPECT_EQ(rec[k].size(), n) << k;
    EXPECT_EQ(rec["adversarial"]["attention"].size(), n);
    EXPECT_TRUE(rec.contains("rationale"));
  }
  auto r = lumen_run("report -q " + d.file("lstm/analysis") + " " + d.file("average/analysis") + " --out " +
                     d.file("compare.html"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(path_exists(d.file("compare.html")));
  // Only some analyses: the others are absent from records and summary.
  r = lumen_run("analyze -q --run " + d.file("average") + " --limit 5 --only gradient --out " + d.file("g"));
  ASSERT_EQ(r.code, 0) << r.output;
  const Json s = read_json_file(d.file("g/summary.json"));
  EXPECT_FALSE(s["overall"].contains("permutation"));
  EXPECT_FALSE(s["overall"]["kendall"].contains("attention_loo"));
}

TEST(AnalyzeCli, BadInputIsOneClearMessageAndANonZeroExit) {
  test::TempDir d;
  auto r = lumen_run("analyze --run " + d.file("nope"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
  r = lumen_run("train -q --data 'synthetic-keywords?n=100' --out " + d.file("run") +
                " --encoder average --embed-dim 8 --hidden 4 --epochs 1");
  ASSERT_EQ(r.code, 0) << r.output;
  r = lumen_run("analyze --run " + d.file("run") + " --only gradient,bogus");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
  r = lumen_run("analyze --run " + d.file("run") + " --epsilon 3");
  EXPECT_EQ(r.code, 2) << r.output;
  r = lumen_run("report " + d.file("missing") + " --out " + d.file("x.html"));
  EXPECT_EQ(r.code, 1) << r.output;
}

}  // namespace
}  // namespace lumen

namespace lumen {
namespace {

TEST(ControlsCli, TrainsTheWiegreffePinterControlsAndAddsThemToTheReport) {
  test::TempDir d;
  auto r = lumen_run("train -q --data 'synthetic-keywords?n=300' --out " + d.file("run") +
                     " --encoder lstm --embed-dim 16 --hidden 8 --epochs 2");
  ASSERT_EQ(r.code, 0) << r.output;
  r = lumen_run("analyze -q --run " + d.file("run") + " --only gradient,loo");
  ASSERT_EQ(r.code, 0) << r.output;
  r = lumen_run("controls -q --run " + d.file("run") + " --seeds 2 --epochs 1");
  ASSERT_EQ(r.code, 0) << r.output;
  // controls.json is the result as data; the report's sections are built from it.
  const Json c = read_json_file(d.file("run/controls/controls.json"));
  EXPECT_EQ(c["kind"], "lumen.controls");
  EXPECT_FALSE(c["uniform"].is_null());
  ASSERT_EQ(c["seeds"].size(), 2u);
  for (const auto& s : c["seeds"])
    for (const auto& v : s["jsd"]) {
      EXPECT_GE(v.get<double>(), 0.0);  // JSD of a seed's attention to the base attention
      EXPECT_LE(v.get<double>(), std::log(2.0));
    }
  EXPECT_FALSE(c["frozen"].is_null());
  const auto sections = report::controls_sections(c);
  ASSERT_EQ(sections.size(), 3u);  // uniform, seeds, frozen
  EXPECT_EQ(sections[0]["table"]["rows"].size(), 2u);
  EXPECT_EQ(sections[1]["table"]["rows"].size(), 2u);
  EXPECT_EQ(sections[2]["table"]["rows"].size(), 3u);
  for (const auto& row : sections[1]["table"]["rows"]) {
    EXPECT_GE(row[2].get<double>(), 0.0);  // mean JSD to the base attention
    EXPECT_LE(row[2].get<double>(), std::log(2.0));
  }
  EXPECT_TRUE(path_exists(d.file("run/controls/report.html")));
  // `lumen report --controls` shows the same sections beside any analysis.
  r = lumen_run("report " + d.file("run/analysis") + " --controls " + d.file("run/controls/controls.json") + " --out " +
                d.file("with-controls.html"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(read_file(d.file("with-controls.html")).find("attention frozen into a no-context model"), std::string::npos);
  r = lumen_run("controls --run " + d.file("run") + " --seeds 0 --no-uniform --no-frozen");
  EXPECT_EQ(r.code, 2) << r.output;
}

}  // namespace
}  // namespace lumen
