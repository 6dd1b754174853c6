#include "explain/lstm_fast.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "data/batch_plan.h"
#include "data/vocab.h"
#include "explain/common.h"
#include "models/decoder_gradient.h"
#include "models/lstm_kernel.h"
#include "models/parallel_linear.h"

namespace lumen::explain {

std::optional<LstmProjection> lstm_projection(models::TextClassifier& model, const ExplainOptions& options) {
  const models::LstmEncoderImpl* lstm = model->fused_lstm();
  if (!options.fast || model->config().pair || lstm == nullptr) return std::nullopt;
  return LstmProjection{lstm->w_ih.detach(), lstm->w_hh.detach(), (lstm->b_ih + lstm->b_hh).detach(), options.forward()};
}

at::Tensor token_projections(models::TextClassifier& model, const LstmProjection& p, const at::Tensor& ids) {
  torch::NoGradGuard no_grad;
  const auto [uniq, inverse] = at::_unique(ids.flatten(), false, true);
  const at::Tensor q = models::parallel_linear(model->embed(uniq).detach(), p.w_ih, {});  // [U, 8H]
  return q.index_select(0, inverse).view({ids.size(0), ids.size(1), q.size(1)});
}

namespace {
at::Tensor logits_from_projections(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                   const at::Tensor& proj) {
  models::Encoded enc;
  enc.states = models::fused_lstm_projected(proj, batch.lengths, p.w_hh, 2).output;
  return model->decode(enc, batch, p.forward).logits;
}

std::vector<int64_t> predicted(const at::Tensor& logits) {
  const at::Tensor pred = logits.detach().argmax(1).contiguous();
  return std::vector<int64_t>(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + pred.numel());
}
}  // namespace

at::Tensor projection_probability(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                  const at::Tensor& proj, const std::vector<int64_t>& targets) {
  torch::NoGradGuard no_grad;
  return target_probability(logits_from_projections(model, p, batch, proj), targets_tensor(targets));
}

models::StateGradient decoder_gradient(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                       std::vector<int64_t>& targets) {
  return [&model, &p, &batch, &targets](const at::Tensor& states, const std::vector<int64_t>& rows) {
    const data::Batch rep = data::select_rows(batch, torch::tensor(rows, torch::kInt64));
    std::vector<int64_t> tg;
    tg.reserve(rows.size());
    for (int64_t r : rows) tg.push_back(targets[r]);
    if (auto by_hand = models::decoder_gradient_by_hand(*model, states, rep.token_mask, tg, p.forward)) {
      for (size_t j = 0; j < rows.size(); ++j) targets[rows[j]] = by_hand->targets[j];
      return by_hand->grad;
    }
    torch::AutoGradMode grad_mode(true);
    models::Encoded enc;
    enc.states = states.detach().requires_grad_(true);
    const at::Tensor logits = model->decode(enc, rep, p.forward).logits;
    const std::vector<int64_t> pred = predicted(logits);
    for (size_t j = 0; j < rows.size(); ++j) {
      if (tg[j] < 0) tg[j] = pred[j];
      targets[rows[j]] = tg[j];
    }
    const at::Tensor prob = target_probability(logits, targets_tensor(tg));
    return torch::autograd::grad({prob.sum()}, {enc.states})[0];
  };
}

KernelGradients input_projection_gradients(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                          const std::vector<int64_t>& targets, bool keep_grad) {
  const int64_t B = batch.size(), T = batch.ids.size(1);
  const at::Tensor q = token_projections(model, p, batch.ids);
  const at::Tensor base = p.bias.view({1, 1, -1}).expand_as(q).contiguous();
  KernelGradients out;
  out.targets = targets.empty() ? std::vector<int64_t>(B, -1) : targets;
  const models::StateGradient grad = decoder_gradient(model, p, batch, out.targets);
  models::LstmPathRequests req;
  for (int64_t b = 0; b < B; ++b) req.add(b, 1.0, 1.0);
  at::Tensor dot = torch::zeros({B, T}, torch::kDouble);
  if (keep_grad) out.grad = torch::zeros_like(q);
  models::lstm_path_scores(base, q, batch.lengths, p.w_hh, p.w_hh.size(0) / (4 * p.w_hh.size(1)), req, B, grad, dot,
                           keep_grad ? &out.grad : nullptr);
  out.dot = (dot * batch.token_mask.to(torch::kDouble)).contiguous();
  return out;
}

at::Tensor embedding_gradient_norms(const LstmProjection& p, const at::Tensor& grad, const at::Tensor& token_mask) {
  torch::NoGradGuard no_grad;
  const at::Tensor real = token_mask.flatten().nonzero().squeeze(1);
  const at::Tensor dp = grad.reshape({-1, grad.size(2)}).index_select(0, real);
  // dE = dP W_ih: parallel_linear computes x W^T, so W = W_ih^T.
  const at::Tensor de = models::parallel_linear(dp, p.w_ih.t().contiguous(), {});
  at::Tensor out = torch::zeros({token_mask.numel()}, torch::kDouble);
  out.index_put_({real}, de.to(torch::kDouble).norm(2, 1));
  return out.view(token_mask.sizes()).contiguous();
}

}  // namespace lumen::explain
