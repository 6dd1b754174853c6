#include "explain/surrogate.h"

#include <torch/torch.h>

#include "core/error.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {

uint64_t row_seed(uint64_t seed, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  auto mix = [&](int64_t v) {
    h ^= static_cast<uint64_t>(v) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h *= 1099511628211ULL;
  };
  for (int64_t v : a) mix(v);
  mix(-1);
  for (int64_t v : b) mix(v);
  return h;
}

std::vector<double> weighted_ridge(const std::vector<std::vector<char>>& X, const std::vector<double>& y,
                                   const std::vector<double>& w, double ridge) {
  const int64_t S = static_cast<int64_t>(X.size());
  if (S == 0) throw InvalidArgument("surrogate: no samples");
  const int64_t d = static_cast<int64_t>(X[0].size());
  at::Tensor A = torch::ones({S, d + 1}, torch::kDouble);  // column d: intercept
  auto ap = A.accessor<double, 2>();
  for (int64_t s = 0; s < S; ++s)
    for (int64_t j = 0; j < d; ++j) ap[s][j] = X[s][j] ? 1.0 : 0.0;
  const at::Tensor W = torch::tensor(w, torch::kDouble).unsqueeze(1);
  const at::Tensor Y = torch::tensor(y, torch::kDouble).unsqueeze(1);
  at::Tensor G = A.t().mm(A * W);
  at::Tensor diag = torch::full({d + 1}, ridge, torch::kDouble);
  diag[d] = 0.0;
  G = G + torch::diag(diag);
  // A tiny jitter keeps the system solvable when the intercept column is collinear with a
  // feature that never varies (e.g. a single token with only full/empty samples).
  G = G + 1e-10 * torch::eye(d + 1, torch::kDouble);
  const at::Tensor beta = at::linalg_solve(G, A.t().mm(W * Y)).squeeze(1).contiguous();
  return std::vector<double>(beta.data_ptr<double>(), beta.data_ptr<double>() + d);
}

BatchAttribution fit_surrogates(models::TextClassifier& model, const data::Batch& batch, const ExplainOptions& o,
                                const SurrogateDesign& design, const std::string& name) {
  o.surrogate.validate();
  if (o.surrogate.samples < 2) throw InvalidArgument(name + ": samples must be >= 2, got " + std::to_string(o.surrogate.samples));
  EvalGuard eval(model);
  BatchAttribution out;
  out.targets = resolve_targets(model, batch, o);
  const int64_t B = batch.size();
  const bool pair = batch.pair();
  const auto a = real_ids(batch.ids, batch.token_mask);
  const auto b = pair ? real_ids(batch.ids_b, batch.token_mask_b) : std::vector<std::vector<int64_t>>(B);
  std::vector<std::vector<std::vector<char>>> masks(B);
  std::vector<std::vector<double>> weights(B);
  std::vector<Variant> variants;
  for (int64_t r = 0; r < B; ++r) {
    const int64_t na = static_cast<int64_t>(a[r].size()), d = na + static_cast<int64_t>(b[r].size());
    Rng rng(row_seed(o.seed, a[r], b[r]));
    design.sample(rng, d, masks[r], weights[r]);
    for (const auto& m : masks[r]) {
      std::vector<char> off_a(na), off_b(d - na);
      for (int64_t j = 0; j < d; ++j) (j < na ? off_a[j] : off_b[j - na]) = !m[j];
      variants.push_back({r, remove_tokens(a[r], off_a, o.removal), pair ? remove_tokens(b[r], off_b, o.removal) : b[r]});
    }
  }
  const auto p = variant_probabilities(model, batch_texts(batch), variants, out.targets, o);
  std::vector<std::vector<double>> sa(B), sb(B);
  size_t k = 0;
  for (int64_t r = 0; r < B; ++r) {
    const size_t S = masks[r].size();
    std::vector<double> y(p.begin() + k, p.begin() + k + S);
    k += S;
    const auto coef = weighted_ridge(masks[r], y, weights[r], design.ridge);
    const size_t na = a[r].size();
    sa[r].assign(coef.begin(), coef.begin() + na);
    sb[r].assign(coef.begin() + na, coef.end());
    out.details.push_back({{"samples", S}, {"removal", to_string(o.removal)}});
  }
  out.scores = scatter_rows(sa, batch.token_mask);
  if (pair) out.scores_b = scatter_rows(sb, batch.token_mask_b);
  return out;
}

}  // namespace lumen::explain
