#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "data/word_vectors.h"
#include "support/fixtures.h"

namespace lumen::data {
namespace {

Vocab small_vocab() {
  const std::vector<std::string> t = {"cat", "dog", "emu"};
  return Vocab::build({&t}, 1);
}

TEST(WordVectors, GloveTextWithAndWithoutHeaderReportsCoverage) {
  test::TempDir d;
  const Vocab v = small_vocab();
  for (const std::string header : {"", "3 2\n"}) {
    auto w = torch::zeros({v.size(), 2});
    const auto rep = load_word_vectors(d.write("g.txt", header + "cat 1 2\nzebra 5 5\ndog 3 4\n"), v, w);
    EXPECT_EQ(rep.covered, 2);
    EXPECT_NEAR(rep.coverage(), 2.0 / 3.0, 1e-12);
    EXPECT_EQ(w[v.id("dog")][1].item<float>(), 4.0f);
    EXPECT_EQ(w[v.id("emu")][0].item<float>(), 0.0f);
  }
}

TEST(WordVectors, Word2VecBinary) {
  test::TempDir d;
  const Vocab v = small_vocab();
  std::string bin = "2 2\n";
  auto add = [&](const std::string& word, float a, float b) {
    bin += word + " ";
    bin.append(reinterpret_cast<const char*>(&a), 4);
    bin.append(reinterpret_cast<const char*>(&b), 4);
    bin += "\n";
  };
  add("emu", 0.5f, -1.5f);
  add("owl", 9, 9);
  auto w = torch::zeros({v.size(), 2});
  const auto rep = load_word_vectors(d.write("v.bin", bin), v, w);
  EXPECT_EQ(rep.covered, 1);
  EXPECT_EQ(w[v.id("emu")][1].item<float>(), -1.5f);
}

TEST(WordVectors, WrongDimensionAndRaggedLinesAreErrors) {
  test::TempDir d;
  const Vocab v = small_vocab();
  auto w = torch::zeros({v.size(), 3});
  EXPECT_THROW(load_word_vectors(d.write("a.txt", "cat 1 2\n"), v, w), InvalidArgument);
  EXPECT_THROW(load_word_vectors(d.write("b.txt", "cat 1 2 3\ndog 1 2\n"), v, w), DataError);
  EXPECT_THROW(load_word_vectors(d.file("none.txt"), v, w), IoError);
}

}  // namespace
}  // namespace lumen::data
