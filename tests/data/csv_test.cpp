#include <gtest/gtest.h>

#include "core/error.h"
#include "data/csv.h"

namespace lumen::data {
namespace {

TEST(Csv, ParsesQuotesEmbeddedNewlinesCrlfAndBom) {
  const std::string text = "\xEF\xBB\xBFtext,label\r\n\"hello, \"\"world\"\"\",pos\r\n\"two\nlines\",neg\r\n\r\nlast,pos";
  const auto rows = parse_csv(text, ',', "t.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"text", "label"}));
  EXPECT_EQ(rows[1].fields[0], "hello, \"world\"");
  EXPECT_EQ(rows[2].fields[0], "two\nlines");
  EXPECT_EQ(rows[2].line, 3);
  EXPECT_EQ(rows[3].line, 6);  // the blank line 5 is skipped
  EXPECT_EQ(parse_csv("a\tb\n1\t2\n", '\t', "t.tsv")[1].fields, (std::vector<std::string>{"1", "2"}));
}

TEST(Csv, AnUnclosedQuoteIsADataErrorWithItsLine) {
  try {
    parse_csv("a,b\n1,\"oops\n2,3\n", ',', "bad.csv");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2"), std::string::npos) << e.what();
  }
}

TEST(Csv, EmptyInputHasNoRows) { EXPECT_TRUE(parse_csv("", ',', "e.csv").empty()); }

}  // namespace
}  // namespace lumen::data
