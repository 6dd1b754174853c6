// The model contract for every encoder x attention x (single | pair): gradients against finite
// differences in float64, padding invariance (and a mask-ignoring negative control that fails
// it), attention that sums to 1 over real tokens and is 0 elsewhere, interventions, checkpoints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

struct Case {
  std::string encoder, attention;
  bool pair;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.encoder << "/" << c.attention << (c.pair ? "/pair" : "/single"); }
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.encoder + "_" + info.param.attention + (info.param.pair ? "_pair" : "_single");
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* e : {"lstm", "ortho-lstm", "cnn", "average", "transformer"})
    for (const char* a : {"additive", "dot"})
      for (bool pair : {false, true}) cases.push_back({e, a, pair});
  return cases;
}

class ModelContract : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  TextClassifier make(torch::Dtype dtype = torch::kFloat) {
    const Case& c = GetParam();
    TextClassifier m(test::tiny_config(c.encoder, c.attention, c.pair, c.pair ? 3 : 2));
    m->to(dtype);
    m->eval();
    return m;
  }
  // Three texts of lengths 5, 2, 4 (and their second texts for pairs).
  data::Batch batch() const {
    if (GetParam().pair) return test::batch_of({{4, 5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}}, {{5, 6}, {7, 8, 9}, {10}});
    return test::batch_of({{4, 5, 6, 7, 8}, {9, 10}, {11, 12, 13, 14}});
  }
};

TEST_P(ModelContract, GradientsMatchFiniteDifferencesInFloat64) {
  auto model = make(torch::kDouble);
  const auto b = batch();
  const at::Tensor weights = torch::randn({3, GetParam().pair ? 3 : 2}, torch::kDouble);
  auto f = [&](const at::Tensor& emb) { return (model->forward_from_embeddings(emb, b).logits * weights).sum(); };
  const at::Tensor emb = model->embed(b.ids).detach();
  EXPECT_LT(test::max_directional_error(f, emb), 1e-5);
  // And with respect to the attention scorer's and the encoder's parameters.
  for (auto& p : model->named_parameters()) {
    if (p.key().find("embedding") != std::string::npos) continue;
    at::Tensor param = p.value();
    auto g = [&](const at::Tensor& v) {
      torch::NoGradGuard ng;
      const at::Tensor saved = param.detach().clone();
      param.detach().copy_(v.detach());
      const at::Tensor out = (model->forward(b).logits * weights).sum();
      param.detach().copy_(saved);
      return out;
    };
    // Central differences of g against autograd's gradient of the same function.
    model->zero_grad();
    (model->forward(b).logits * weights).sum().backward();
    const at::Tensor grad = param.grad().clone();
    at::Tensor u = torch::randn_like(param);
    const double eps = 1e-6;
    const double fd = (g(param + eps * u).item<double>() - g(param - eps * u).item<double>()) / (2 * eps);
    const double ad = (grad * u).sum().item<double>();
    EXPECT_NEAR(ad, fd, 1e-5 * std::max(1.0, std::abs(fd))) << p.key();
  }
}

TEST_P(ModelContract, OneTextAloneEqualsItsRowInAPaddedBatch) {
  auto model = make();
  torch::NoGradGuard ng;
  const auto b = batch();
  const auto out = model->forward(b);
  for (int64_t i = 0; i < 3; ++i) {
    const auto row = data::select_rows(b, torch::tensor({i}));
    const auto alone = model->forward(row);
    EXPECT_TRUE(torch::allclose(alone.logits[0], out.logits[i], 1e-6, 1e-6)) << "row " << i;
    const int64_t t = row.ids.size(1);
    EXPECT_TRUE(torch::allclose(alone.pooling_attention[0], out.pooling_attention[i].narrow(0, 0, t), 1e-6, 1e-6));
  }
}

TEST_P(ModelContract, IgnoringThePaddingMaskBreaksPaddingInvariance) {
  // Negative control (M10): the same check must fail for a model that forgets the mask.
  auto model = make();
  torch::NoGradGuard ng;
  ForwardOptions broken;
  broken.ignore_padding_mask = true;
  const auto b = batch();
  const auto out = model->forward(b, broken);
  const auto alone = model->forward(data::select_rows(b, torch::tensor({1})), broken);
  EXPECT_GT((alone.logits[0] - out.logits[1]).abs().max().item<double>(), 1e-4);
}

TEST_P(ModelContract, AttentionSumsToOneOverRealTokensAndIsZeroElsewhere) {
  auto model = make();
  torch::NoGradGuard ng;
  const auto b = batch();
  const auto out = model->forward(b);
  const at::Tensor w = out.pooling_attention;
  EXPECT_TRUE(torch::allclose(w.sum(1), torch::ones({3}), 1e-6, 1e-6));
  EXPECT_EQ(w.masked_select(b.token_mask.logical_not()).abs().max().item<float>(), 0.0f);
  EXPECT_GE(w.min().item<float>(), 0.0f);
  EXPECT_FALSE(torch::isnan(out.logits).any().item<bool>());
  // Every returned attention map is [B, heads, query, key].
  for (const auto& a : out.attentions) EXPECT_EQ(a.dim(), 4);
}

