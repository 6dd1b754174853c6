#include <gtest/gtest.h>

#include "core/error.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "data/vocabulary_report.h"
#include "support/fixtures.h"

namespace lumen::data {
namespace {

std::vector<std::string> toks(const std::string& s, TokenizerOptions o = {}) { return Tokenizer(o).tokenize(s).tokens; }

TEST(Tokenizer, SplitsPunctuationLowercasesAndFoldsNumbers) {
  EXPECT_EQ(toks("Hello, World! It's 3.5 pm in 2019."),
            (std::vector<std::string>{"hello", ",", "world", "!", "it's", "<num>", "pm", "in", "<num>", "."}));
  TokenizerOptions keep;
  keep.lowercase = false;
  keep.numbers = NumberRule::kNone;
  EXPECT_EQ(toks("Win $1,000 now", keep), (std::vector<std::string>{"Win", "$", "1,000", "now"}));
  // By default only numbers fold; the reference rule folds every token with a digit.
  EXPECT_EQ(toks("a1b2 x"), (std::vector<std::string>{"a1b2", "x"}));
  TokenizerOptions reference;
  reference.numbers = NumberRule::kAnyDigit;
  EXPECT_EQ(toks("a1b2 x", reference), (std::vector<std::string>{"<num>", "x"}));
}

TEST(Tokenizer, FoldsOnlyWhatAReaderCallsANumberByDefault) {
  const std::string text = "42 3.5 1,000 21st 1990s 7TH mp3 covid19 3pm w12 x3 id7 1.2.3 2019";
  EXPECT_EQ(toks(text), (std::vector<std::string>{"<num>", "<num>", "<num>", "<num>", "<num>", "<num>", "mp3", "covid19",
                                                  "3pm", "w12", "x3", "id7", "<num>", "<num>"}));
  TokenizerOptions any;
  any.numbers = NumberRule::kAnyDigit;
  for (const auto& t : toks(text, any)) EXPECT_EQ(t, "<num>");
  const auto r = Tokenizer().tokenize("call 555 or 3pm");
  EXPECT_EQ(r.folded, (std::vector<std::string>{"555"}));
  EXPECT_EQ(parse_number_rule("any-digit"), NumberRule::kAnyDigit);
  EXPECT_THROW(parse_number_rule("digits"), InvalidArgument);
  // Runs written before the rule existed said fold_numbers: true, which was the reference rule.
  EXPECT_EQ(TokenizerOptions::from_json({{"fold_numbers", true}}).numbers, NumberRule::kAnyDigit);
  EXPECT_EQ(TokenizerOptions::from_json({{"fold_numbers", false}}).numbers, NumberRule::kNone);
  EXPECT_EQ(TokenizerOptions::from_json(TokenizerOptions().to_json()).numbers, NumberRule::kNumeric);
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

// A corpus whose words all contain digits: folded away by the reference rule (a collapse that
// must be named), kept by the default.
TEST(VocabularyReport, NamesACollapseByNumberFoldingOrMinimumCountAndStaysQuietOtherwise) {
  auto corpus = [](const TokenizerOptions& o, int64_t min_count) {
    Dataset ds;
    ds.name = "codes";
    ds.label_names = {"a", "b"};
    for (int i = 0; i < 200; ++i) {
      Example e;
      e.text = "w" + std::to_string(i % 40) + " x" + std::to_string(i % 7) + " id" + std::to_string(i) + " 12";
      e.label = i % 2;
      ds.train.push_back(e);
    }
    const TokenizeReport tr = tokenize_dataset(ds, Tokenizer(o));
    std::vector<const std::vector<std::string>*> texts;
    for (const auto& e : ds.train) texts.push_back(&e.tokens);
    const Vocab v = Vocab::build(texts, min_count);
    return vocabulary_report(ds, tr, v, min_count, o);
  };
  TokenizerOptions reference;
  reference.numbers = NumberRule::kAnyDigit;
  const auto folded = corpus(reference, 1);
  EXPECT_EQ(folded.word_types, 40 + 7 + 200 + 1);
  EXPECT_EQ(folded.folded_types, folded.word_types);
  EXPECT_EQ(folded.vocabulary, 5);  // the specials and <num>
  EXPECT_TRUE(folded.collapsed());
  EXPECT_NE(folded.warning().find("--numbers any-digit"), std::string::npos) << folded.warning();
  EXPECT_NE(folded.warning().find("collapses"), std::string::npos);
  const auto kept = corpus({}, 1);
  EXPECT_EQ(kept.folded_types, 1);  // "12"
  EXPECT_FALSE(kept.collapsed()) << kept.warning();
  EXPECT_EQ(kept.warning(), "");
  // A minimum count above every word's count (w* 5 uses, x* about 29, id* 1): all become <unk>.
  const auto rare = corpus({}, 100);
  EXPECT_TRUE(rare.collapsed());
  EXPECT_NE(rare.warning().find("--min-count 100"), std::string::npos) << rare.warning();
  EXPECT_EQ(kept.to_json()["collapsed"], false);
}

}  // namespace
}  // namespace lumen::data
