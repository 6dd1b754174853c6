// The explanation datasets: the synthetic task's known answers, the e-SNLI / CoS-E / JSONL
// readers on small files in their real layouts, and the errors users see.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "nle/dataset.h"
#include "support/fixtures.h"

namespace lumen::nle {
namespace {

bool has(const std::vector<std::string>& v, const std::string& w) { return std::find(v.begin(), v.end(), w) != v.end(); }

TEST(SyntheticNle, LabelsRationaleAndExplanationAgree) {
  const NleDataset ds = synthetic_nle(400, 5);
  ASSERT_EQ(ds.label_names, (std::vector<std::string>{"contradiction", "entailment"}));
  EXPECT_EQ(ds.train.size() + ds.dev.size() + ds.test.size(), 400u);
  int64_t entail = 0;
  for (const auto* split : {&ds.train, &ds.dev, &ds.test})
    for (const auto& e : *split) {
      const auto& ex = e.example;
      ASSERT_EQ(ex.rationale.size(), 2u);
      const auto words = rationale_words(ex);
      // The rationale is the asked object and its colour in the premise.
      EXPECT_EQ(words[0], ex.tokens_b[1]);
      const std::string premise_colour = words[1], hypothesis_colour = ex.tokens_b[3];
      EXPECT_EQ(ex.label == 1, premise_colour == hypothesis_colour) << ex.text << " | " << ex.text_b;
      // The object occurs once in the premise.
      EXPECT_EQ(std::count(ex.tokens.begin(), ex.tokens.end(), words[0]), 1);
      // The templated explanation names the rationale, and the hypothesis colour when it contradicts.
      EXPECT_TRUE(has(e.explanation, words[0]) && has(e.explanation, words[1]));
      EXPECT_EQ(has(e.explanation, "not"), ex.label == 0);
      if (ex.label == 0) EXPECT_EQ(e.explanation.back(), hypothesis_colour);
      entail += ex.label;
    }
  EXPECT_EQ(entail, 200);
  // Attribute distractors: the premise has one colour; colour distractors: one per sentence.
  auto colours_in = [](const data::Example& ex) {
    int64_t c = 0;
    for (const auto& w : ex.tokens)
      for (const char* col : {"red", "blue", "green", "yellow", "black", "white", "pink", "brown"}) c += w == col;
    return c;
  };
  for (const auto& e : ds.test) EXPECT_EQ(colours_in(e.example), 1);
  const NleDataset hard = load_nle_dataset(parse_nle_spec("synthetic-nle?n=100&distractors=colours"));
  for (const auto& e : hard.test) EXPECT_EQ(colours_in(e.example) * 5, static_cast<int64_t>(e.example.tokens.size()));
  EXPECT_THROW(parse_nle_spec("synthetic-nle?distractors=shapes"), InvalidArgument);
  // Seeded: the same examples again, another seed gives others.
  EXPECT_EQ(synthetic_nle(400, 5).test[3].example.text, ds.test[3].example.text);
  EXPECT_NE(synthetic_nle(400, 6).test[3].example.text + synthetic_nle(400, 6).test[4].example.text,
            ds.test[3].example.text + ds.test[4].example.text);
}

TEST(NleSpec, ParsesFormatsAndRejectsUnknownKeys) {
  auto s = parse_nle_spec("synthetic-nle?n=300&seed=4");
  EXPECT_EQ(s.format, "synthetic-nle");
  EXPECT_EQ(s.n, 300);
  EXPECT_EQ(s.seed, 4u);
  EXPECT_EQ(parse_nle_spec("esnli:data/esnli").path, "data/esnli");
  EXPECT_EQ(parse_nle_spec("notes.jsonl?explanation=why").explanation, "why");
  EXPECT_THROW(parse_nle_spec("synthetic-nle?colour=red"), InvalidArgument);
  EXPECT_THROW(parse_nle_spec("notes.txt"), InvalidArgument);
  EXPECT_THROW(parse_nle_spec("synthetic-nle?n=lots"), InvalidArgument);
  try {
    parse_nle_spec("snli:x");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("esnli"), std::string::npos) << e.what();
  }
}

TEST(NleReaders, ESnliDirectoryInItsDistributedLayout) {
  test::TempDir dir;
  const std::string header = "pairID,gold_label,Sentence1,Sentence2,Explanation_1,Sentence1_marked_1\n";
  std::string train = header;
  for (int i = 0; i < 6; ++i)
    train += std::to_string(i) + "," + (i % 2 ? "entailment" : "contradiction") +
             ",\"A man, smiling, plays.\",A man plays.,\"Smiling, he plays.\",x\n";
  train += "9,-,No majority.,Dropped.,none,x\n";  // no gold label: dropped, as the authors do
  dir.write("esnli_train_1.csv", train);
  dir.write("esnli_train_2.csv", header + "20,neutral,A dog runs.,A dog sleeps.,Running is not sleeping.,x\n");
  dir.write("esnli_dev.csv", header + "30,entailment,A cat sits.,A cat is there.,Sitting means being there.,x\n");
  dir.write("esnli_test.csv", header + "40,contradiction,A cat sits.,A cat runs.,Sitting is not running.,x\n");
  const NleDataset ds = load_nle_dataset(parse_nle_spec("esnli:" + dir.path()));
  EXPECT_TRUE(ds.pair);
  EXPECT_EQ(ds.train.size(), 7u);
  ASSERT_EQ(ds.test.size(), 1u);
  EXPECT_EQ(ds.label_names, (std::vector<std::string>{"contradiction", "entailment", "neutral"}));
  EXPECT_EQ(ds.train[0].example.tokens, (std::vector<std::string>{"a", "man", ",", "smiling", ",", "plays", "."}));
  EXPECT_EQ(ds.test[0].explanation, (std::vector<std::string>{"sitting", "is", "not", "running", "."}));
  EXPECT_EQ(ds.test[0].example.label, 0);
}

TEST(NleReaders, ESnliMissingColumnNamesTheFile) {
  test::TempDir dir;
  const std::string f = dir.write("esnli_dev.csv", "pairID,gold_label,Sentence1,Sentence2\n1,entailment,a,b\n");
  try {
    load_nle_dataset(parse_nle_spec("esnli:" + f));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("Explanation_1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("esnli_dev.csv"), std::string::npos) << e.what();
  }
}

TEST(NleReaders, CoSEBothLayouts) {
  test::TempDir dir;
  // CommonsenseQA + CoS-E (nested question, answerKey, explanation.open-ended).
  std::string nested;
  for (int i = 0; i < 10; ++i)
    nested += R"({"id":")" + std::to_string(i) + R"(","answerKey":")" + (i % 2 ? "B" : "A") +
              R"(","question":{"stem":"Where do you keep milk?","choices":[{"label":"A","text":"fridge"},{"label":"B","text":"oven"}]},"explanation":{"open-ended":"milk is kept cold in a fridge","selected":"cold"}})" +
              "\n";
  const std::string f = dir.write("cose_train_v1.11_processed.jsonl", nested);
  const NleDataset ds = load_nle_dataset(parse_nle_spec("cose:" + f));
  EXPECT_EQ(ds.label_names, (std::vector<std::string>{"A", "B"}));
  const auto& e = ds.test.empty() ? ds.train[0] : ds.test[0];
  EXPECT_EQ(e.example.tokens, (std::vector<std::string>{"where", "do", "you", "keep", "milk", "?"}));
  EXPECT_EQ(e.example.tokens_b, (std::vector<std::string>{"a", ":", "fridge", "b", ":", "oven"}));
  EXPECT_EQ(e.explanation.front(), "milk");
  // The flat layout: choices as strings, the answer as text.
  const std::string g = dir.write("flat.jsonl",
                                  R"({"id":"1","question":"What is hot?","choices":["ice","fire"],"answer":"fire","abstractive_explanation":"fire burns"})"
                                  "\n"
                                  R"({"id":"2","question":"What is cold?","choices":["ice","fire"],"answer":"ice","abstractive_explanation":"ice is frozen"})"
                                  "\n"
                                  R"({"id":"3","question":"What is wet?","choices":["water","sand"],"answer":"water","abstractive_explanation":"water flows"})"
                                  "\n"
                                  R"({"id":"4","question":"What is dry?","choices":["water","sand"],"answer":"sand","abstractive_explanation":"sand is dry"})"
                                  "\n"
                                  R"({"id":"5","question":"What glows?","choices":["lamp","rock"],"answer":"lamp","abstractive_explanation":"a lamp gives light"})"
                                  "\n");
  auto spec = parse_nle_spec("cose:" + g + "?test=0.2");
  const NleDataset flat = load_nle_dataset(spec);
  EXPECT_EQ(flat.train.size() + flat.dev.size() + flat.test.size(), 5u);
  for (const auto* split : {&flat.train, &flat.test})
    for (const auto& x : *split) {
      const std::string& letter = flat.label_names[x.example.label];
      EXPECT_TRUE(letter == "A" || letter == "B");
    }
  // An answer that is not among the choices names the line.
  const std::string bad = dir.write("bad.jsonl", R"({"question":"Q?","choices":["a","b"],"answer":"c"})" "\n");
  try {
    load_nle_dataset(parse_nle_spec("cose:" + bad));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:1"), std::string::npos) << e.what();
  }
}

TEST(NleReaders, JsonlTrainingExampleWithoutExplanationIsAnError) {
  test::TempDir dir;
  std::string lines;
  for (int i = 0; i < 8; ++i)
    lines += R"({"text":"good film )" + std::to_string(i) + R"(","label":")" + (i % 2 ? "pos" : "neg") + R"(","why":"the word good","split":")" +
             (i < 6 ? "train" : "test") + "\"}\n";
  const std::string ok = dir.write("ok.jsonl", lines);
  const NleDataset ds = load_nle_dataset(parse_nle_spec(ok + "?explanation=why"));
  EXPECT_EQ(ds.train.size(), 6u);
  EXPECT_EQ(ds.test.size(), 2u);
  EXPECT_EQ(ds.train[0].explanation, (std::vector<std::string>{"the", "word", "good"}));
  const std::string missing = dir.write("missing.jsonl", lines + R"({"text":"x","label":"pos","split":"train"})" "\n");
  try {
    load_nle_dataset(parse_nle_spec(missing + "?explanation=why"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.jsonl:9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no explanation"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lumen::nle