TEST_P(ModelContract, ReplacingAttentionWithItselfChangesNothingAndUniformChangesTheContext) {
  auto model = make();
  torch::NoGradGuard ng;
  const auto b = batch();
  const auto out = model->forward(b);
  ForwardOptions same;
  same.interventions.push_back({AttentionIntervention::Mode::kReplace, -1, out.pooling_attention.clone()});
  EXPECT_TRUE(torch::allclose(model->forward(b, same).logits, out.logits, 1e-6, 1e-6));
  ForwardOptions scale_one;
  scale_one.interventions.push_back({AttentionIntervention::Mode::kScale, -1, torch::ones({1})});
  EXPECT_TRUE(torch::allclose(model->forward(b, scale_one).logits, out.logits, 1e-6, 1e-6));
  // Replacing with uniform weights gives c = mean of the real tokens' states, computed by hand.
  const at::Tensor tm = b.token_mask.to(torch::kFloat);
  const at::Tensor uniform = tm / tm.sum(1, true);
  ForwardOptions uni;
  uni.interventions.push_back({AttentionIntervention::Mode::kReplace, -1, uniform});
  const auto edited = model->forward(b, uni);
  const at::Tensor c = (uniform.unsqueeze(2) * out.states).sum(1);
  const auto enc = model->encode(model->embed(b.ids), b, {});
  EXPECT_TRUE(torch::allclose(edited.logits, model->decoder(c, enc.query), 1e-5, 1e-6));
}

TEST_P(ModelContract, ACheckpointReloadsToIdenticalLogits) {
  auto model = make();
  test::TempDir dir;
  save_weights(model, dir.file("m.pt"));
  torch::manual_seed(123);
  auto other = make();
  load_weights(other, dir.file("m.pt"));
  torch::NoGradGuard ng;
  const auto b = batch();
  EXPECT_TRUE(torch::equal(model->forward(b).logits, other->forward(b).logits));
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelContract, ::testing::ValuesIn(all_cases()), case_name);

class Checkpoint : public test::SeededTest {};

TEST_F(Checkpoint, TruncatedForeignAndMismatchedFilesAreModelErrors) {
  TextClassifier model(test::tiny_config("lstm", "additive", false));
  test::TempDir dir;
  save_weights(model, dir.file("m.pt"));
  const std::string bytes = read_file(dir.file("m.pt"));
  write_file_atomic(dir.file("cut.pt"), bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(load_weights(model, dir.file("cut.pt")), ModelError);
  write_file_atomic(dir.file("foreign.pt"), "not a checkpoint at all");
  EXPECT_THROW(load_weights(model, dir.file("foreign.pt")), ModelError);
  TextClassifier cnn(test::tiny_config("cnn", "additive", false));
  EXPECT_THROW(load_weights(cnn, dir.file("m.pt")), ModelError);
  EXPECT_THROW(load_weights(model, dir.file("missing.pt")), IoError);
}

TEST_F(Checkpoint, UniformAttentionIsOneOverTheNumberOfTokens) {
  TextClassifier model(test::tiny_config("average", "uniform", false));
  torch::NoGradGuard ng;
  const auto b = test::batch_of({{4, 5, 6, 7}, {8, 9}});
  const at::Tensor w = model->forward(b).pooling_attention;
  EXPECT_NEAR(w[0][1].item<float>(), 0.25f, 1e-7);
  EXPECT_NEAR(w[1][2].item<float>(), 0.5f, 1e-7);
}

TEST_F(Checkpoint, UnknownEncoderNameIsAnInvalidArgumentListingTheKnownOnes) {
  auto c = test::tiny_config("lstm", "additive", false);
  c.encoder = "gru";
  try {
    c.validate();
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("lstm, cnn, average, transformer"), std::string::npos);
  }
}

}  // namespace
}  // namespace lumen::models

namespace lumen::models {
namespace {

TEST(ForwardTraining, GivesTheSameLogitsAndGradientsAsForward) {
  for (bool pair : {false, true}) {
    torch::manual_seed(0);
    TextClassifier model(test::tiny_config("lstm", "additive", pair, pair ? 3 : 2));
    model->to(torch::kDouble);
    const auto b = pair ? test::batch_of({{4, 5, 4, 7, 8}, {9, 4}}, {{5, 6}, {5, 5, 9}}) : test::batch_of({{4, 5, 4, 7, 8}, {9, 4}});
    std::vector<at::Tensor> grads[2];
    at::Tensor logits[2];
    for (int k = 0; k < 2; ++k) {
      model->zero_grad();
      logits[k] = k == 0 ? model->forward_training(b).logits : model->forward(b).logits;
      logits[k].pow(2).sum().backward();
      for (auto& p : model->parameters()) grads[k].push_back(p.grad().clone());
    }
    EXPECT_TRUE(torch::allclose(logits[0], logits[1], 1e-12, 1e-12));
    for (size_t i = 0; i < grads[0].size(); ++i) EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-10, 1e-12)) << i;
  }
}

}  // namespace
}  // namespace lumen::models
