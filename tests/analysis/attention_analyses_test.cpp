// The analyses of Jain & Wallace (2019) against known answers: leave-one-out against
// one-at-a-time recomputation and its fast paths against the plain one, the permutation test
// on models with closed-form answers, the adversarial kernel against its autograd twin, and
// every reported adversarial distribution re-checked by an independent forward pass.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "analysis/adversarial_attention.h"
#include "analysis/jain_wallace.h"
#include "analysis/decision.h"
#include "analysis/gradient_importance.h"
#include "analysis/leave_one_out.h"
#include "analysis/permutation.h"
#include "core/error.h"
#include "explain/common.h"
#include "explain/explainer.h"
#include "support/fixtures.h"
#include "train/trainer.h"

namespace lumen::analysis {
namespace {

using test::batch_of;
using test::tiny_config;

data::EncodedSet set_of(const std::vector<std::vector<int64_t>>& a, const std::vector<std::vector<int64_t>>& b = {}) {
  data::EncodedSet s;
  s.ids = a;
  s.ids_b = b;
  s.pair = !b.empty();
  s.labels.assign(a.size(), 0);
  return s;
}

const std::vector<std::vector<int64_t>> kTexts = {{4, 5, 6, 7, 8, 9}, {10, 11}, {12, 4, 4, 13}, {14}, {15, 16, 17}};
const std::vector<std::vector<int64_t>> kQuestions = {{5, 6}, {7}, {8, 9, 10}, {11, 12}, {13}};

std::vector<std::vector<double>> outputs(models::TextClassifier& model, const data::EncodedSet& set) {
  torch::NoGradGuard ng;
  std::vector<std::vector<double>> out;
  for (int64_t i = 0; i < set.size(); ++i) {
    at::Tensor p = output_probs(model->forward(set.batch({i})).logits).contiguous();
    out.emplace_back(p.data_ptr<double>(), p.data_ptr<double>() + p.size(1));
  }
  return out;
}

std::vector<int64_t> all_rows(const data::EncodedSet& s) {
  std::vector<int64_t> r(s.size());
  for (int64_t i = 0; i < s.size(); ++i) r[i] = i;
  return r;
}

class LeaveOneOut : public test::SeededTest {};

TEST_F(LeaveOneOut, PlainPathEqualsDeletingEachTokenByHand) {
  models::TextClassifier model(tiny_config("lstm", "additive", false));
  model->eval();
  const auto set = set_of(kTexts);
  const auto orig = outputs(model, set);
  const auto loo = leave_one_out(model, set, all_rows(set), orig, {false});
  torch::NoGradGuard ng;
  for (size_t i = 0; i < kTexts.size(); ++i) {
    ASSERT_EQ(loo[i].size(), kTexts[i].size());
    for (size_t t = 0; t < kTexts[i].size(); ++t) {
      if (kTexts[i].size() == 1) {
        EXPECT_TRUE(std::isnan(loo[i][t]));
        continue;
      }
      std::vector<int64_t> shorter = kTexts[i];
      shorter.erase(shorter.begin() + t);
      const double p_new = torch::sigmoid(model->forward(batch_of({shorter})).logits[0][1]).item<double>();
      EXPECT_NEAR(loo[i][t], std::fabs(p_new - orig[i][1]), 1e-7) << i << "," << t;
    }
  }
}

TEST_F(LeaveOneOut, FastPathsEqualThePlainOneForEveryEncoderSingleAndPair) {
  for (const std::string enc : {"lstm", "cnn", "average", "transformer"})
    for (const std::string att : {"additive", "dot", "uniform"})
      for (bool pair : {false, true}) {
        if (pair && att == "uniform") continue;
        torch::manual_seed(1);
        models::TextClassifier model(tiny_config(enc, att, pair, pair ? 3 : 2));
        model->eval();
        const auto set = pair ? set_of(kTexts, kQuestions) : set_of(kTexts);
        const auto orig = outputs(model, set);
        const auto plain = leave_one_out(model, set, all_rows(set), orig, {false});
        LooOptions fast;
        fast.max_rows = 7;  // several chunks
        const auto got = leave_one_out(model, set, all_rows(set), orig, fast);
        for (size_t i = 0; i < plain.size(); ++i)
          for (size_t t = 0; t < plain[i].size(); ++t) {
            if (std::isnan(plain[i][t])) {
              EXPECT_TRUE(std::isnan(got[i][t]));
              continue;
            }
            EXPECT_NEAR(got[i][t], plain[i][t], 1e-5) << enc << " " << att << " pair " << pair << " " << i << "," << t;
          }
      }
}

class Permutation : public test::SeededTest {};

Decision decision_of(models::TextClassifier& model, const data::Batch& batch, int64_t row = 0) {
  torch::NoGradGuard ng;
  models::Encoded enc = model->encode(model->embed(batch.ids), batch, {});
  return make_decisions(model, enc, batch)[row];
}

TEST_F(Permutation, IsExactlyZeroWhenTheOutputIgnoresAttention) {
  for (const std::string enc : {"lstm", "average", "cnn"}) {
    models::TextClassifier model(tiny_config(enc, "additive", false));
    model->eval();
    {
      torch::NoGradGuard ng;
      for (auto& p : model->named_parameters())
        if (p.key() == "out.weight") p.value().zero_();  // logits = bias, whatever the attention
    }
    const Decision d = decision_of(model, batch_of({kTexts[0]}));
    const auto r = permutation_test(model, d, 100, 7);
    EXPECT_EQ(r.median_tvd, 0.0) << enc;
    EXPECT_EQ(r.mean_tvd, 0.0) << enc;
  }
}

TEST_F(Permutation, MatchesTheClosedFormOfAnAttentionWeightedSum) {
  // Binary model: z = sum_i a_i s_i + b with s_i = w . h_i, so a permutation pi gives
  // |sigmoid(sum_i a_pi(i) s_i + b) - sigmoid(sum_i a_i s_i + b)|.
  models::TextClassifier model(tiny_config("average", "additive", false));
  model->eval();
  torch::NoGradGuard ng;
  const data::Batch batch = batch_of({kTexts[0]});
  const models::ModelOutput out = model->forward(batch);
  at::Tensor w, b;
  for (auto& p : model->named_parameters()) {
    if (p.key() == "out.weight") w = p.value().to(torch::kDouble);
    if (p.key() == "out.bias") b = p.value().to(torch::kDouble);
  }
  const int64_t n = static_cast<int64_t>(kTexts[0].size());
  at::Tensor h = out.states[0].narrow(0, 1, n).to(torch::kDouble);  // real tokens follow <s>
  at::Tensor a = out.pooling_attention[0].narrow(0, 1, n).to(torch::kDouble);
  at::Tensor s = torch::mv(h, w[0]);
  const double bias = b[0].item<double>();
  const double p0 = torch::sigmoid(torch::dot(a, s) + bias).item<double>();
  const Decision d = decision_of(model, batch);
  std::vector<std::vector<int64_t>> perms = {{5, 4, 3, 2, 1, 0}, {1, 0, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, {3, 5, 0, 1, 4, 2}};
  const auto got = permutation_tvds(model, d, perms);
  for (size_t k = 0; k < perms.size(); ++k) {
    double z = bias;
    for (int64_t t = 0; t < n; ++t) z += a[perms[k][t]].item<double>() * s[t].item<double>();
    EXPECT_NEAR(got[k], std::fabs(1 / (1 + std::exp(-z)) - p0), 1e-6) << k;
  }
  EXPECT_NEAR(got[2], 0.0, 1e-12);  // the identity
  // The median over random permutations is the median of these closed forms.
  const auto r = permutation_test(model, d, 101, 3);
  EXPECT_GE(r.median_tvd, 0.0);
  EXPECT_NEAR(r.max_attention, a.max().item<double>(), 1e-7);
}

TEST_F(Permutation, PairModelsUseTheirOwnDecoder) {
  models::TextClassifier model(tiny_config("lstm", "additive", true, 3));
  model->eval();
  const data::Batch batch = batch_of({kTexts[0]}, {kQuestions[0]});
  const Decision d = decision_of(model, batch);
  ASSERT_FALSE(d.affine());
  std::vector<int64_t> rev = {5, 4, 3, 2, 1, 0};
  const double got = permutation_tvds(model, d, {rev})[0];
  // Independent check: the model's forward with the permuted weights as an intervention.
  torch::NoGradGuard ng;
  at::Tensor w = torch::zeros({1, batch.ids.size(1)});
  for (int64_t t = 0; t < 6; ++t) w[0][t + 1] = d.attention[rev[t]];
  models::ForwardOptions o;
  o.interventions.push_back({models::AttentionIntervention::Mode::kReplace, -1, w});
  at::Tensor p = output_probs(model->forward(batch, o).logits)[0];
  double tv = 0;
  for (int64_t c = 0; c < 3; ++c) tv += std::fabs(p[c].item<double>() - d.probs[c]);
  EXPECT_NEAR(got, 0.5 * tv, 1e-6);
}

class Adversarial : public test::SeededTest {};

TEST_F(Adversarial, FastKernelEqualsTheAutogradTwinStepForStep) {
  for (int64_t classes : {2, 3}) {
    torch::manual_seed(2);
    models::TextClassifier model(tiny_config("lstm", "additive", false, classes));
    model->eval();
    const data::Batch batch = batch_of({kTexts[0], kTexts[2], kTexts[1]});
    std::vector<Decision> ds;
    for (int64_t r = 0; r < 3; ++r) ds.push_back(decision_of(model, batch, r));
    AdversarialOptions o;
    o.steps = 40;
    o.margin = 0.0;  // keep the output penalty active
    o.float32 = false;
    std::vector<std::vector<double>> fast, fast32, plain;
    for (size_t i = 0; i < ds.size(); ++i) {
      fast.push_back(adversarial_init(ds[i], o, 10 + i));
      plain.push_back(fast.back());
      fast32.push_back(fast.back());
      adversarial_optimize_fast(ds[i], o, fast.back());
      AdversarialOptions o32 = o;
      o32.float32 = true;
      adversarial_optimize_fast(ds[i], o32, fast32.back());
    }
    std::vector<const Decision*> ptrs = {&ds[0], &ds[1], &ds[2]};
    adversarial_optimize_plain(model, ptrs, o, plain);
    for (size_t i = 0; i < ds.size(); ++i)
      for (size_t k = 0; k < fast[i].size(); ++k) {
        EXPECT_NEAR(fast[i][k], plain[i][k], 1e-7) << classes << " " << i;  // float64 kernel: the same steps
        EXPECT_NEAR(fast32[i][k], plain[i][k], 2e-3) << classes << " " << i;  // float32: rounding only
      }
    // The search moved: the candidates are not where they started.
    const auto start = adversarial_init(ds[0], o, 10);
    double moved = 0;
    for (size_t k = 0; k < start.size(); ++k) moved = std::max(moved, std::fabs(start[k] - fast[0][k]));
    EXPECT_GT(moved, 0.1);
  }
}

// Separate code: the model's own forward pass with the reported distribution as an intervention.
double recheck_tvd(models::TextClassifier& model, const data::Batch& one, const std::vector<double>& attention) {
  torch::NoGradGuard ng;
  at::Tensor w = torch::zeros({1, one.ids.size(1)});
  for (size_t t = 0; t < attention.size(); ++t) w[0][t + 1] = attention[t];
  models::ForwardOptions o;
  o.interventions.push_back({models::AttentionIntervention::Mode::kReplace, -1, w});
  at::Tensor p = output_probs(model->forward(one, o).logits)[0];
  at::Tensor p0 = output_probs(model->forward(one).logits)[0];
  return 0.5 * (p - p0).abs().sum().item<double>();
}

TEST_F(Adversarial, EveryReportedDistributionKeepsTheOutputWithinEpsilon) {
  for (const std::string enc : {"lstm", "average"})
    for (bool pair : {false, true}) {
      torch::manual_seed(4);
      models::TextClassifier model(tiny_config(enc, "additive", pair, pair ? 3 : 2));
      model->eval();
      std::vector<std::vector<int64_t>> texts(kTexts.begin(), kTexts.begin() + 3), qs(kQuestions.begin(), kQuestions.begin() + 3);
      const data::Batch batch = pair ? batch_of(texts, qs) : batch_of(texts);
      std::vector<Decision> ds;
      for (int64_t r = 0; r < 3; ++r) ds.push_back(decision_of(model, batch, r));
      AdversarialOptions o;
      o.steps = 150;
      for (double eps : {0.01, 0.05}) {
        o.epsilon = eps;
        const auto res = adversarial_attention(model, ds, {1, 2, 3}, o);
        int64_t found = 0;
        for (int64_t r = 0; r < 3; ++r) {
          const auto& a = res[r].attention;
          double sum = 0;
          for (double x : a) sum += x;
          EXPECT_NEAR(sum, 1.0, 1e-9);
          const data::Batch one = pair ? batch_of({texts[r]}, {qs[r]}) : batch_of({texts[r]});
          EXPECT_LE(recheck_tvd(model, one, a), eps + 1e-6) << enc << " pair " << pair << " row " << r;
          EXPECT_NEAR(res[r].jsd, jsd(a.data(), ds[r].attention.data(), ds[r].n), 1e-12);
          EXPECT_LE(res[r].jsd, std::log(2.0) + 1e-12);
          found += res[r].jsd > 0;
        }
        EXPECT_GT(found, 0) << enc << " pair " << pair;  // the search finds something on tiny random models
      }
    }
}

TEST_F(Adversarial, SeveralEpsilonsSelectFromTheSameCandidatesMonotonically) {
  models::TextClassifier model(tiny_config("average", "additive", false));
  model->eval();
  const data::Batch batch = batch_of({kTexts[0], kTexts[2]});
  std::vector<Decision> ds = {decision_of(model, batch, 0), decision_of(model, batch, 1)};
  AdversarialOptions o;
  o.steps = 100;
  o.epsilon = 0.05;
  o.more_epsilons = {0.0, 0.01, 0.2};
  const auto res = adversarial_attention(model, ds, {5, 6}, o);
  for (const auto& r : res) {
    ASSERT_EQ(r.by_epsilon.size(), 4u);
    EXPECT_EQ(r.by_epsilon[0][1], r.jsd);  // the primary selection
    EXPECT_EQ(r.by_epsilon[1][1], 0.0);    // epsilon 0: only the original qualifies (or an exact tie)
    EXPECT_LE(r.by_epsilon[2][1], r.by_epsilon[0][1]);  // 0.01 <= 0.05 <= 0.2
    EXPECT_LE(r.by_epsilon[0][1], r.by_epsilon[3][1]);
    for (const auto& e : r.by_epsilon) EXPECT_LE(e[2], e[0]);
  }
}

TEST_F(Adversarial, RejectsBadOptions) {
  AdversarialOptions o;
  o.candidates = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.epsilon = 2;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

class Gradient : public test::SeededTest {};

TEST_F(Gradient, BatchedImportanceEqualsEachRowAloneAndTheDefinition) {
  models::TextClassifier model(tiny_config("lstm", "additive", false));
  model->eval();
  const data::Batch batch = batch_of({kTexts[0], kTexts[1], kTexts[2]});
  const auto batched = gradient_importance(model, batch).importance;
  for (int64_t r = 0; r < 3; ++r) {
    const data::Batch one = batch_of({kTexts[r]});
    at::Tensor emb = model->embed(one.ids).detach().requires_grad_(true);
    models::ForwardOptions o;
    o.detach_attention = true;
    at::Tensor p = torch::softmax(model->forward_from_embeddings(emb, one, o).logits, 1)[0];
    at::Tensor target = p[p.argmax().item<int64_t>()];
    at::Tensor g = torch::autograd::grad({target}, {emb})[0][0];
    const int64_t n = static_cast<int64_t>(kTexts[r].size());
    ASSERT_EQ(static_cast<int64_t>(batched[r].size()), n);
    for (int64_t t = 0; t < n; ++t) {
      const double want = std::fabs((g[t + 1] * emb[0][t + 1]).sum().item<double>());
      EXPECT_NEAR(batched[r][t], want, 1e-6 + 1e-4 * want) << r << "," << t;
    }
  }
}

TEST_F(Gradient, DetachingAttentionChangesTheGradient) {
  // With attention detached, gradients do not flow through the scorer: a different quantity.
  models::TextClassifier model(tiny_config("average", "additive", false));
  model->eval();
  const data::Batch one = batch_of({kTexts[0]});
  const auto detached = gradient_importance(model, one).importance[0];
  at::Tensor emb = model->embed(one.ids).detach().requires_grad_(true);
  at::Tensor p = torch::softmax(model->forward_from_embeddings(emb, one).logits, 1)[0];
  at::Tensor g = torch::autograd::grad({p[p.argmax().item<int64_t>()]}, {emb})[0][0];
  double diff = 0;
  for (int64_t t = 0; t < 6; ++t) diff += std::fabs(detached[t] - std::fabs((g[t + 1] * emb[0][t + 1]).sum().item<double>()));
  EXPECT_GT(diff, 1e-6);
}

}  // namespace
}  // namespace lumen::analysis

namespace lumen::analysis {
namespace {

// "The attention a token receives in layer k" is one quantity: what `lumen analyze
// --attention-layer k` correlates with the importances is what `lumen explain --methods
// attention --layer k` shows, for one head and for the mean over heads; and it is the mean over
// the non-padding queries of the map, computed here by hand.
TEST(LayerAttention, AnalyzeAndExplainReadTheSameReceivedAttention) {
  torch::manual_seed(11);
  models::TextClassifier model(test::tiny_config("transformer", "additive", false, 2));
  model->to(torch::kDouble);
  model->eval();
  std::vector<data::Example> examples;
  for (const auto& words : std::vector<std::vector<std::string>>{{"a", "b", "c", "d"}, {"e", "f"}, {"g", "a", "h"}}) {
    data::Example e;
    e.tokens = words;
    e.label = 0;
    examples.push_back(e);
  }
  const data::Vocab vocab = data::Vocab::build({&examples[0].tokens, &examples[1].tokens, &examples[2].tokens}, 1);
  const data::Batch batch = data::make_batch({&examples[0], &examples[1], &examples[2]}, vocab, false);
  const explain::AttentionMaps maps = explain::attention_maps(model, batch);
  for (int64_t head : {-1, 1}) {
    AnalysisOptions o;
    o.loo = o.permutation = o.adversarial = o.gradient = false;
    o.progress = false;
    o.attention_layer = 1;
    o.attention_head = head;
    const AnalysisResult analysed = analyze(model, examples, vocab, false, o);
    explain::ExplainOptions eo;
    eo.attention.layer = 1;
    eo.attention.head = head;
    const auto shown = explain::split_rows("attention", explain::make_explainer("attention")->explain(model, batch, eo), batch);
    for (size_t r = 0; r < examples.size(); ++r) {
      const int64_t n = batch.lengths[r].item<int64_t>();
      at::Tensor a = maps.layers[1][r];
      a = (head < 0 ? a.mean(0) : a[head]).narrow(0, 0, n).narrow(1, 0, n);  // non-padding queries and keys
      const at::Tensor by_hand = a.mean(0);                                    // mean over the n queries
      ASSERT_EQ(analysed.records[r].attention.size(), examples[r].tokens.size());
      for (size_t t = 0; t < examples[r].tokens.size(); ++t) {
        EXPECT_NEAR(analysed.records[r].attention[t], shown[r].scores[t], 1e-12) << "head " << head;
        EXPECT_NEAR(shown[r].scores[t], by_hand[t + 1].item<double>(), 1e-12) << "head " << head;
      }
    }
  }
}

}  // namespace
}  // namespace lumen::analysis
