// `lumen analyze --only erasure` (Serrano & Smith 2019) as a user runs it: every record carries
// the single-weight and multi-weight erasure results, the summary their rates per ranking; the
// keyword task's attention, which sits on the keywords, flips decisions sooner than random order.
#include <gtest/gtest.h>

#include <fstream>

#include "core/fs.h"
#include "core/json.h"
#include "support/fixtures.h"

namespace lumen {
namespace {

TEST(ErasureCli, RecordsAndSummarisesTheErasureTestPerRanking) {
  test::TempDir d;
  auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=400&length=12' --out " + d.file("kw") +
                           " --embed-dim 16 --hidden 8 --epochs 8 --lr 0.01 --seed 5");
  ASSERT_EQ(r.code, 0) << r.output;
  r = test::run_lumen("analyze -q --run " + d.file("kw") + " --only loo,erasure --limit 40 --no-report");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(d.file("kw") + "/analysis/records.jsonl");
  std::string line;
  int records = 0;
  while (std::getline(f, line)) {
    const Json rec = Json::parse(line);
    ASSERT_TRUE(rec.contains("erasure")) << line.substr(0, 200);
    const Json& e = rec["erasure"];
    for (const char* k : {"attention", "gradient", "attention_gradient", "loo", "random"}) ASSERT_TRUE(e["orders"].contains(k)) << k;
    const auto& a = e["orders"]["attention"];
    if (!a["removed"].is_null()) {
      EXPECT_NEAR(a["fraction"].get<double>(), a["removed"].get<double>() / rec["tokens"].size(), 1e-12);
      EXPECT_GT(a["mass"].get<double>(), 0.0);
    }
    EXPECT_FALSE(rec.contains("adversarial"));  // only what was asked for
    const double c = rec["conicity"].get<double>();  // always recorded
    EXPECT_TRUE(c >= -1 && c <= 1) << c;
    ++records;
  }
  EXPECT_EQ(records, 40);
  const Json s = read_json_file(d.file("kw") + "/analysis/summary.json");
  const Json& e = s["overall"]["erasure"];
  const Json& flips = e["single_flips"];
  EXPECT_EQ(flips["top_only"].get<int>() + flips["random_only"].get<int>() + flips["both"].get<int>() + flips["neither"].get<int>(), 40);
  // On the keyword task attention sits on the keywords: erasing by attention flips at least as
  // often, after a smaller share of the tokens, as erasing at random, and erasing the top token
  // moves the output more than erasing a random one for most instances. (Most decisions do not
  // flip at all before one token is left: the BiLSTM's states carry the keywords' context,
  // Serrano & Smith's point.)
  const Json& att = e["orders"]["attention"];
  const Json& rnd = e["orders"]["random"];
  EXPECT_GE(att["flip_rate"].get<double>(), rnd["flip_rate"].get<double>());
  EXPECT_LE(att["fraction_removed"]["median"].get<double>(), rnd["fraction_removed"]["median"].get<double>());
  EXPECT_GT(e["fraction_delta_jsd_positive"].get<double>(), 0.5);
  EXPECT_TRUE(s["seconds"].contains("erasure"));
  EXPECT_EQ(s["overall"]["conicity"]["n"], 40);
  // A bad name is one clear message.
  r = test::run_lumen("analyze -q --run " + d.file("kw") + " --only erasur");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("erasure"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lumen
