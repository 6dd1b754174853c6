// Representer point selection (Yeh et al. 2018) on the final layer. The last layer Theta acting
// on features f = [c, 1] (the bias as a weight on a constant feature) is fine-tuned to a
// stationary point of
//   (1/n) sum_i l(Theta f_i, y_i) + lambda |Theta|^2,
// where Theta = sum_i alpha_i f_i^T with alpha_i = -1/(2 lambda n) dl/dPhi_i (Phi = Theta f, the
// logits that depend on Theta: z for binary models, all C otherwise). So every logit is a sum
// over training points, Phi(x_t) = sum_i alpha_i (f_i . f_t), and the representer value of z_i
// for test x_t and explained class c is alpha_ic (f_i . f_t) (for binary models, +alpha_i for
// class 1 and -alpha_i for class 0): > 0 excitatory (proponent), < 0 inhibitory (opponent).
// Self-influence: |alpha_i| |f_i|^2 (large for points the layer fits against its neighbours).
// Diagnostics: how well the fine-tuned layer reproduces the model (Pearson of logits) and how
// exactly the values sum to its logits.
#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "influence/methods.h"

namespace lumen::influence {

namespace {

double pearson(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.reshape({-1}) - a.mean(), y = b.reshape({-1}) - b.mean();
  const double d = (x.norm() * y.norm()).item<double>();
  return d > 0 ? (x * y).sum().item<double>() / d : 1.0;
}

}  // namespace

void run_representer(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  if (in.config.pair)
    throw InvalidArgument("influence: representer points need a single-text model (the pair decoder is not linear in its features)");
  if (o.params != "last" && o.params != "decoder")
    throw InvalidArgument("influence: representer points are defined on the final layer only (--params last)");
  models::TextClassifier model = in.model;
  ParameterSelection sel = select_parameters(model, "last");
  r.parameters = sel.to_json();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = in.train->size(), nt = in.test->size();
  const Features ftrain = decoder_features(model, *in.train);
  const at::Tensor fa = with_bias_column(ftrain.context);  // [n, m+1]
  const at::Tensor y = torch::tensor(in.train->labels, torch::kLong);
  const bool binary = in.config.num_classes == 2;
  const double lambda = o.representer_l2;
  const at::Tensor cw = in.loss.class_weights.to(torch::kDouble);
  auto logits_of = [binary](const at::Tensor& theta, const at::Tensor& f) {
    at::Tensor z = torch::mm(f, theta.t());
    return binary ? torch::cat({torch::zeros_like(z), z}, 1) : z;
  };
  auto per_example = [&](const at::Tensor& logits, const at::Tensor& labels) {
    return torch::nll_loss(torch::log_softmax(logits, 1), labels, {}, at::Reduction::None) * cw.index_select(0, labels);
  };
  const Objective objective = [&](const std::vector<at::Tensor>& p) {
    return per_example(logits_of(p[0], fa), y).mean() + lambda * (p[0] * p[0]).sum();
  };
  // Start from the trained layer [W, b].
  const auto dec = detached_values(sel);
  const at::Tensor theta0 = torch::cat({dec[0], dec[1].unsqueeze(1)}, 1);
  const NewtonResult fit = minimise_newton(objective, {theta0}, 100, 1e-10);
  const at::Tensor theta = fit.x[0];
  // alpha_i = -1/(2 lambda n) dl_i/dPhi_i, closed form: w_y (softmax - onehot) on the Phi logits.
  const at::Tensor logits = logits_of(theta, fa);
  at::Tensor dphi = (torch::softmax(logits, 1) - torch::one_hot(y, logits.size(1)).to(torch::kDouble)) *
                    cw.index_select(0, y).unsqueeze(1);
  if (binary) dphi = dphi.narrow(1, 1, 1);
  const at::Tensor alpha = -dphi / (2 * lambda * static_cast<double>(n));  // [n, C']
  // Scores for the explained label of each test point.
  r.scores = torch::zeros({nt, n}, torch::kDouble);
  Json fidelity = Json::object();
  if (nt > 0) {
    const Features ftest = decoder_features(model, *in.test);
    const at::Tensor ta = with_bias_column(ftest.context);
    const at::Tensor kernel = torch::mm(ta, fa.t());  // [nt, n]
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t c = in.test_labels[t];
      const at::Tensor a = binary ? alpha.select(1, 0) * (c == 1 ? 1.0 : -1.0) : alpha.select(1, c);
      r.scores[t].copy_(a * kernel[t]);
    }
    // Sum of values vs the fine-tuned layer's logit of the explained class, and vs the model.
    const at::Tensor tuned = logits_of(theta, ta), original = model->decoder_with(dec, ftest.context, ftest.query);
    at::Tensor explained_tuned = torch::zeros({nt}, torch::kDouble), explained_model = torch::zeros({nt}, torch::kDouble);
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t c = in.test_labels[t];
      explained_tuned[t] = binary ? (c == 1 ? 1.0 : -1.0) * tuned[t][1] : tuned[t][c];
      explained_model[t] = binary ? (c == 1 ? 1.0 : -1.0) * original[t][1] : original[t][c];
    }
    fidelity["max_abs_sum_minus_logit"] = (r.scores.sum(1) - explained_tuned).abs().max().item<double>();
    fidelity["pearson_finetuned_vs_model_logits"] = pearson(tuned, original);
  }
  if (o.self_influence) {
    const at::Tensor s = alpha.abs().sum(1) * (fa * fa).sum(1);
    r.self_influence.assign(s.data_ptr<double>(), s.data_ptr<double>() + n);
  }
  fidelity["newton_iterations"] = fit.iterations;
  fidelity["gradient_norm"] = fit.gradient_norm;
  fidelity["converged"] = fit.converged;
  fidelity["lambda"] = lambda;
  r.diagnostics["fine_tuning"] = fidelity;
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
