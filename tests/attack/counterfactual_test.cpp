// Counterfactuals with Lumen's editor on the keyword task (known rationale): MiCE reaches the
// other label with small edits; Polyjuice's rule codes make exactly their edit; every reported
// counterfactual passes the re-check; the editor refuses another run's vocabulary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attack/attack.h"
#include "attack/counterfactual.h"
#include "attack/fluency.h"
#include "attack/verify.h"
#include "core/error.h"
#include "core/runtime.h"
#include "data/spec.h"
#include "support/fixtures.h"
#include "train/editor_trainer.h"
#include "train/trainer.h"

namespace lumen::attack {
namespace {

struct Setup {
  data::Vocab vocab;
  data::Dataset ds;
  models::TextClassifier model{nullptr};
  models::Editor editor;
};

Setup& setup() {
  static Setup* s = [] {
    auto* s = new Setup;
    configure_threads(0);  // as lumen runs: one LibTorch / OpenBLAS thread, Lumen's own split
    s->ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=1500&length=16"));
    std::vector<const std::vector<std::string>*> texts;
    for (auto& e : s->ds.train) texts.push_back(&e.tokens);
    s->vocab = data::Vocab::build(texts, 1);
    torch::manual_seed(0);
    models::ModelConfig c;
    c.vocab_size = s->vocab.size();
    c.embed_dim = 32;
    c.hidden = 32;
    s->model = models::TextClassifier(c);
    train::TrainOptions to;
    to.progress = false;
    to.epochs = 10;
    train::fit(s->model, data::EncodedSet::from(s->ds.train, s->vocab, false),
               data::EncodedSet::from(s->ds.dev, s->vocab, false), to);
    models::MaskedLmConfig mc;
    mc.vocab_size = s->vocab.size();
    mc.labels = 2;
    mc.embed_dim = mc.model_dim = 32;
    mc.ff_dim = 64;
    mc.layers = 1;
    mc.max_length = 64;
    s->editor.model = models::MaskedLm(mc);
    s->editor.vocab = s->vocab;
    s->editor.label_names = s->ds.label_names;
    train::EditorTrainOptions eo;
    eo.epochs = 3;
    eo.progress = false;
    train::train_editor(s->editor.model, s->ds.train, s->ds.dev, s->vocab, eo);
    return s;
  }();
  return *s;
}

TEST(Counterfactual, MiceReachesTheOtherLabelWithSmallEditsThatPassTheRecheck) {
  auto& s = setup();
  const std::vector<data::Example> ex(s.ds.test.begin(), s.ds.test.begin() + 60);
  for (const char* method : {"mice", "crest", "polyjuice"}) {
    CounterfactualOptions o;
    o.method = method;
    const auto results = generate_counterfactuals(s.model, s.editor, s.vocab, ex, o);
    const Json sum = summarize_counterfactuals(s.model, s.vocab, results, ex, o);
    RecordProperty(std::string("flip_rate_") + method, sum["flip_rate"].dump());
    RecordProperty(std::string("minimality_") + method, sum["minimality_median"].dump());
    EXPECT_EQ(sum["verification"]["violations"].get<int64_t>(), 0) << method << sum["verification"].dump();
    EXPECT_GT(sum["verification"]["checked"].get<int64_t>(), 0) << method;
    if (std::string(method) == "mice") {
      EXPECT_GE(sum["flip_rate"].get<double>(), 0.9) << sum.dump();
      EXPECT_LE(sum["minimality_median"].get<double>(), 0.2) << sum.dump();
    }
    for (const auto& r : results)
      if (!r.flipped) EXPECT_FALSE(r.reason.empty());
  }
}

TEST(Counterfactual, PolyjuiceRuleCodesMakeExactlyTheirEdit) {
  auto& s = setup();
  data::Example e;
  e.tokens = {"the", "plot", "is", "good", "and", "all", "actors", "shine"};
  e.label = 1;
  CounterfactualOptions o;
  o.method = "polyjuice";
  o.keep = 50;
  o.target = -1;
  for (const std::string code : {"negation", "quantifier"}) {
    o.codes = {code};
    const auto r = generate_counterfactuals(s.model, s.editor, s.vocab, {e}, o)[0];
    // Whether or not it flips this model, the candidates are the rule's: read them from the edits.
    for (const auto& c : r.counterfactuals) {
      ASSERT_EQ(c.edits.size(), 1u) << code;
      if (code == "negation") {
        EXPECT_EQ(c.edits[0].kind, perturb::EditKind::kInsert);
        EXPECT_EQ(c.tokens[3], "not");
      } else {
        EXPECT_EQ(c.tokens[5], "some");
      }
    }
  }
  o.codes = {"restructure"};  // a phrase one word shorter or longer
  const auto restructured = generate_counterfactuals(s.model, s.editor, s.vocab, {e}, o);
  for (const auto& c : restructured[0].counterfactuals)
    EXPECT_EQ(std::abs(static_cast<int64_t>(c.tokens.size()) - static_cast<int64_t>(e.tokens.size())), 1);
  o.codes = {"nonsense"};
  EXPECT_THROW(o.validate(), InvalidArgument);
  CounterfactualOptions t;
  t.target = 7;
  EXPECT_THROW(generate_counterfactuals(s.model, s.editor, s.vocab, {e}, t), InvalidArgument);
  data::Example empty;
  empty.label = 0;
  EXPECT_FALSE(generate_counterfactuals(s.model, s.editor, s.vocab, {empty}, {})[0].reason.empty());
}

TEST(Counterfactual, EditorRoundTripsAndRefusesAnotherVocabulary) {
  auto& s = setup();
  test::TempDir d;
  models::save_editor(s.editor, d.file("editor"), {{"note", "test"}});
  const models::Editor back = models::load_editor(d.file("editor"), &s.vocab);
  EXPECT_EQ(back.vocab.size(), s.vocab.size());
  data::Vocab other = data::Vocab::build({&s.ds.test[0].tokens}, 1);
  EXPECT_THROW(models::load_editor(d.file("editor"), &other), ModelError);
  EXPECT_THROW(models::load_editor(d.file("nothing")), IoError);
}

TEST(Counterfactual, MaskedLmAttacksEmitOnlyExamplesThatTheRecheckAccepts) {
  auto& s = setup();
  test::TempDir d;
  models::save_editor(s.editor, d.file("editor"), {});
  const std::vector<data::Example> ex(s.ds.test.begin(), s.ds.test.begin() + 60);
  for (const char* name : {"bae", "bert-attack"}) {
    AttackOptions o = recipe_options(name);
    adapt_to_vectors(o, false);
    o.editor_dir = d.file("editor");
    const AttackRun run = run_attack(s.model, s.vocab, ex, o);
    const VerifyReport v = verify_attacks(s.model, s.vocab, run, o, attack_vectors(s.model, s.vocab, o), false, ex);
    const Json sum = summarize(run, o);
    RecordProperty(std::string("success_") + name, sum["success_rate"].dump());
    EXPECT_GT(sum["succeeded"].get<int64_t>(), 0) << name << sum.dump();
    EXPECT_EQ(v.checked, sum["succeeded"].get<int64_t>()) << name;
    EXPECT_TRUE(v.violations.empty()) << name << ": " << (v.violations.empty() ? "" : v.violations[0].what);
  }
  // An editor of another vocabulary is refused.
  data::Vocab other = data::Vocab::build({&s.ds.test[0].tokens}, 1);
  models::Editor wrong = s.editor;
  wrong.vocab = other;
  AttackOptions o = recipe_options("bae");
  o.editor_dir = d.file("editor");
  models::TextClassifier small(test::tiny_config("lstm", "additive", false));
  models::ModelConfig c = small->config();
  c.vocab_size = other.size();
  models::TextClassifier m2(c);
  EXPECT_THROW(run_attack(m2, other, ex, o), ModelError);
}

// CLARE's replace / insert / merge (its own order and TextAttack's greedy search), and the fluency
// constraint under the editor: only re-checked examples; the batched fluency ratio equals the
// single one, and every emitted example is within the bound.
TEST(Counterfactual, ClareAndTheFluencyConstraintEmitOnlyCheckedExamples) {
  auto& s = setup();
  test::TempDir d;
  models::save_editor(s.editor, d.file("editor"), {});
  std::vector<data::Example> ex(s.ds.test.begin(), s.ds.test.begin() + 40);
  for (int i = 0; i < 8; ++i) {  // texts of 3-5 words: a budget of one word leaves no room for a merge
    data::Example e = s.ds.test[40 + i];
    const size_t at = std::min<size_t>(e.rationale.empty() ? 0 : e.rationale[0], e.tokens.size() - 5);
    e.tokens = std::vector<std::string>(e.tokens.begin() + at, e.tokens.begin() + at + 3 + i % 3);
    e.rationale.clear();
    ex.push_back(e);
  }
  AttackOptions clare = recipe_options("clare");
  clare.editor_dir = d.file("editor");
  AttackOptions greedy = clare;
  greedy.search = Search::kBeam;
  greedy.beam_width = 1;
  AttackOptions fluent = recipe_options("bae");
  fluent.editor_dir = d.file("editor");
  fluent.max_fluency_ratio = 1.5;
  int64_t inserts = 0, merges = 0;
  for (const auto* o : {&clare, &greedy, &fluent}) {
    const std::string name = o->recipe + "/" + to_string(o->search);
    const AttackRun run = run_attack(s.model, s.vocab, ex, *o);
    const VerifyReport v = verify_attacks(s.model, s.vocab, run, *o, attack_vectors(s.model, s.vocab, *o), false, ex);
    const Json sum = summarize(run, *o);
    RecordProperty("success_" + name, sum["success_rate"].dump());
    EXPECT_GT(sum["succeeded"].get<int64_t>(), 0) << name << sum.dump();
    EXPECT_TRUE(v.violations.empty()) << name << ": " << (v.violations.empty() ? "" : v.violations[0].what);
    for (const auto& r : run.results) {
      if (r.status != Status::kSucceeded) continue;
      for (const auto& e : r.edits) {
        inserts += e.kind == perturb::EditKind::kInsert;
        merges += e.kind == perturb::EditKind::kDelete;
      }
      if (o->max_fluency_ratio > 0) {
        EXPECT_LE(r.fluency_ratio, 1.5 + 1e-9) << name;
      }
    }
  }
  RecordProperty("clare_insertions", std::to_string(inserts));
  RecordProperty("clare_merges", std::to_string(merges));
  // The batched ratios equal the single ones; no edit reads as the original.
  const std::vector<int64_t> ids = s.vocab.encode(ex[0].tokens);
  std::vector<std::vector<perturb::Edit>> lists = {
      {{perturb::EditKind::kReplace, 0, 1, ids[2], ""}},
      {{perturb::EditKind::kInsert, 0, 0, ids[3], ""}, {perturb::EditKind::kDelete, 0, 4, -1, ""}},
      {{perturb::EditKind::kInsert, 0, static_cast<int64_t>(ids.size()), ids[0], ""}}};
  const auto batched = fluency_ratios(*s.editor.model, ids, lists);
  for (size_t i = 0; i < lists.size(); ++i) EXPECT_NEAR(batched[i], fluency_ratio(*s.editor.model, ids, lists[i]), 1e-6);
  std::vector<perturb::Edit> same = {{perturb::EditKind::kReplace, 0, 1, ids[1], ""}};
  EXPECT_NEAR(fluency_ratio(*s.editor.model, ids, same), 1.0, 1e-6);  // float32 rows of one batch
}

TEST(Counterfactual, DistancesAndBleu) {
  EXPECT_EQ(word_distance({"a", "b", "c"}, {"a", "x", "c", "d"}), 2);
  EXPECT_NEAR(bleu({"a", "b", "c", "d", "e"}, {{"a", "b", "c", "d", "e"}}), 1.0, 1e-12);
  EXPECT_LT(bleu({"a", "b", "c", "d", "e"}, {{"v", "w", "x", "y", "z"}}), 0.1);
}

}  // namespace
}  // namespace lumen::attack
