// The transformations and constraints of the attacks: WordNet's synonyms, antonyms, lemmas and
// parts of speech from Debian's database; the embedding-neighbour table; character edits; the
// word budget, stop words, protected words and the per-swap checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "perturb/char_edits.h"
#include "perturb/constraints.h"
#include "perturb/neighbours.h"
#include "perturb/stop_words.h"
#include "perturb/wordnet.h"

namespace lumen::perturb {
namespace {

bool has(const std::vector<Related>& v, const std::string& w) {
  return std::any_of(v.begin(), v.end(), [&](const Related& r) { return r.word == w; });
}

TEST(WordNet, SynonymsAntonymsLemmasAndPartsOfSpeech) {
  const WordNet wn;
  EXPECT_GT(wn.lemma_count(), 100000);
  EXPECT_TRUE(has(wn.synonyms("movie"), "film"));
  EXPECT_TRUE(has(wn.synonyms("film"), "movie"));
  EXPECT_FALSE(has(wn.synonyms("film"), "film"));
  EXPECT_TRUE(has(wn.antonyms("good"), "bad"));
  EXPECT_TRUE(has(wn.antonyms("increase"), "decrease"));
  EXPECT_FALSE(has(wn.antonyms("good"), "good"));
  const auto dogs = wn.lemmas("dogs", Pos::kNoun);
  EXPECT_NE(std::find(dogs.begin(), dogs.end(), "dog"), dogs.end());
  const auto ran = wn.lemmas("ran", Pos::kVerb);  // an exception-list form
  EXPECT_NE(std::find(ran.begin(), ran.end(), "run"), ran.end());
  const uint8_t run = wn.parts_of_speech("run");
  EXPECT_TRUE(run & (1 << static_cast<int>(Pos::kNoun)));
  EXPECT_TRUE(run & (1 << static_cast<int>(Pos::kVerb)));
  EXPECT_EQ(wn.parts_of_speech("zzzzteana"), 0);
  for (const auto& r : wn.synonyms("quick")) EXPECT_EQ(r.word.find('_'), std::string::npos) << r.word;
  EXPECT_THROW(WordNet("/nonexistent/wordnet"), IoError);
}

TEST(Neighbours, NearestByCosineAmongEligibleWordsOnly) {
  // Words 0..4: 1 and 2 point the same way, 3 is orthogonal, 4 is ineligible but equal to 1.
  const at::Tensor v = torch::tensor({{0.0, 0.0}, {1.0, 0.1}, {2.0, 0.25}, {0.0, 1.0}, {1.0, 0.1}}, torch::kFloat);
  const NeighbourTable t = build_neighbours(v, {0, 1, 1, 1, 0}, 2);
  EXPECT_EQ(t.ids[1][0].item<int64_t>(), 2);
  EXPECT_EQ(t.ids[1][1].item<int64_t>(), 3);
  EXPECT_GT(t.cosine[1][0].item<float>(), 0.99f);
  EXPECT_EQ(t.ids[4][0].item<int64_t>(), -1);  // ineligible words have no neighbours
  EXPECT_EQ(t.ids[0][0].item<int64_t>(), -1);  // nor do words without a vector
  EXPECT_NEAR(t.cosine_of(1, 3), 0.0995, 1e-3);
}

TEST(CharEdits, ChangeOneInnerCharacterAndKeepShortWords) {
  Rng rng(3);
  const auto c = char_candidates("terrible", {CharEdit::kSwap, CharEdit::kDelete, CharEdit::kInsert, CharEdit::kSubstitute,
                                              CharEdit::kHomoglyph},
                                 3, rng);
  ASSERT_GE(c.size(), 10u);
  for (const auto& x : c) {
    EXPECT_NE(x.word, "terrible");
    EXPECT_LE(char_distance("terrible", x.word), x.edit == CharEdit::kSwap ? 2 : 1) << x.word;
    if (x.edit != CharEdit::kHomoglyph) {
      EXPECT_EQ(x.word.front(), 't') << x.word;
      EXPECT_EQ(x.word.back(), 'e') << x.word;
    }
  }
  EXPECT_TRUE(char_candidates("an", {CharEdit::kDelete}, 3, rng).empty());
  EXPECT_TRUE(char_candidates("mp3", {CharEdit::kDelete}, 3, rng).empty());
  EXPECT_EQ(char_distance("kitten", "sitting"), 3);
  EXPECT_EQ(char_distance("ab\xD0\xB0", "aba"), 1);  // code points, not bytes
}

TEST(Constraints, BudgetStopWordsProtectedWordsAndSwaps) {
  ConstraintOptions o;
  o.max_word_share = 0.2;
  o.protected_words = {"refund"};
  const Constraints c(o, nullptr, nullptr);
  EXPECT_EQ(c.word_budget(26), 6);
  EXPECT_EQ(c.word_budget(3), 1);  // at least one word
  EXPECT_FALSE(c.modifiable("the"));
  EXPECT_FALSE(c.modifiable(","));
  EXPECT_FALSE(c.modifiable("<num>"));
  EXPECT_FALSE(c.modifiable("refund"));
  EXPECT_TRUE(c.modifiable("movie"));
  EXPECT_FALSE(c.swap_allowed("movie", 5, "movie", 5));
  EXPECT_FALSE(c.swap_allowed("movie", 5, "mvoie", 5));  // the same id: the model sees no change
  EXPECT_TRUE(c.swap_allowed("movie", 5, "film", 6));
  ConstraintOptions cos = o;
  cos.min_cosine = 0.5;
  EXPECT_THROW(Constraints(cos, nullptr, nullptr), InvalidArgument);
  ConstraintOptions bad;
  bad.max_word_share = 0;
  EXPECT_THROW(bad.validate(), InvalidArgument);
  const WordNet wn;
  ConstraintOptions pos;
  pos.same_pos = true;
  const Constraints p(pos, nullptr, &wn);
  EXPECT_FALSE(p.swap_allowed("quickly", 5, "dog", 6));  // adverb -> noun
  EXPECT_TRUE(p.swap_allowed("film", 5, "movie", 6));
}

}  // namespace
}  // namespace lumen::perturb
