// The attacks on a small BiLSTM trained on the keyword task (known rationale: the cue words):
// every recipe emits only examples that the separate re-check accepts; the greedy attack acts
// mostly on the cue words; bad inputs end in typed results; the evaluator's reuse does not
// change what the attack finds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/verify.h"
#include "core/error.h"
#include "core/runtime.h"
#include "data/spec.h"
#include "train/trainer.h"

namespace lumen::attack {
namespace {

struct Trained {
  data::Vocab vocab;
  std::vector<data::Example> test;
  models::TextClassifier model{nullptr};
};

Trained& trained() {
  static Trained* t = [] {
    auto* t = new Trained;
    configure_threads(0);  // as lumen runs: one LibTorch / OpenBLAS thread, Lumen's own split
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=1500&length=16"));
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : ds.train) texts.push_back(&e.tokens);
    t->vocab = data::Vocab::build(texts, 1);
    torch::manual_seed(0);
    models::ModelConfig c;
    c.vocab_size = t->vocab.size();
    c.embed_dim = 32;
    c.hidden = 32;
    t->model = models::TextClassifier(c);
    train::TrainOptions to;
    to.progress = false;
    to.epochs = 10;
    train::fit(t->model, data::EncodedSet::from(ds.train, t->vocab, false), data::EncodedSet::from(ds.dev, t->vocab, false),
               to);
    t->test.assign(ds.test.begin(), ds.test.begin() + 100);
    return t;
  }();
  return *t;
}

// The recipes that need no editor (bae and bert-attack are tested with one in counterfactual_test).
std::vector<std::string> plain_recipes() { return {"textfooler", "pwws", "deepwordbug", "hotflip"}; }

AttackOptions recipe(const std::string& name) {
  AttackOptions o = recipe_options(name);
  adapt_to_vectors(o, false);
  return o;
}

TEST(Attack, EveryRecipeEmitsOnlyExamplesThatTheRecheckAccepts) {
  auto& t = trained();
  for (const auto& name : plain_recipes()) {
    const AttackOptions o = recipe(name);
    const AttackRun run = run_attack(t.model, t.vocab, t.test, o);
    ASSERT_EQ(run.results.size(), t.test.size());
    const VerifyReport v = verify_attacks(t.model, t.vocab, run, o, attack_vectors(t.model, t.vocab, o), false, t.test);
    const Json s = summarize(run, o);
    EXPECT_GT(s["original_accuracy"].get<double>(), 0.8) << name;
    EXPECT_GT(s["succeeded"].get<int64_t>(), 0) << name;
    EXPECT_EQ(v.checked, s["succeeded"].get<int64_t>()) << name;
    EXPECT_TRUE(v.violations.empty()) << name << ": " << (v.violations.empty() ? "" : v.violations[0].what);
    for (const auto& r : run.results) {
      if (r.status == Status::kSkipped) EXPECT_FALSE(r.reason.empty());
      if (r.status != Status::kSkipped) EXPECT_GE(r.queries, 1);
    }
  }
}

TEST(Attack, GreedyAttackChangesMostlyTheCueWordsAndReuseFindsTheSame) {
  auto& t = trained();
  AttackOptions o = recipe("textfooler");
  o.constraints.same_pos = false;
  o.constraints.max_word_share = 0.5;
  const AttackRun run = run_attack(t.model, t.vocab, t.test, o);
  const Json s = summarize(run, o);
  ASSERT_TRUE(s.contains("rationale")) << s.dump();
  RecordProperty("rationale_share", std::to_string(s["rationale"]["share"].get<double>()));
  EXPECT_GT(s["rationale"]["share"].get<double>(), 0.6) << s.dump();
  EXPECT_GT(s["success_rate"].get<double>(), 0.5) << s.dump();
  o.evaluator.reuse = false;
  const AttackRun plain = run_attack(t.model, t.vocab, t.test, o);
  for (size_t i = 0; i < run.results.size(); ++i) {
    EXPECT_EQ(run.results[i].status, plain.results[i].status) << i;
    EXPECT_EQ(run.results[i].perturbed, plain.results[i].perturbed) << i;
  }
}

TEST(Attack, BadInputsEndInTypedResults) {
  auto& t = trained();
  std::vector<data::Example> bad(6, t.test[0]);
  bad[0].tokens = {};                                   // empty
  bad[1].tokens = {t.test[0].tokens[0]};                // one token
  bad[2].tokens = {"!", "?", ",", "...", "-"};          // symbols only
  bad[3].tokens = {"qqqzx", "wwwvy", "zzzkj"};          // every word unknown
  bad[4].tokens.assign(3000, t.test[0].tokens[0]);      // longer than max_length
  bad[5].tokens = t.test[0].tokens;
  for (auto& e : bad) e.rationale.clear();
  for (const auto& name : plain_recipes()) {
    AttackOptions o = recipe(name);
    o.query_budget = 3;  // the last example runs out of queries (or finishes within them)
    const AttackRun run = run_attack(t.model, t.vocab, bad, o);
    ASSERT_EQ(run.results.size(), bad.size()) << name;
    EXPECT_EQ(run.results[0].status, Status::kSkipped) << name;
    EXPECT_EQ(run.results[4].status, Status::kSkipped) << name;
    EXPECT_NE(run.results[4].reason.find("max_length"), std::string::npos) << name;
    for (const auto& r : run.results) {
      EXPECT_FALSE(r.status != Status::kSucceeded && r.reason.empty()) << name << " #" << r.index;
      EXPECT_LE(r.queries, 3) << name << " #" << r.index;
    }
    if (run.results[2].status == Status::kFailed) EXPECT_EQ(run.results[2].edits.size(), 0u) << name;
  }
  AttackOptions zero = recipe("textfooler");
  zero.query_budget = 0;
  EXPECT_THROW(zero.validate(), InvalidArgument);
  EXPECT_THROW(run_attack(t.model, t.vocab, bad, recipe("bae")), InvalidArgument);    // no editor given
  EXPECT_THROW(run_attack(t.model, t.vocab, bad, recipe("clare")), InvalidArgument);  // no editor given
  AttackOptions genetic_clare = recipe("clare");
  genetic_clare.search = Search::kGenetic;
  EXPECT_THROW(genetic_clare.validate(), InvalidArgument);  // crossover needs replacements only
  AttackOptions beam_hotflip = recipe("hotflip");
  beam_hotflip.search = Search::kBeam;
  EXPECT_THROW(beam_hotflip.validate(), InvalidArgument);
  EXPECT_THROW(recipe_options("nonsense"), InvalidArgument);
}

// Beam search, the genetic search and the embedding-space attack: only re-checked examples, the
// query budget held, the genetic search reproducible from its seed.
TEST(Attack, BeamGeneticAndEmbeddingSpaceSearchesEmitOnlyCheckedExamples) {
  auto& t = trained();
  const std::vector<data::Example> ex(t.test.begin(), t.test.begin() + 40);
  AttackOptions beam = recipe("textfooler");
  beam.search = Search::kBeam;
  beam.beam_width = 2;
  beam.candidates = 10;
  AttackOptions genetic = recipe("alzantot");
  genetic.population = 16;
  genetic.generations = 6;
  AttackOptions sem = recipe("semattack");
  for (const auto* o : {&beam, &genetic, &sem}) {
    const std::string name = o->recipe + "/" + to_string(o->search);
    const AttackRun run = run_attack(t.model, t.vocab, ex, *o);
    const VerifyReport v = verify_attacks(t.model, t.vocab, run, *o, attack_vectors(t.model, t.vocab, *o), false, ex);
    const Json s = summarize(run, *o);
    RecordProperty("success_" + name, s["success_rate"].dump());
    EXPECT_GT(s["succeeded"].get<int64_t>(), 0) << name << s.dump();
    EXPECT_EQ(v.checked, s["succeeded"].get<int64_t>()) << name;
    EXPECT_TRUE(v.violations.empty()) << name << ": " << (v.violations.empty() ? "" : v.violations[0].what);
    for (const auto& r : run.results)
      if (r.status == Status::kFailed) {
        EXPECT_FALSE(r.reason.empty()) << name;
      }
    AttackOptions tight = *o;
    tight.query_budget = 25;
    for (const auto& r : run_attack(t.model, t.vocab, ex, tight).results) EXPECT_LE(r.queries, 25) << name;
  }
  const AttackRun a = run_attack(t.model, t.vocab, ex, genetic), b = run_attack(t.model, t.vocab, ex, genetic);
  for (size_t i = 0; i < ex.size(); ++i) EXPECT_EQ(a.results[i].perturbed, b.results[i].perturbed) << i;
}

TEST(Attack, QueryBudgetIsNeverExceeded) {
  auto& t = trained();
  for (int64_t budget : {1, 10, 40}) {
    AttackOptions o = recipe("textfooler");
    o.query_budget = budget;
    const AttackRun run = run_attack(t.model, t.vocab, t.test, o);
    int64_t out_of_budget = 0;
    for (const auto& r : run.results) {
      EXPECT_LE(r.queries, budget);
      out_of_budget += r.reason == "query budget";
    }
    if (budget == 1) EXPECT_GT(out_of_budget, 0);
  }
}

}  // namespace
}  // namespace lumen::attack
