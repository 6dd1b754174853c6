// Every reader on small files in its real format, including malformed ones.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "data/spec.h"
#include "data/tokenizer.h"
#include "support/fixtures.h"

namespace lumen::data {
namespace {

Dataset load(const std::string& spec) { return load_dataset(parse_data_spec(spec)); }

std::string error_of(const std::string& spec) {
  try {
    load(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Readers, CsvWithColumnChoiceAndSplitColumn) {
  test::TempDir d;
  const auto p = d.write("r.csv", "id,review,stars,split\n1,good film,pos,train\n2,bad film,neg,train\n"
                                  "3,\"fine, \"\"really\"\"\",pos,dev\n4,awful,neg,test\n");
  const Dataset ds = load(p + "?text=review&label=stars");
  EXPECT_EQ(ds.train.size(), 2u);
  EXPECT_EQ(ds.dev.size(), 1u);
  EXPECT_EQ(ds.test.size(), 1u);
  EXPECT_EQ(ds.label_names, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(ds.dev[0].text, "fine, \"really\"");
  EXPECT_EQ(ds.dev[0].label, 1);
  EXPECT_EQ(ds.train[0].source, p + ":2");
}

TEST(Readers, MalformedCsvInputsNameTheFileAndLine) {
  test::TempDir d;
  EXPECT_NE(error_of(d.write("a.csv", "text,label\nok,pos\nragged\n")).find("a.csv:3"), std::string::npos);
  EXPECT_NE(error_of(d.write("b.csv", "text,label\nok,\n")).find("b.csv:2: row has no label"), std::string::npos);
  EXPECT_NE(error_of(d.write("c.csv", "txt,label\nok,pos\n")).find("no column named 'text'"), std::string::npos);
  EXPECT_NE(error_of(d.write("e.csv", "")).find("empty"), std::string::npos);
  EXPECT_NE(error_of(d.file("missing.csv")).find("does not exist"), std::string::npos);
  // A test label never seen in training.
  EXPECT_NE(error_of(d.write("f.csv", "text,label,split\na,x,train\nb,y,train\nc,z,test\n")).find("f.csv:4: unknown label 'z'"),
            std::string::npos);
}

TEST(Readers, TsvAndJsonlWithFieldChoice) {
  test::TempDir d;
  const Dataset tsv = load(d.write("t.tsv", "text\tlabel\nhello there\ta\nbye now\tb\nagain\ta\n") + "?dev=0&test=0");
  EXPECT_EQ(tsv.train.size(), 3u);
  const auto j = d.write("j.jsonl", "{\"body\": \"good\", \"y\": 1, \"split\": \"train\"}\n\n"
                                    "{\"body\": \"bad\", \"y\": 0, \"split\": \"train\"}\n"
                                    "{\"body\": \"meh\", \"y\": 0, \"split\": \"test\"}\n");
  const Dataset js = load(j + "?text=body&label=y");
  EXPECT_EQ(js.train.size(), 2u);
  EXPECT_EQ(js.test.size(), 1u);
  EXPECT_EQ(js.label_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_NE(error_of(d.write("k.jsonl", "{\"text\": \"a\", \"label\": 1}\n{not json}\n")).find("k.jsonl:2"),
            std::string::npos);
  EXPECT_NE(error_of(d.write("l.jsonl", "{\"text\": \"a\"}\n")).find("l.jsonl:1: row has no label"), std::string::npos);
}

TEST(Readers, JsonlRationalesAsTokenIndicesOrCharacterSpans) {
  test::TempDir d;
  // Row 1: token indices. Row 2: character spans (code points; "é" is one character of two
  // bytes), "très bien" and "!" -> tokens 1, 2 and 4. Row 3: no rationale.
  const auto f = d.write("r.jsonl",
                         "{\"text\": \"a b c d\", \"label\": \"x\", \"why\": [3, 1], \"split\": \"train\"}\n"
                         "{\"text\": \"oui très bien , !\", \"label\": \"y\", \"why\": [[4, 13], [16, 17]], \"split\": \"train\"}\n"
                         "{\"text\": \"e f\", \"label\": \"y\", \"split\": \"train\"}\n");
  Dataset ds = load(f + "?rationale=why&dev=0&test=0");
  tokenize_dataset(ds, Tokenizer());
  ASSERT_EQ(ds.train.size(), 3u);
  EXPECT_EQ(ds.train[0].rationale, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(ds.train[1].tokens, (std::vector<std::string>{"oui", "très", "bien", ",", "!"}));
  EXPECT_EQ(ds.train[1].rationale, (std::vector<int64_t>{1, 2, 4}));
  EXPECT_TRUE(ds.train[1].rationale_spans.empty());
  EXPECT_TRUE(ds.train[2].rationale.empty());
  // Without the key, rationales are not read.
  Dataset plain = load(f + "?dev=0&test=0");
  EXPECT_TRUE(plain.train[0].rationale.empty());

  auto tokenized_error = [&](const std::string& row) {
    try {
      Dataset bad = load(d.write("bad.jsonl", row + "\n{\"text\": \"z\", \"label\": \"q\"}\n") + "?rationale=why&dev=0&test=0");
      tokenize_dataset(bad, Tokenizer());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(tokenized_error("{\"text\": \"a b\", \"label\": \"x\", \"why\": [2]}").find("bad.jsonl:1: rationale token index 2 outside"),
            std::string::npos);
  EXPECT_NE(tokenized_error("{\"text\": \"hello world\", \"label\": \"x\", \"why\": [[2, 7]]}").find("cuts through a token"),
            std::string::npos);
  EXPECT_NE(tokenized_error("{\"text\": \"ab\", \"label\": \"x\", \"why\": [[1, 9]]}").find("0 <= start < end <= 2"),
            std::string::npos);
  EXPECT_NE(tokenized_error("{\"text\": \"ab\", \"label\": \"x\", \"why\": [0, [0, 1]]}").find("not both"), std::string::npos);
  EXPECT_NE(tokenized_error("{\"text\": \"ab\", \"label\": \"x\", \"why\": \"ab\"}").find("list of token indices"),
            std::string::npos);
  EXPECT_NE(tokenized_error("{\"text\": \"ab\", \"label\": \"x\", \"why\": [-1]}").find("negative"), std::string::npos);
  EXPECT_THROW(parse_data_spec(d.write("c.csv", "text,label\na,b\n") + "?rationale=why"), InvalidArgument);
}

TEST(Readers, GenericTextPairs) {
  test::TempDir d;
  const Dataset ds =
      load("pair:" + d.write("p.csv", "text_a,text_b,label\nthe cat sat,a cat sits,yes\nit rains,sunny day,no\n"
                                      "dogs bark,a dog barks,yes\nhe left,he stayed,no\n") +
           "?dev=0&test=0");
  EXPECT_TRUE(ds.pair);
  EXPECT_EQ(ds.train[0].text_b, "a cat sits");
}

TEST(Readers, SstTreesBinaryDropsNeutralAndFineKeepsFive) {
  test::TempDir d;
  d.write("trees/train.txt", "(3 (2 It) (4 (3 works) (2 .)))\n(1 (1 Bad) (2 film))\n(2 (2 So) (2 so))\n");
  d.write("trees/dev.txt", "(4 (4 Great))\n");
  d.write("trees/test.txt", "(0 (0 Awful))\n");
  const Dataset bin = load("sst:" + d.file("trees"));
  EXPECT_EQ(bin.train.size(), 2u);
  EXPECT_EQ(bin.train[0].text, "It works .");
  EXPECT_EQ(bin.label_names[bin.train[0].label], "positive");
  const Dataset fine = load("sst:" + d.file("trees") + "?classes=fine");
  EXPECT_EQ(fine.train.size(), 3u);
  EXPECT_EQ(fine.label_names.size(), 5u);
  d.write("bad/train.txt", "(3 (2 It) (4 works)\n");
  EXPECT_NE(error_of("sst:" + d.file("bad")).find("train.txt:1"), std::string::npos);
}

TEST(Readers, ImdbFolderLayout) {
  test::TempDir d;
  for (int i = 0; i < 3; ++i) {
    d.write("aclImdb/train/pos/" + std::to_string(i) + "_9.txt", "Loved it.<br /><br />Great film");
    d.write("aclImdb/train/neg/" + std::to_string(i) + "_1.txt", "Hated it");
  }
  d.write("aclImdb/test/pos/0_8.txt", "Good");
  d.write("aclImdb/test/neg/0_2.txt", "Bad");
  const Dataset ds = load(d.file("aclImdb"));  // format inferred from the layout
  EXPECT_EQ(ds.test.size(), 2u);
  EXPECT_EQ(ds.train.size() + ds.dev.size(), 6u);
  EXPECT_EQ(ds.train[0].text.find("<br"), std::string::npos);
}

TEST(Readers, AgNewsCsv) {
  test::TempDir d;
  const Dataset ds = load("agnews:" + d.write("ag.csv", "\"3\",\"Wall St. Bears\",\"Reuters - Short-sellers ...\"\n"
                                                      "\"2\",\"Match\",\"A win\"\n\"1\",\"Summit\",\"Leaders met\"\n"
                                                      "\"4\",\"Chips\",\"New CPU\"\n") +
                          "?dev=0&test=0");
  EXPECT_EQ(ds.label_names[ds.train[0].label], "Business");
  EXPECT_NE(error_of("agnews:" + d.write("bad.csv", "\"7\",\"x\",\"y\"\n")).find("class must be 1..4"), std::string::npos);
}

TEST(Readers, TwentyNewsgroupsTwoGroups) {
  test::TempDir d;
  for (const char* split : {"20news-bydate-train", "20news-bydate-test"})
    for (const char* g : {"rec.sport.baseball", "rec.sport.hockey", "sci.med"})
      for (int i = 0; i < 2; ++i)
        d.write(std::string("20ng/") + split + "/" + g + "/" + std::to_string(i),
                std::string("From: someone\nSubject: x\n\nbody about ") + g);
  const Dataset ds = load("20ng:" + d.file("20ng"));
  EXPECT_EQ(ds.label_names, (std::vector<std::string>{"rec.sport.baseball", "rec.sport.hockey"}));
  EXPECT_EQ(ds.test.size(), 4u);
  EXPECT_EQ(ds.test[0].text.find("From:"), std::string::npos);
  EXPECT_NE(error_of("20ng:" + d.file("20ng") + "?groups=rec.sport.baseball,talk.nope").find("talk.nope"),
            std::string::npos);
}

TEST(Readers, SnliJsonlDropsGoldLabelDash) {
  test::TempDir d;
  auto line = [](const char* a, const char* b, const char* l) {
    return std::string("{\"sentence1\": \"") + a + "\", \"sentence2\": \"" + b + "\", \"gold_label\": \"" + l + "\"}\n";
  };
  d.write("snli/snli_1.0_train.jsonl", line("A man sleeps.", "A man rests.", "entailment") +
                                           line("A dog runs.", "A cat sits.", "contradiction") +
                                           line("Kids play.", "Kids are happy.", "neutral") + line("x", "y", "-"));
  d.write("snli/snli_1.0_test.jsonl", line("A man eats.", "Someone eats.", "entailment"));
  const Dataset ds = load(d.file("snli"));
  EXPECT_TRUE(ds.pair);
  EXPECT_EQ(ds.train.size() + ds.dev.size(), 3u);
  EXPECT_EQ(ds.test[0].text_b, "Someone eats.");
}

TEST(Readers, BabiTaskFiles) {
  test::TempDir d;
  const std::string story =
      "1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n"
      "4 Daniel went back to the hallway.\n5 Where is Daniel? \thallway\t4\n1 Sandra journeyed to the garden.\n"
      "2 Where is Sandra? \tgarden\t1\n";
  d.write("babi/qa1_single-supporting-fact_train.txt", story);
  d.write("babi/qa1_single-supporting-fact_test.txt", story);
  const Dataset ds = load("babi:" + d.file("babi"));
  EXPECT_TRUE(ds.pair);
  EXPECT_EQ(ds.test.size(), 3u);
  EXPECT_EQ(ds.test[1].text, "Mary moved to the bathroom. John went to the hallway. Daniel went back to the hallway.");
  EXPECT_EQ(ds.test[1].text_b, "Where is Daniel? ");
  EXPECT_EQ(ds.label_names[ds.test[2].label], "garden");
}

TEST(Readers, FilesWithoutASplitAreSplitDeterministicallyAndStratified) {
  test::TempDir d;
  std::string csv = "text,label\n";
  for (int i = 0; i < 100; ++i) csv += "text number " + std::string(1, 'a' + i % 26) + "," + (i < 80 ? "a" : "b") + "\n";
  const auto p = d.write("s.csv", csv);
  const Dataset x = load(p), y = load(p);
  EXPECT_EQ(x.test.size(), 10u);
  EXPECT_EQ(x.dev.size(), 10u);
  int64_t b_in_test = 0;
  for (const auto& e : x.test) b_in_test += e.label == 1;
  EXPECT_EQ(b_in_test, 2);  // 10% of the 20 "b" rows
  for (size_t i = 0; i < x.test.size(); ++i) EXPECT_EQ(x.test[i].source, y.test[i].source);
  const Dataset z = load(p + "?seed=99");
  bool differs = false;
  for (size_t i = 0; i < x.test.size(); ++i) differs |= x.test[i].source != z.test[i].source;
  EXPECT_TRUE(differs);
}

TEST(Readers, SpecErrorsListTheKnownKeys) {
  EXPECT_NE(error_of("synthetic-keywords?colour=red").find("KEY one of"), std::string::npos);
  EXPECT_NE(error_of("synthetic-keywords?n=abc").find("n must be an integer"), std::string::npos);
}

TEST(Synthetic, KeywordLabelsFollowTheCueCountsAndRationalesPointAtCues) {
  const Dataset ds = load("synthetic-keywords?n=200");
  const std::set<std::string> pos = {"good", "great", "excellent", "superb", "wonderful", "amazing"};
  const std::set<std::string> neg = {"bad", "awful", "terrible", "poor", "horrible", "dreadful"};
  for (const auto& e : ds.train) {
    int p = 0, n = 0;
    for (const auto& t : e.tokens) {
      p += pos.count(t);
      n += neg.count(t);
    }
    ASSERT_NE(p, n);
    EXPECT_EQ(ds.label_names[e.label], p > n ? "positive" : "negative");
    EXPECT_EQ(static_cast<int>(e.rationale.size()), p + n);
    for (int64_t i : e.rationale) EXPECT_TRUE(pos.count(e.tokens[i]) || neg.count(e.tokens[i]));
  }
}

TEST(Synthetic, WhereTaskAnswerIsTheLastPlaceOfThePersonAsked) {
  const Dataset ds = load("synthetic-where?n=100");
  EXPECT_TRUE(ds.pair);
  for (const auto& e : ds.train) {
    const std::string who = e.tokens_b[2];
    std::string last;
    for (size_t i = 0; i + 4 < e.tokens.size(); i += 6)
      if (e.tokens[i] == who) last = e.tokens[i + 4];
    EXPECT_EQ(ds.label_names[e.label], last);
    EXPECT_EQ(e.tokens[e.rationale[0]], who);
  }
}

}  // namespace
}  // namespace lumen::data

namespace lumen::data {
namespace {

// Short keyword texts (length 4..8) used to write cue positions past the text's end (a crash).
TEST(SyntheticKeywords, ShortTextsKeepTheirCuesInsideAndTheMajority) {
  for (int64_t length : {4, 5, 6, 8}) {
    const Dataset ds = load_dataset(parse_data_spec("synthetic-keywords?n=200&length=" + std::to_string(length)));
    for (const auto* part : {&ds.train, &ds.dev, &ds.test})
      for (const auto& e : *part) {
        ASSERT_GE(e.tokens.size(), 1u) << length;
        ASSERT_GE(e.rationale.size(), 1u) << length;
        for (int64_t p : e.rationale) ASSERT_LT(p, static_cast<int64_t>(e.tokens.size())) << length;
      }
  }
}

}  // namespace
}  // namespace lumen::data
