// Influence functions (Koh & Liang 2017). With theta the minimiser of the training objective
// L(theta) = (1/n) sum_i l(z_i) + R(theta) (train/loss.h) and H its Hessian, removing z_i moves
// the parameters by about (1/n) H^-1 grad l(z_i), so the test loss changes by
//   I(z_test, z_i) = (1/n) grad l(z_test)^T H^-1 grad l(z_i)
// (> 0: removing z_i raises the test loss, a proponent). One inverse-HVP s_t = H^-1 grad l(z_t)
// per test point, reused over the whole (streamed) training set. Self-influence:
// (1/n) grad l(z_i)^T H^-1 grad l(z_i). The Hessian: of the decoder on cached features (exact,
// float64), or of the whole model in differentiable mode (a float64 copy) on `hessian_samples`
// training rows.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "influence/methods.h"

namespace lumen::influence {

SecondOrderSetup second_order_setup(const InfluenceInputs& in, const InfluenceOptions& o) {
  SecondOrderSetup s;
  s.model = in.model;
  s.sel = select_parameters(s.model, o.params);
  if (!s.sel.decoder_only()) {
    s.model = clone_model(s.model, in.config, torch::kDouble);
    s.sel = select_parameters(s.model, o.params);
  }
  const int64_t n = in.train->size();
  s.hessian_rows = all_rows(n);
  if (!s.sel.decoder_only() && o.hessian_samples > 0 && o.hessian_samples < n) {
    Rng rng(o.seed ^ 0x4e55ULL);
    rng.shuffle(s.hessian_rows);
    s.hessian_rows.resize(o.hessian_samples);
    std::sort(s.hessian_rows.begin(), s.hessian_rows.end());
  }
  s.objective = training_objective(s.model, in.loss, s.sel, *in.train, s.hessian_rows);
  s.at_params = s.sel.decoder_only() ? detached_values(s.sel) : s.sel.tensors;
  return s;
}

void run_influence_functions(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  SolveOptions so = o.solve;
  so.solver = parse_solver(o.method.substr(3));
  const SecondOrderSetup setup = second_order_setup(in, o);
  models::TextClassifier model = setup.model;
  const ParameterSelection& sel = setup.sel;
  const std::vector<int64_t>& hessian_rows = setup.hessian_rows;
  const Objective& f = setup.objective;
  const std::vector<at::Tensor>& at_params = setup.at_params;
  r.parameters = sel.to_json();
  const int64_t n = in.train->size();
  PerExampleGradients train_grads(model, in.loss, sel);
  PerExampleGradients test_grads(model, test_loss(in.loss), sel);
  const int64_t nt = in.test->size();
  const at::Tensor gt = nt > 0 ? test_grads.compute(*in.test, all_rows(nt), in.test_labels) : torch::zeros({0, sel.count}, torch::kDouble);
  r.diagnostics["hessian_rows"] = static_cast<int64_t>(hessian_rows.size());
  r.diagnostics["solver"] = so.to_json();
  const auto t0 = std::chrono::steady_clock::now();

  // s_t = H^-1 g_t for every test point: an explicit inverse for the exact solver (one Hessian
  // for all), one CG / LiSSA solve per test point otherwise.
  at::Tensor S;           // [nt, P]
  at::Tensor inverse;     // [P, P] (exact only)
  Json solves = Json::array();
  bool ok = true;
  if (so.solver == Solver::kExact) {
    at::Tensor H = hessian(f, at_params) + so.damping * torch::eye(sel.count, torch::kDouble);
    const at::Tensor ev = torch::linalg_eigvalsh(H);
    const double lo = ev.min().item<double>(), hi = ev.abs().max().item<double>();
    r.diagnostics["eigenvalues"] = {{"min", lo}, {"max", ev.max().item<double>()}};
    if (!std::isfinite(lo) || lo <= 1e-12 * std::max(hi, 1e-300)) {
      ok = false;
      r.diagnostics["diagnosis"] = std::string(std::abs(lo) <= 1e-12 * std::max(hi, 1e-300) ? "the damped Hessian is singular"
                                                                                            : "the damped Hessian is not positive definite") +
                                   " (smallest eigenvalue " + std::to_string(lo) + "): raise --damping (e.g. " +
                                   std::to_string(std::max(1e-3, -2 * lo)) + ")";
    } else {
      inverse = torch::linalg_inv(H);
      S = torch::mm(gt, inverse);
      const at::Tensor res = torch::mm(S, H) - gt;
      r.diagnostics["max_relative_residual"] =
          nt > 0 ? (res.norm(2, {1}) / gt.norm(2, {1}).clamp_min(1e-300)).max().item<double>() : 0.0;
    }
  } else {
    S = torch::zeros({nt, sel.count}, torch::kDouble);
    double worst = 0;
    for (int64_t t = 0; t < nt && ok; ++t) {
      // Each converged solve is a unit of partial results (--resume); the test gradient is in
      // its key, so a changed model or test point is solved again.
      const Json unit{{"method", o.method}, {"solve", "test"}, {"test", t},
                      {"gradient", {gt[t].sum().item<double>(), gt[t].abs().sum().item<double>()}}};
      if (auto done = in.partial.load(unit)) {
        solves.push_back(done->info);
        worst = std::max(worst, done->info.value("residual", 0.0));
        S[t].copy_(done->tensors.at(0));
        in.report("inverse-HVP", t + 1, nt);
        continue;
      }
      SolveResult s = solve(f, at_params, unflatten(gt[t], at_params), so);
      solves.push_back(s.to_json());
      in.report("inverse-HVP", t + 1, nt);
      if (!s.converged) {
        ok = false;
        r.diagnostics["diagnosis"] = "test point " + std::to_string(t) + ": " + s.diagnosis;
        break;
      }
      worst = std::max(worst, s.residual);
      S[t].copy_(flatten(s.x));
      in.partial.save(unit, {S[t]}, s.to_json());
    }
    if (in.partial.enabled()) r.diagnostics["resumed_units"] = in.partial.reused();
    r.diagnostics["max_relative_residual"] = worst;
  }
  r.diagnostics["solves"] = solves;
  r.diagnostics["converged"] = ok;
  if (!ok) return;  // no numbers that are not trusted

  const double inv_n = 1.0 / static_cast<double>(n);
  r.scores = torch::zeros({nt, n}, torch::kDouble);
  std::vector<double> self;
  if (o.self_influence) self.assign(n, 0.0);
  int64_t done = 0;
  Json self_solves = Json::array();
  train_grads.for_each_chunk(
      *in.train, {},
      [&](const std::vector<int64_t>& rows, const at::Tensor& g) {
        const at::Tensor idx = torch::tensor(rows, torch::kLong);
        if (nt > 0) r.scores.index_copy_(1, idx, inv_n * torch::mm(S, g.t()));
        if (o.self_influence) {
          if (inverse.defined()) {
            const at::Tensor d = (torch::mm(g, inverse) * g).sum(1) * inv_n;
            for (size_t k = 0; k < rows.size(); ++k) self[rows[k]] = d[k].item<double>();
          } else {
            for (size_t k = 0; k < rows.size() && ok; ++k) {
              SolveResult s = solve(f, at_params, unflatten(g[k], at_params), so);
              if (!s.converged) {
                ok = false;
                r.diagnostics["diagnosis"] = "self-influence of training row " + std::to_string(rows[k]) + ": " + s.diagnosis;
                break;
              }
              self[rows[k]] = inv_n * (flatten(s.x) * g[k]).sum().item<double>();
            }
          }
        }
        done += static_cast<int64_t>(rows.size());
        in.report("training gradients", done, n);
      },
      {}, o.memory_bytes);
  r.diagnostics["converged"] = ok;
  if (!ok) {
    r.scores = at::Tensor();
    return;
  }
  r.self_influence = std::move(self);
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
