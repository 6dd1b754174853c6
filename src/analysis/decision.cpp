#include "analysis/decision.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace lumen::analysis {

at::Tensor output_probs(const at::Tensor& logits) { return torch::softmax(logits.to(torch::kDouble), -1); }

double tvd(const double* p, const double* q, int64_t c) {
  double s = 0;
  for (int64_t i = 0; i < c; ++i) s += std::fabs(p[i] - q[i]);
  return 0.5 * s;
}

double jsd(const double* p, const double* q, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) s += 0.5 * p[i] * std::log(p[i] / m);
    if (q[i] > 0) s += 0.5 * q[i] * std::log(q[i] / m);
  }
  return std::max(0.0, s);
}

std::vector<double> Decision::probs_for(const double* w) const {
  std::vector<double> z(bias);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < classes; ++c) z[c] += w[t] * token_logits[t * classes + c];
  double mx = z[0];
  for (double v : z) mx = std::max(mx, v);
  double s = 0;
  for (double& v : z) s += (v = std::exp(v - mx));
  for (double& v : z) v /= s;
  return z;
}

std::vector<Decision> make_decisions(models::TextClassifier& model, const models::Encoded& enc,
                                     const data::Batch& batch) {
  torch::NoGradGuard no_grad;
  if (!model->has_pooling_attention())
    throw InvalidArgument("analysis: the model has no pooling attention (a Transformer with pooling=cls)");
  const models::ModelOutput out = model->decode(enc, batch, {});
  const at::Tensor probs = output_probs(out.logits).contiguous();
  const at::Tensor att = out.pooling_attention.to(torch::kDouble).contiguous();
  const int64_t B = batch.size(), C = probs.size(1), m = enc.states.size(2);
  at::Tensor token_logits, bias;
  if (model->affine_decoder()) {
    // decoder(h) - decoder(0): the linear part, so that the bias is not scaled by sum(w).
    at::Tensor zero = torch::zeros({1, m}, enc.states.options());
    bias = model->decoder(zero, {}).to(torch::kDouble).reshape({C}).contiguous();
    token_logits = (model->decoder(enc.states.reshape({-1, m}), {}).to(torch::kDouble) - bias)
                       .reshape({B, -1, C})
                       .contiguous();
  }
  const at::Tensor tm = batch.token_mask.contiguous();
  std::vector<Decision> ds(B);
  for (int64_t b = 0; b < B; ++b) {
    Decision& d = ds[b];
    d.classes = C;
    d.probs.assign(probs[b].data_ptr<double>(), probs[b].data_ptr<double>() + C);
    std::vector<int64_t> pos;
    const bool* mrow = tm[b].data_ptr<bool>();
    for (int64_t t = 0; t < tm.size(1); ++t)
      if (mrow[t]) pos.push_back(t);
    d.n = static_cast<int64_t>(pos.size());
    const double* arow = att[b].data_ptr<double>();
    for (int64_t t : pos) d.attention.push_back(arow[t]);
    if (token_logits.defined()) {
      d.bias.assign(bias.data_ptr<double>(), bias.data_ptr<double>() + C);
      const double* s = token_logits[b].data_ptr<double>();
      for (int64_t t : pos) d.token_logits.insert(d.token_logits.end(), s + t * C, s + (t + 1) * C);
      // The output as the analyses that change attention compute it (equal to the model's
      // output up to float32 rounding), so that unchanged attention gives exactly 0 TVD.
      d.probs = d.probs_for(d.attention.data());
    } else {
      at::Tensor index = torch::tensor(pos, torch::kInt64);
      d.states = enc.states[b].index_select(0, index).contiguous();
      d.query = enc.query[b].contiguous();
    }
  }
  return ds;
}

std::vector<std::vector<double>> decode_weights(models::TextClassifier& model, const Decision& d,
                                                const std::vector<std::vector<double>>& weights) {
  torch::NoGradGuard no_grad;
  const int64_t k = static_cast<int64_t>(weights.size());
  std::vector<std::vector<double>> out;
  if (k == 0) return out;
  if (d.affine()) {
    for (const auto& w : weights) out.push_back(d.probs_for(w.data()));
    return out;
  }
  at::Tensor w = torch::empty({k, d.n}, torch::kDouble);
  for (int64_t i = 0; i < k; ++i) std::copy(weights[i].begin(), weights[i].end(), w[i].data_ptr<double>());
  at::Tensor context = torch::mm(w.to(d.states.scalar_type()), d.states);
  at::Tensor p = output_probs(model->decoder(context, d.query.unsqueeze(0).expand({k, -1}))).contiguous();
  for (int64_t i = 0; i < k; ++i) out.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + d.classes);
  return out;
}

}  // namespace lumen::analysis
