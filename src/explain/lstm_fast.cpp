#include "explain/lstm_fast.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "data/batch_plan.h"
#include "data/vocab.h"
#include "explain/common.h"
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

ProjectionGradients projection_gradients(models::TextClassifier& model, const LstmProjection& p,
                                         const data::Batch& batch, const at::Tensor& proj,
                                         const std::vector<int64_t>& targets) {
  torch::AutoGradMode grad_mode(true);
  const at::Tensor leaf = proj.detach().requires_grad_(true);
  const at::Tensor logits = logits_from_projections(model, p, batch, leaf);
  ProjectionGradients out;
  out.targets = targets.empty() ? predicted(logits) : targets;
  const at::Tensor prob = target_probability(logits, targets_tensor(out.targets));
  out.grad = torch::autograd::grad({prob.sum()}, {leaf})[0];
  out.prob = prob.detach();
  return out;
}

at::Tensor projection_probability(models::TextClassifier& model, const LstmProjection& p, const data::Batch& batch,
                                  const at::Tensor& proj, const std::vector<int64_t>& targets) {
  torch::NoGradGuard no_grad;
  return target_probability(logits_from_projections(model, p, batch, proj), targets_tensor(targets));
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
