#include "models/decoder_gradient.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "models/forward.h"

namespace lumen::models {

std::optional<StateGradientResult> decoder_gradient_by_hand(TextClassifierImpl& model, const at::Tensor& states,
                                                           const at::Tensor& token_mask,
                                                           const std::vector<int64_t>& targets,
                                                           const ForwardOptions& options) {
  const ModelConfig& c = model.config();
  if (c.pair || c.pooling != "attention" || (c.attention != "additive" && c.attention != "dot")) return std::nullopt;
  if (!options.interventions.empty() || options.edit || options.ignore_padding_mask || TapRecorder::active() ||
      DifferentiableMode::on())
    return std::nullopt;
  if (states.dim() != 3 || token_mask.dim() != 2 || token_mask.size(0) != states.size(0) ||
      token_mask.size(1) != states.size(1) || static_cast<int64_t>(targets.size()) != states.size(0))
    throw InvalidArgument("decoder gradient: states [N, T, m], token_mask [N, T] and one target per row");
  const bool additive = c.attention == "additive";
  at::Tensor att_w, att_b, att_v, out_w, out_b;
  for (const LinearLayer& l : model.linear_layers()) {
    if (l.name == "attention.w") {
      (additive ? att_w : att_v) = l.weight.detach();
      if (!l.biases.empty()) att_b = l.biases[0].detach();
    } else if (l.name == "attention.v") {
      att_v = l.weight.detach();
    } else if (l.name == "decoder.out") {
      out_w = l.weight.detach();
      out_b = l.biases.empty() ? at::Tensor() : l.biases[0].detach();
    }
  }
  if (!att_v.defined() || !out_w.defined() || (additive && !att_w.defined()))
    throw InvalidArgument("decoder gradient: the model lacks its attention or output layer");
  torch::NoGradGuard no_grad;
  const auto dt = states.scalar_type();
  auto as = [&](const at::Tensor& t) { return t.defined() ? t.to(dt) : t; };
  att_w = as(att_w), att_b = as(att_b), att_v = as(att_v), out_w = as(out_w), out_b = as(out_b);
  const int64_t N = states.size(0), T = states.size(1), m = states.size(2);
  const at::Tensor S = states.detach().contiguous();
  const at::Tensor tm = token_mask.to(at::kBool).contiguous();
  at::Tensor tg_all = at::tensor(targets, at::kLong);  // predicted classes are filled in below
  const int64_t classes = out_w.size(0) == 1 && c.num_classes == 2 ? 2 : out_w.size(0);
  if (N > 0 && tg_all.max().item<int64_t>() >= classes)
    throw InvalidArgument("decoder gradient: a target is outside the model's classes");
  // The last position attention may weigh, per row: a block of rows runs on its own positions
  // only (rows of similar length come together when the caller sorts them, as the path kernel does).
  std::vector<int64_t> last(N, 0);
  {
    const bool* tp = tm.data_ptr<bool>();
    for (int64_t r = 0; r < N; ++r)
      for (int64_t t = T - 1; t >= 0; --t)
        if (tp[r * T + t]) {
          last[r] = t + 1;
          break;
        }
  }
  at::Tensor dS = at::empty({N, T, m}, S.options()), prob = at::empty({N}, S.options());
  const double scale = 1.0 / std::sqrt(static_cast<double>(m));
  const bool binary = c.num_classes == 2 && out_w.size(0) == 1;
  // Blocks of kRows rows, independent of each other; handed out interleaved (first, last,
  // second, ...) so that the cores' shares of long and short rows balance.
  constexpr int64_t kRows = 16;
  const int64_t blocks = (N + kRows - 1) / kRows;
  auto block = [&](int64_t k) {
    const int64_t b = k % 2 == 0 ? k / 2 : blocks - 1 - k / 2;
    const int64_t r0 = b * kRows, n = std::min(kRows, N - r0);
    int64_t Tb = 1;
    for (int64_t r = r0; r < r0 + n; ++r) Tb = std::max(Tb, last[r]);
    if (Tb < T) dS.narrow(0, r0, n).narrow(1, Tb, T - Tb).zero_();
    const at::Tensor Sb = S.narrow(0, r0, n).narrow(1, 0, Tb).contiguous(), S2 = Sb.view({n * Tb, m});
    // Forward: scores, masked softmax, context, logits.
    at::Tensor u, score;
    if (additive) {
      u = att_b.defined() ? at::addmm(att_b, S2, att_w.t()) : at::mm(S2, att_w.t());
      u.tanh_();                                    // [n*Tb, A]
      score = at::mm(u, att_v.t()).view({n, Tb});   // v^T tanh(W h + b)
    } else {
      score = at::mm(S2, att_v.t()).view({n, Tb}).mul_(scale);  // w^T h / sqrt(m)
    }
    score.masked_fill_(tm.narrow(0, r0, n).narrow(1, 0, Tb).logical_not(), -INFINITY);
    const at::Tensor alpha = at::softmax(score, 1);                     // [n, Tb]
    const at::Tensor ctx = at::bmm(alpha.unsqueeze(1), Sb).squeeze(1);  // [n, m]
    const at::Tensor z = out_b.defined() ? at::addmm(out_b, ctx, out_w.t()) : at::mm(ctx, out_w.t());
    const at::Tensor logits = binary ? at::cat({at::zeros_like(z), z}, 1) : z;  // softmax([0, z]) = sigmoid(z)
    const at::Tensor P = at::softmax(logits, 1);
    at::Tensor tg = tg_all.narrow(0, r0, n).unsqueeze(1);
    tg.copy_(at::where(tg < 0, logits.argmax(1, true), tg));  // the predicted class where asked
    const at::Tensor p = P.gather(1, tg);  // [n, 1]
    prob.narrow(0, r0, n).copy_(p.squeeze(1));
    // Backward: d p_y / d logit_k = p_y (1[k = y] - p_k).
    at::Tensor dlogits = -p * P;
    dlogits.scatter_add_(1, tg, p);
    const at::Tensor dz = binary ? dlogits.narrow(1, 1, 1) : dlogits;
    const at::Tensor dctx = at::mm(dz, out_w);  // [n, m]
    at::Tensor dSb = dS.narrow(0, r0, n).narrow(1, 0, Tb);
    at::mul_out(dSb, alpha.unsqueeze(2), dctx.unsqueeze(1));  // through the context's weights
    if (options.detach_attention) return;
    // Through the attention weights.
    const at::Tensor dalpha = at::bmm(Sb, dctx.unsqueeze(2)).squeeze(2);          // [n, Tb]
    const at::Tensor dscore = alpha * (dalpha - (alpha * dalpha).sum(1, true));  // softmax
    if (additive) {
      // d score / d h = W^T (v * (1 - u^2)).
      const at::Tensor dpre = (1 - u * u).mul_(att_v.view({1, -1})).mul_(dscore.view({n * Tb, 1}));  // [n*Tb, A]
      dSb.add_(at::mm(dpre, att_w).view({n, Tb, m}));
    } else {
      dSb.add_(dscore.unsqueeze(2) * (att_v.view({1, 1, m}) * scale));
    }
  };
  parallel_chunks(blocks, 1, [&](int64_t k0, int64_t k1) {
    torch::NoGradGuard no_grad;  // grad mode is thread-local
    for (int64_t k = k0; k < k1; ++k) block(k);
  });
  return StateGradientResult{prob, dS, std::vector<int64_t>(tg_all.data_ptr<int64_t>(), tg_all.data_ptr<int64_t>() + N)};
}

}  // namespace lumen::models
