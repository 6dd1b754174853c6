// Effective attention (Brunner et al. 2020): its difference from the raw attention lies in the
// null space of each head's value-times-output map, so putting it in place of the raw weights
// leaves the model's output unchanged; on a text no longer than the map's rank it is the raw
// attention; a row alone equals its row in a padded batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "models/effective_attention.h"
#include "support/fixtures.h"

namespace lumen::models {
namespace {

class EffectiveAttention : public test::SeededTest {
 protected:
  TextClassifier model() {
    TextClassifier m(test::tiny_config("transformer", "additive", false));  // model_dim 8, 2 heads: d_head 4
    m->to(torch::kDouble);
    m->eval();
    return m;
  }
};

TEST_F(EffectiveAttention, DiffersFromTheRawAttentionOnlyInTheValueMapsNullSpace) {
  auto m = model();
  torch::NoGradGuard ng;
  // 9 tokens + <s>, </s>: 11 positions against a rank of at most 4 per head; and 2 tokens (4
  // positions, within the rank).
  const data::Batch b = test::batch_of({{4, 5, 6, 7, 8, 9, 10, 11, 12}, {13, 14}});
  ForwardOptions keep;
  keep.keep_value_maps = true;
  const Encoded enc = m->encode(m->embed(b.ids), b, keep);
  ASSERT_EQ(enc.value_maps.size(), 2u);
  for (int64_t layer = 0; layer < 2; ++layer) {
    const at::Tensor a = enc.self_attentions[layer], t = enc.value_maps[layer];
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{2, 2, 11, 8}));
    const at::Tensor eff = effective_attention(a, t, b.mask);
    // Row 0: (A - A_eff) T = 0 while A - A_eff itself is far from 0.
    const at::Tensor diff = (a[0] - eff[0]);
    EXPECT_LT(torch::matmul(diff, t[0]).abs().max().item<double>(), 1e-12) << "layer " << layer;
    EXPECT_GT(diff.abs().max().item<double>(), 1e-2) << "layer " << layer;
    // Applying it again changes nothing (a projection).
    EXPECT_LT((effective_attention(eff, t, b.mask) - eff).abs().max().item<double>(), 1e-12);
    // Row 1 has 4 positions: its value maps have full row rank, nothing is removed.
    EXPECT_LT((eff[1].narrow(1, 0, 4).narrow(2, 0, 4) - a[1].narrow(1, 0, 4).narrow(2, 0, 4)).abs().max().item<double>(), 1e-10);
    EXPECT_EQ(eff[1].narrow(2, 4, 7).abs().max().item<double>(), 0.0);  // padded keys
    // Alone, row 1 has the same effective attention.
    const data::Batch one = data::select_rows(b, torch::tensor({1}));
    const Encoded e1 = m->encode(m->embed(one.ids), one, keep);
    const at::Tensor alone = effective_attention(e1.self_attentions[layer], e1.value_maps[layer], one.mask);
    EXPECT_LT((alone[0] - eff[1].narrow(1, 0, 4).narrow(2, 0, 4)).abs().max().item<double>(), 1e-10);
    // Put in place of the raw weights, the effective attention gives the same output.
    ForwardOptions replace;
    replace.interventions.push_back({AttentionIntervention::Mode::kReplace, layer, eff});
    EXPECT_LT((m->forward(b, replace).logits - m->forward(b).logits).abs().max().item<double>(), 1e-10);
    // A weight change outside the null space does change it: the test can fail.
    ForwardOptions moved;
    moved.interventions.push_back({AttentionIntervention::Mode::kReplace, layer, a + 0.2 * torch::rand_like(a) * b.mask.to(a.dtype()).view({2, 1, 1, 11})});
    EXPECT_GT((m->forward(b, moved).logits - m->forward(b).logits).abs().max().item<double>(), 1e-6);
  }
  EXPECT_THROW(effective_attention(enc.self_attentions[0], enc.value_maps[0].narrow(3, 0, 4).narrow(2, 0, 5), b.mask), InvalidArgument);
}

}  // namespace
}  // namespace lumen::models
