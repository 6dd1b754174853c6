// The variant evaluator against running each edited text on its own (a fresh one-row forward
// pass): every encoder, single texts and pairs, replacements, insertions and deletions (several
// per variant, at the ends and in the middle, emptied texts), float64 and float32; the fused
// BiLSTM's prefix/suffix reuse against its plain twin.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/rng.h"
#include "models/eval_guard.h"
#include "models/lstm_kernel.h"
#include "perturb/edit.h"
#include "perturb/variant_evaluator.h"
#include "support/fixtures.h"

namespace lumen::perturb {
namespace {

using test::batch_of;
using test::tiny_config;

// Random consistent edits of `t`: 1-3 edits of random kinds at distinct positions.
std::vector<Edit> random_edits(Rng& rng, const Text& t, bool pair) {
  std::vector<Edit> out;
  const int text = pair && rng.uniform() < 0.3 ? 1 : 0;
  const auto& ids = text == 0 ? t.a : t.b;
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t k = 1 + static_cast<int64_t>(rng.uniform() * 3);
  std::vector<char> used(n + 1, 0);
  for (int64_t i = 0; i < k; ++i) {
    Edit e;
    e.text = text;
    const double u = rng.uniform();
    e.kind = u < 0.4 ? EditKind::kReplace : u < 0.7 ? EditKind::kInsert : EditKind::kDelete;
    e.position = static_cast<int64_t>(rng.uniform() * (e.kind == EditKind::kInsert ? n + 1 : n));
    if (e.kind != EditKind::kInsert) {
      if (used[e.position]) continue;
      used[e.position] = 1;
    }
    e.token = e.kind == EditKind::kDelete ? -1 : 4 + static_cast<int64_t>(rng.uniform() * 15);
    out.push_back(e);
  }
  return out;
}

// Each variant alone: one-row batch, the model's ordinary forward pass.
at::Tensor one_at_a_time(models::TextClassifier& model, const std::vector<Variant>& variants, bool pair) {
  models::EvalGuard eval(model);
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> rows;
  for (const auto& v : variants) {
    auto a = v.a.empty() ? std::vector<int64_t>{data::Vocab::kPad} : v.a;
    auto b = v.b.empty() ? std::vector<int64_t>{data::Vocab::kPad} : v.b;
    const data::Batch batch = pair ? batch_of({a}, {b}) : batch_of({a});
    rows.push_back(torch::softmax(model->forward(batch).logits.to(torch::kDouble), 1));
  }
  return torch::cat(rows, 0);
}

void expect_equal_to_one_at_a_time(const std::string& encoder, bool pair, torch::Dtype dtype) {
  torch::manual_seed(3);
  models::TextClassifier model(tiny_config(encoder, encoder == "cnn" ? "dot" : "additive", pair, 3));
  model->to(dtype);
  const std::vector<Text> originals = {
      {{4, 5, 6, 7, 8, 5, 9}, {10, 11}}, {{9}, {12, 13, 14}}, {{10, 11, 12}, {4}}, {{13, 4, 15, 16}, {5, 6, 7, 8}}};
  Rng rng(17);
  std::vector<Variant> variants;
  for (int rep = 0; rep < 12; ++rep)
    for (int64_t r = 0; r < static_cast<int64_t>(originals.size()); ++r) {
      Text o = originals[r];
      if (!pair) o.b.clear();
      variants.push_back(make_variant(r, o, random_edits(rng, o, pair)));
    }
  // Fixed cases: every token deleted, the first and the last replaced, an append, unchanged.
  std::vector<Edit> all;
  for (int64_t p = 0; p < 3; ++p) all.push_back({EditKind::kDelete, 0, p});
  Text o2 = originals[2];
  if (!pair) o2.b.clear();
  variants.push_back(make_variant(2, o2, all));
  Text o0 = originals[0];
  if (!pair) o0.b.clear();
  variants.push_back(make_variant(0, o0, {{EditKind::kReplace, 0, 0, 17}, {EditKind::kReplace, 0, 6, 18}}));
  variants.push_back(make_variant(0, o0, {{EditKind::kInsert, 0, 7, 19}}));
  variants.push_back(make_variant(0, o0, {}));
  std::vector<Text> given = originals;
  if (!pair)
    for (auto& t : given) t.b.clear();
  const at::Tensor alone = one_at_a_time(model, variants, pair);
  const double tol = dtype == torch::kDouble ? 1e-10 : 1e-5;
  for (bool reuse : {true, false})
    for (int64_t max_tokens : {int64_t{1}, int64_t{40}, int64_t{100000}}) {
      EvaluatorOptions eo;
      eo.reuse = reuse;
      eo.max_tokens = max_tokens;
      EvaluatorStats stats;
      const at::Tensor batched = evaluate_variants(model, given, variants, eo, &stats);
      const std::string label = encoder + (pair ? " pair" : " single") + (reuse ? " reuse" : " plain") +
                                " max_tokens " + std::to_string(max_tokens) +
                                (dtype == torch::kDouble ? " float64" : " float32");
      EXPECT_LT((batched - alone).abs().max().item<double>(), tol) << label;
      EXPECT_EQ(stats.variants, static_cast<int64_t>(variants.size())) << label;
      EXPECT_EQ(stats.reused > 0, reuse && encoder == "lstm") << label;
      if (max_tokens == 100000) EXPECT_EQ(stats.passes, 1) << label;
    }
}

TEST(VariantEvaluator, EqualsEachEditedTextAloneForEveryEncoder) {
  for (const char* enc : {"lstm", "cnn", "average", "transformer"})
    for (bool pair : {false, true})
      for (auto dtype : {torch::kDouble, torch::kFloat}) expect_equal_to_one_at_a_time(enc, pair, dtype);
}

TEST(VariantEvaluator, FusedEditKernelEqualsTheFullRecurrence) {
  // The kernel directly: fused_lstm_edits against fused_lstm on the edited sequences.
  torch::manual_seed(5);
  const int64_t E = 5, H = 3;
  at::Tensor emb = torch::randn({12, E}, torch::kDouble);
  at::Tensor w_ih = torch::randn({8 * H, E}, torch::kDouble), w_hh = torch::randn({8 * H, H}, torch::kDouble),
             bias = torch::randn({8 * H}, torch::kDouble);
  const at::Tensor ids = torch::tensor({{2, 4, 5, 6, 7, 3}, {2, 8, 9, 3, 0, 0}}, torch::kInt64);
  const at::Tensor len = torch::tensor({6, 4}, torch::kInt64);
  // 0: row 0 with position 2 replaced; 1: row 1 with a token inserted after position 1;
  // 2: row 0 with positions 1-2 deleted; 3: row 1 unchanged; 4: row 0 with its ends replaced.
  const at::Tensor ids_v = torch::tensor({{2, 4, 11, 6, 7, 3}, {2, 8, 10, 9, 3, 0}, {2, 6, 7, 3, 0, 0},
                                          {2, 8, 9, 3, 0, 0}, {1, 4, 5, 6, 7, 1}},
                                         torch::kInt64);
  const std::vector<int64_t> lv = {6, 5, 4, 4, 6};
  models::LstmEditPlan plan{{0, 1, 0, 1, 0}, {2, 2, 1, 4, 0}, {3, 2, 3, 0, 0}};
  const at::Tensor fast = models::fused_lstm_edits(emb, ids, len, ids_v, torch::tensor(lv), w_ih, w_hh, bias, 2, plan);
  const at::Tensor full =
      models::fused_lstm(emb.index_select(0, ids_v.view(-1)).view({5, 6, E}), torch::tensor(lv), w_ih, w_hh, bias, 2)
          .output;
  EXPECT_LT((fast - full).abs().max().item<double>(), 1e-12);
  models::LstmEditPlan bad{{0, 1, 0, 1, 0}, {4, 2, 1, 4, 0}, {3, 2, 3, 0, 0}};
  EXPECT_THROW(models::fused_lstm_edits(emb, ids, len, ids_v, torch::tensor(lv), w_ih, w_hh, bias, 2, bad),
               InvalidArgument);
}

TEST(Edits, ApplyInOriginalPositionsAndRejectConflicts) {
  const std::vector<int64_t> ids = {10, 11, 12, 13};
  // Insert before 0, replace 1, delete 2, append.
  const std::vector<Edit> e = {{EditKind::kDelete, 0, 2}, {EditKind::kInsert, 0, 0, 7}, {EditKind::kReplace, 0, 1, 8},
                               {EditKind::kInsert, 0, 4, 9}};
  EXPECT_EQ(apply_edits(ids, e), (std::vector<int64_t>{7, 10, 8, 13, 9}));
  EXPECT_NO_THROW(check_edits(e, 4, 0));
  EXPECT_THROW(check_edits({{EditKind::kDelete, 0, 4}}, 4, 0), InvalidArgument);
  EXPECT_THROW(check_edits({{EditKind::kDelete, 0, 1}, {EditKind::kReplace, 0, 1, 5}}, 4, 0), InvalidArgument);
  EXPECT_THROW(check_edits({{EditKind::kReplace, 0, 1}}, 4, 0), InvalidArgument);  // no token
  EXPECT_THROW(check_edits({{EditKind::kReplace, 1, 0, 5}}, 4, 0), InvalidArgument);  // no second text
  const std::vector<std::string> words = {"a", "b", "c", "d"}, vocab = {"<pad>", "<unk>", "<s>", "</s>", "x", "y"};
  std::vector<Edit> w = {{EditKind::kReplace, 0, 0, 1, "frööd"}, {EditKind::kInsert, 0, 2, 5}};
  EXPECT_EQ(apply_edits(words, w, vocab), (std::vector<std::string>{"frööd", "b", "y", "c", "d"}));
  const Edit back = Edit::from_json(w[0].to_json());
  EXPECT_EQ(back.word, "frööd");
  EXPECT_EQ(back.token, 1);
}

}  // namespace
}  // namespace lumen::perturb
