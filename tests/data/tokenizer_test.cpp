#include <gtest/gtest.h>

#include "core/error.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "support/fixtures.h"

namespace lumen::data {
namespace {

std::vector<std::string> toks(const std::string& s, TokenizerOptions o = {}) { return Tokenizer(o).tokenize(s).tokens; }

TEST(Tokenizer, SplitsPunctuationLowercasesAndFoldsNumbers) {
  EXPECT_EQ(toks("Hello, World! It's 3.5 pm in 2019."),
            (std::vector<std::string>{"hello", ",", "world", "!", "it's", "<num>", "pm", "in", "<num>", "."}));
  TokenizerOptions keep;
  keep.lowercase = false;
  keep.fold_numbers = false;
  EXPECT_EQ(toks("Win $1,000 now", keep), (std::vector<std::string>{"Win", "$", "1,000", "now"}));
  EXPECT_EQ(toks("a1b2 x"), (std::vector<std::string>{"<num>", "x"}));
}

TEST(Tokenizer, HandlesUnicodeEmojiAndRightToLeftText) {
  EXPECT_EQ(toks("ÉCOLE café — naïve"), (std::vector<std::string>{"école", "café", "—", "naïve"}));
  EXPECT_EQ(toks("ok 😀 שלום"), (std::vector<std::string>{"ok", "😀", "שלום"}));
  // NFC and NFD spellings are different code points; the tokenizer keeps each as written.
  EXPECT_EQ(toks("e\xCC\x81").size(), 1u);
}

TEST(Tokenizer, ReportsInvalidUtf8WithItsByteOffset) {
  try {
    toks(std::string("abc \xff def"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("byte 4"), std::string::npos) << e.what();
  }
  EXPECT_EQ(find_invalid_utf8("\xC3\xA9"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("ok\xC3"), 2u);
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);  // a UTF-16 surrogate is not valid UTF-8
  EXPECT_EQ(repair_utf8("caf\xe9"), "caf\xC3\xA9");
}

TEST(Tokenizer, TruncatesToMaxLengthAndSaysSo) {
  TokenizerOptions o;
  o.max_length = 3;
  const auto r = Tokenizer(o).tokenize("one two three four five");
  EXPECT_EQ(r.tokens.size(), 3u);
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(Tokenizer(o).tokenize("one two").truncated);
  o.max_length = -1;
  EXPECT_THROW(Tokenizer{o}, InvalidArgument);
}

TEST(Vocab, KeepsSpecialsFirstAndAppliesMinCount) {
  const std::vector<std::string> a = {"b", "a", "b", "c"}, b = {"a", "b"};
  const Vocab v = Vocab::build({&a, &b}, 2);
  EXPECT_EQ(v.size(), 6);
  EXPECT_EQ(v.token(0), "<pad>");
  EXPECT_EQ(v.token(4), "b");  // count 3
  EXPECT_EQ(v.token(5), "a");  // count 2
  EXPECT_EQ(v.id("c"), Vocab::kUnk);
  test::TempDir dir;
  v.save(dir.file("vocab.txt"));
  const Vocab back = Vocab::load(dir.file("vocab.txt"));
  EXPECT_EQ(back.tokens(), v.tokens());
  dir.write("bad.txt", "hello\nworld\n");
  EXPECT_THROW(Vocab::load(dir.file("bad.txt")), ModelError);
}

}  // namespace
}  // namespace lumen::data
