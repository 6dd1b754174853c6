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
  return LstmProjection{lstm->w_ih.detach(), lstm->w_hh.detach(), (lstm->b_ih + lstm->b_hh).detach()};
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
  return model->decode(enc, batch, {}).logits;
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

std::vector<double> removal_probabilities(models::TextClassifier& model, const LstmProjection& p,
                                          const data::Batch& batch, const std::vector<int64_t>& targets,
                                          Removal removal, int64_t max_tokens) {
  torch::NoGradGuard no_grad;
  const int64_t B = batch.size(), T = batch.ids.size(1);
  const auto ids = real_ids(batch.ids, batch.token_mask);
  const at::Tensor tm = batch.token_mask.contiguous();
  // Output slots: row r's full text at start[r], its deletions after it.
  std::vector<int64_t> start(B);
  int64_t total = 0;
  for (int64_t r = 0; r < B; ++r) {
    start[r] = total;
    total += 1 + static_cast<int64_t>(ids[r].size());
  }
  std::vector<double> out(total, 0.0);
  auto store = [&](const at::Tensor& prob, const std::vector<int64_t>& slots) {
    const at::Tensor pd = prob.to(torch::kDouble).contiguous();
    for (size_t k = 0; k < slots.size(); ++k) out[slots[k]] = pd.data_ptr<double>()[k];
  };
  // The full texts, and one-token rows with the token replaced by <pad>.
  store(projection_probability(model, p, batch, token_projections(model, p, batch.ids) + p.bias, targets), start);
  const bool deleting = removal == Removal::kDelete;
  std::vector<int64_t> single;
  for (int64_t r = 0; r < B && deleting; ++r)
    if (ids[r].size() == 1) single.push_back(r);
  if (!single.empty()) {
    const data::Batch sb = data::select_rows(batch, torch::tensor(single, torch::kInt64));
    const at::Tensor padded = torch::where(sb.token_mask, torch::full_like(sb.ids, data::Vocab::kPad), sb.ids);
    std::vector<int64_t> tg, slots;
    for (int64_t r : single) {
      tg.push_back(targets[r]);
      slots.push_back(start[r] + 1);
    }
    store(projection_probability(model, p, sb, token_projections(model, p, padded) + p.bias, tg), slots);
  }
  // Deletions (row, batch position, output slot) of rows with two or more tokens.
  struct Deletion {
    int64_t row, position, slot, k;
  };
  std::vector<Deletion> all;
  for (int64_t r = 0; r < B; ++r) {
    if (deleting && ids[r].size() < 2) continue;
    const bool* m = tm[r].data_ptr<bool>();
    int64_t k = 0;
    for (int64_t t = 0; t < T; ++t)
      if (m[t]) {
        all.push_back({r, t, start[r] + 1 + k, k});
        ++k;
      }
  }
  at::Tensor replacement;  // the input that replaces a token: its embedding
  if (!deleting)
    replacement = model->embed(torch::tensor({removal == Removal::kPad ? data::Vocab::kPad : data::Vocab::kUnk}))
                      .detach()
                      .view({-1});
  // Groups of removals in batch order, each variant T - 1 state positions long.
  std::vector<int64_t> in_order(all.size());
  std::iota(in_order.begin(), in_order.end(), 0);
  const auto groups = data::plan_batches(in_order, std::vector<int64_t>(all.size(), std::max<int64_t>(1, T - 1)),
                                         {/*max_rows=*/0, /*max_tokens=*/std::max<int64_t>(max_tokens, 1)});
  for (const auto& group : groups) {
    std::vector<int64_t> rows;  // the group's rows of `batch`, in order
    std::vector<int64_t> in_sub;  // each variant's row of `sub`
    std::vector<std::array<int64_t, 2>> dels;
    std::vector<std::vector<int64_t>> variant_ids;
    std::vector<int64_t> tg, slots;
    for (int64_t i : group) {
      const Deletion& d = all[i];
      if (rows.empty() || rows.back() != d.row) rows.push_back(d.row);
      in_sub.push_back(static_cast<int64_t>(rows.size()) - 1);
      dels.push_back({in_sub.back(), d.position});
      if (deleting) {
        std::vector<int64_t> v = ids[d.row];
        v.erase(v.begin() + d.k);
        variant_ids.push_back(std::move(v));
      }
      tg.push_back(targets[d.row]);
      slots.push_back(d.slot);
    }
    const data::Batch sub = data::select_rows(batch, torch::tensor(rows, torch::kInt64));
    // Variants: the shortened texts, or (replacement) the same masks as their rows.
    data::Batch vb;
    if (deleting) data::pad_ids(variant_ids, vb.ids, vb.lengths, vb.mask, vb.token_mask);
    else vb = data::select_rows(sub, torch::tensor(in_sub, torch::kInt64));
    models::Encoded enc;
    enc.states = models::fused_lstm_deletions(model->embed(sub.ids).detach(), sub.lengths, p.w_ih, p.w_hh, p.bias, 2,
                                              dels, replacement)
                     .narrow(1, 0, vb.ids.size(1));
    store(target_probability(model->decode(enc, vb, {}).logits, targets_tensor(tg)), slots);
  }
  return out;
}

}  // namespace lumen::explain
