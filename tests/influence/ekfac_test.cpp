// EK-FAC and K-FAC (issue #12, must show 1): the factors equal the exact Gauss-Newton matrix on
// a one-layer model where it is a Kronecker product (one example); EK-FAC approximates it better
// than K-FAC on many; recorded per-example layer gradients equal autograd's; the method's
// self-influence is the diagonal of its pairwise scores.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "data/spec.h"
#include "influence/ekfac.h"
#include "influence/gradients.h"
#include "influence/influence.h"
#include "support/fixtures.h"

namespace lumen::influence {
namespace {

struct Task {
  data::Vocab vocab;
  data::EncodedSet train;
};

const Task& task() {
  static Task t = [] {
    configure_threads(0);
    Task r;
    data::Dataset ds = data::load_dataset(data::parse_data_spec("synthetic-keywords?n=120&length=8"));
    std::vector<const std::vector<std::string>*> texts;
    for (const auto& e : ds.train) texts.push_back(&e.tokens);
    r.vocab = data::Vocab::build(texts, 1);
    std::vector<data::Example> train(ds.train.begin(), ds.train.begin() + 40);
    r.train = data::EncodedSet::from(train, r.vocab, false);
    return r;
  }();
  return t;
}

models::TextClassifier make_model(const std::string& encoder, int64_t classes) {
  torch::manual_seed(4);
  models::ModelConfig c = test::tiny_config(encoder, "additive", false, classes);
  c.vocab_size = task().vocab.size();
  models::TextClassifier m(c);
  m->to(torch::kDouble);
  m->eval();
  return m;
}

// Labels in 0..C-1 for a C-class model on the binary task.
data::EncodedSet relabel(const data::EncodedSet& s, int64_t C) {
  data::EncodedSet out = s;
  for (size_t i = 0; i < out.labels.size(); ++i) out.labels[i] = static_cast<int64_t>(i) % C;
  return out;
}

// The exact Gauss-Newton matrix of the mean weighted loss on the decoder [C, m + 1] layout.
at::Tensor exact_gauss_newton(models::TextClassifier& model, const train::TrainingLoss& loss, const data::EncodedSet& set) {
  const Features f = decoder_features(model, set);
  const int64_t n = set.size(), m = f.context.size(1);
  auto sel = select_parameters(model, "last");
  const at::Tensor p = torch::softmax(model->decoder_with(detached_values(sel), f.context, f.query), 1);
  at::Tensor G = torch::zeros({p.size(1) * (m + 1), p.size(1) * (m + 1)}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor a = torch::cat({f.context[i], torch::ones({1}, torch::kDouble)});
    const double w = loss.class_weights[set.labels[i]].item<double>();
    const at::Tensor H = w * (torch::diag(p[i]) - torch::outer(p[i], p[i]));
    G += torch::kron(H, torch::outer(a, a));
  }
  return G / static_cast<double>(n);
}

at::Tensor dense(const KfacLayer& l) {
  const at::Tensor Q = torch::kron(l.qs, l.qa);
  return torch::mm(Q * l.lambda.reshape({-1}).unsqueeze(0), Q.t());
}

TEST(Ekfac, EqualsTheExactGaussNewtonWhereItIsAKroneckerProductAndBeatsKfacElsewhere) {
  const Task& t = task();
  auto model = make_model("average", 3);
  const data::EncodedSet three = relabel(t.train, 3);
  const auto loss = train::TrainingLoss::make(three, 3, false, "none", 0.0);
  const auto layers = kfac_layers(model, "last");
  ASSERT_EQ(layers, std::vector<std::string>{"decoder.out"});
  // One example: the Gauss-Newton block is H_out (x) a a^T; both factorisations are exact.
  data::EncodedSet one;
  one.ids = {three.ids[0]};
  one.labels = {three.labels[0]};
  const at::Tensor G1 = exact_gauss_newton(model, loss, one);
  for (bool corrected : {true, false}) {
    const KfacFactors f = fit_kfac(model, loss, one, layers, corrected, 0.1);
    EXPECT_LT((dense(f.layers[0]) - G1).abs().max().item<double>(), 1e-10) << corrected;
    // And the inverse applied in the eigenbasis is the exact damped solve.
    const at::Tensor v = torch::randn({f.layers[0].out, f.layers[0].in}, torch::kDouble);
    const KfacLayer& l = f.layers[0];
    const at::Tensor x = torch::mm(torch::mm(l.qs, torch::mm(torch::mm(l.qs.t(), v), l.qa) / (l.lambda + l.damping)), l.qa.t());
    const at::Tensor exact =
        torch::linalg_solve(G1 + l.damping * torch::eye(G1.size(0), torch::kDouble), v.reshape({-1, 1})).reshape(v.sizes());
    EXPECT_LT((x - exact).abs().max().item<double>(), 1e-9);
  }
  // Forty examples: EK-FAC's eigenvalues are the best in K-FAC's eigenbasis, so its error is smaller.
  const at::Tensor G = exact_gauss_newton(model, loss, three);
  const double e_ek = (dense(fit_kfac(model, loss, three, layers, true, 0.1).layers[0]) - G).norm().item<double>();
  const double e_k = (dense(fit_kfac(model, loss, three, layers, false, 0.1).layers[0]) - G).norm().item<double>();
  EXPECT_LE(e_ek, e_k);
  RecordProperty("frobenius_error_ekfac_over_kfac", std::to_string(e_ek / e_k));
}

TEST(Ekfac, RecordedLayerGradientsEqualAutogradPerExampleGradients) {
  const Task& t = task();
  auto model = make_model("lstm", 2);
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "auto", 1e-4);
  const auto layers = kfac_layers(model, "all");
  EXPECT_NE(std::find(layers.begin(), layers.end(), "encoder.fwd.ih"), layers.end());
  EXPECT_NE(std::find(layers.begin(), layers.end(), "attention.w"), layers.end());
  const KfacFactors f = fit_kfac(model, loss, t.train, layers, true, 0.01);
  const std::vector<int64_t> rows = {0, 2, 5};
  const auto G = layer_gradients(model, loss, t.train, rows, f, {}, /*rotate=*/false);
  auto sel = select_parameters(model, "all");
  PerExampleGradients pg(model, loss, sel);
  const at::Tensor plain = pg.compute_plain(t.train, rows);
  // Map the layers back to the model's parameter layout.
  auto slice = [&](const std::string& name) {
    int64_t at = 0;
    for (size_t i = 0; i < sel.names.size(); ++i) {
      if (sel.names[i] == name) return std::make_pair(at, sel.tensors[i]);
      at += sel.tensors[i].numel();
    }
    ADD_FAILURE() << name;
    return std::make_pair(int64_t(0), at::Tensor());
  };
  const int64_t H = model->config().hidden, E = model->config().embed_dim;
  for (size_t l = 0; l < layers.size(); ++l) {
    const KfacLayer& k = f.layers[l];
    at::Tensor w_plain, b_plain;
    if (layers[l] == "decoder.out" || layers[l] == "attention.w") {
      const std::string prefix = layers[l] == "decoder.out" ? "out" : "attention.w";
      auto [wa, wt] = slice(prefix + ".weight");
      auto [ba, bt] = slice(prefix + ".bias");
      w_plain = plain.narrow(1, wa, wt.numel()).reshape({3, wt.size(0), wt.size(1)});
      b_plain = plain.narrow(1, ba, bt.numel()).reshape({3, bt.size(0)});
    } else if (layers[l] == "encoder.fwd.ih") {
      auto [wa, wt] = slice("encoder.w_ih");
      auto [ba, bt] = slice("encoder.b_ih");
      w_plain = plain.narrow(1, wa, wt.numel()).reshape({3, 8 * H, E}).narrow(1, 0, 4 * H);
      b_plain = plain.narrow(1, ba, bt.numel()).reshape({3, 8 * H}).narrow(1, 0, 4 * H);
    } else {
      continue;
    }
    EXPECT_LT((G[l].narrow(2, 0, k.in - 1) - w_plain).abs().max().item<double>(), 1e-10) << layers[l];
    EXPECT_LT((G[l].select(2, k.in - 1) - b_plain).abs().max().item<double>(), 1e-10) << layers[l];
  }
}

TEST(Ekfac, SelfInfluenceIsTheDiagonalOfPairwiseScores) {
  const Task& t = task();
  auto model = make_model("lstm", 2);
  const auto loss = train::TrainingLoss::make(t.train, 2, false, "none", 1e-4);
  InfluenceInputs in;
  in.model = model;
  in.config = model->config();
  in.train = &t.train;
  in.test = &t.train;
  in.loss = loss;
  in.test_labels = t.train.labels;
  for (const std::string method : {"ekfac", "kfac"}) {
    InfluenceOptions o;
    o.method = method;
    o.params = "all";
    o.self_influence = true;
    const InfluenceResult r = compute_influence(in, o);
    ASSERT_TRUE(r.scores.defined());
    for (int64_t i = 0; i < t.train.size(); ++i)
      EXPECT_NEAR(r.self_influence[i], r.scores[i][i].item<double>(), 1e-9 * std::max(1.0, std::abs(r.self_influence[i])));
  }
}

}  // namespace
}  // namespace lumen::influence
