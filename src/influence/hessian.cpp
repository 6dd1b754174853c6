#include "influence/hessian.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace lumen::influence {

at::Tensor flatten(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> flat;
  for (const auto& t : ts) flat.push_back(t.reshape({-1}).to(torch::kDouble));
  return flat.empty() ? torch::zeros({0}, torch::kDouble) : torch::cat(flat);
}

std::vector<at::Tensor> unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& like) {
  std::vector<at::Tensor> out;
  int64_t at = 0;
  for (const auto& t : like) {
    out.push_back(flat.narrow(0, at, t.numel()).reshape(t.sizes()).clone());
    at += t.numel();
  }
  if (at != flat.numel()) throw InvalidArgument("influence: a vector of " + std::to_string(flat.numel()) +
                                                " values for " + std::to_string(at) + " parameters");
  return out;
}

namespace {

// The gradient graph built once; each apply() is one more backward through it.
class HvpOperator {
 public:
  HvpOperator(const Objective& f, const std::vector<at::Tensor>& params) {
    torch::AutoGradMode grad_mode(true);
    // A model's own parameters (leaves that require gradients) are used in place, so that an
    // objective can run the model; anything else is differentiated through a copy.
    for (const auto& p : params) leaves_.push_back(p.is_leaf() && p.requires_grad() ? p : p.detach().clone().requires_grad_(true));
    const at::Tensor loss = f(leaves_);
    if (loss.numel() != 1) throw InvalidArgument("influence: the objective must be a scalar");
    grads_ = torch::autograd::grad({loss}, leaves_, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                   /*allow_unused=*/true);
    for (size_t i = 0; i < grads_.size(); ++i)
      if (!grads_[i].defined()) grads_[i] = torch::zeros_like(leaves_[i]);
  }
  // H v for a flat float64 v.
  at::Tensor apply(const at::Tensor& v) {
    torch::AutoGradMode grad_mode(true);
    const auto parts = unflatten(v, leaves_);
    at::Tensor dot = torch::zeros({}, grads_[0].options());
    for (size_t i = 0; i < grads_.size(); ++i)
      if (grads_[i].requires_grad()) dot = dot + (grads_[i] * parts[i].to(grads_[i].scalar_type())).sum();
    ++calls_;
    if (!dot.requires_grad()) return torch::zeros_like(v);  // the objective is linear in the parameters
    auto hv = torch::autograd::grad({dot}, leaves_, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                    /*allow_unused=*/true);
    for (size_t i = 0; i < hv.size(); ++i)
      if (!hv[i].defined()) hv[i] = torch::zeros_like(leaves_[i]);
    return flatten(hv);
  }
  int64_t size() const {
    int64_t n = 0;
    for (const auto& l : leaves_) n += l.numel();
    return n;
  }
  int64_t calls() const { return calls_; }
  const std::vector<at::Tensor>& leaves() const { return leaves_; }

 private:
  std::vector<at::Tensor> leaves_, grads_;
  int64_t calls_ = 0;
};

double l2norm(const at::Tensor& x) { return x.norm().item<double>(); }

}  // namespace

std::vector<at::Tensor> hvp(const Objective& f, const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& v) {
  HvpOperator op(f, params);
  return unflatten(op.apply(flatten(v)), params);
}

at::Tensor hessian(const Objective& f, const std::vector<at::Tensor>& params, int64_t max_params) {
  HvpOperator op(f, params);
  const int64_t P = op.size();
  if (P > max_params)
    throw InvalidArgument("influence: an explicit Hessian of " + std::to_string(P) + " parameters (the limit is " +
                          std::to_string(max_params) + "); use cg or lissa, or a smaller parameter group");
  at::Tensor H = torch::zeros({P, P}, torch::kDouble);
  for (int64_t j = 0; j < P; ++j) {
    at::Tensor e = torch::zeros({P}, torch::kDouble);
    e[j] = 1.0;
    H.select(1, j).copy_(op.apply(e));
  }
  return 0.5 * (H + H.t());  // symmetric up to rounding
}

std::string to_string(Solver s) {
  switch (s) {
    case Solver::kExact: return "exact";
    case Solver::kCg: return "cg";
    case Solver::kLissa: return "lissa";
  }
  return "cg";
}

Solver parse_solver(const std::string& s) {
  if (s == "exact") return Solver::kExact;
  if (s == "cg") return Solver::kCg;
  if (s == "lissa") return Solver::kLissa;
  throw InvalidArgument("influence: the solver must be exact, cg or lissa; got '" + s + "'");
}

void SolveOptions::validate() const {
  if (!(damping >= 0) || !std::isfinite(damping)) throw InvalidArgument("influence: damping must be >= 0");
  if (cg_max_iterations < 1 || !(cg_tolerance > 0)) throw InvalidArgument("influence: cg needs iterations >= 1 and a tolerance > 0");
  if (!(lissa_scale > 0) || lissa_depth < 1 || lissa_repeats < 1)
    throw InvalidArgument("influence: lissa needs a scale > 0, depth >= 1 and repeats >= 1");
}

Json SolveOptions::to_json() const {
  return {{"solver", to_string(solver)},
          {"damping", damping},
          {"cg", {{"max_iterations", cg_max_iterations}, {"tolerance", cg_tolerance}}},
          {"lissa", {{"scale", lissa_scale}, {"depth", lissa_depth}, {"repeats", lissa_repeats}}}};
}

Json SolveResult::to_json() const {
  Json j{{"converged", converged}, {"iterations", iterations}, {"residual", std::isfinite(residual) ? Json(residual) : Json(nullptr)}};
  if (!diagnosis.empty()) j["diagnosis"] = diagnosis;
  return j;
}

SolveResult solve(const Objective& f, const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& b_parts,
                  const SolveOptions& o) {
  o.validate();
  HvpOperator op(f, params);
  const at::Tensor b = flatten(b_parts);
  if (b.numel() != op.size()) throw InvalidArgument("influence: b does not have the parameters' shape");
  const double nb = l2norm(b);
  SolveResult r;
  auto A = [&](const at::Tensor& v) { return op.apply(v) + o.damping * v; };
  auto finish = [&](const at::Tensor& x) {
    r.residual = nb > 0 ? l2norm(A(x) - b) / nb : 0.0;
    r.x = unflatten(x, params);
  };
  if (nb == 0) {
    r.converged = true;
    r.x = unflatten(torch::zeros_like(b), params);
    return r;
  }
  if (o.solver == Solver::kExact) {
    at::Tensor H = hessian(f, params) + o.damping * torch::eye(op.size(), torch::kDouble);
    r.iterations = op.size();
    const at::Tensor ev = torch::linalg_eigvalsh(H);
    const double lo = ev.min().item<double>(), hi = ev.abs().max().item<double>();
    if (std::abs(lo) <= 1e-12 * std::max(hi, 1e-300) || !std::isfinite(lo)) {
      r.diagnosis = "the damped Hessian is singular (smallest eigenvalue " + std::to_string(lo) +
                    "): add damping (e.g. --damping 0.01)";
      return r;
    }
    finish(torch::linalg_solve(H, b.unsqueeze(1)).squeeze(1));
    r.converged = r.residual <= 1e-6;
    if (!r.converged) r.diagnosis = "the exact solve left a residual of " + std::to_string(r.residual) + " (ill-conditioned)";
    if (lo < 0) r.diagnosis += std::string(r.diagnosis.empty() ? "" : "; ") + "the damped Hessian is not positive definite (smallest eigenvalue " + std::to_string(lo) + ")";
    return r;
  }
  if (o.solver == Solver::kCg) {
    at::Tensor x = torch::zeros_like(b), res = b.clone(), p = b.clone();
    double rr = (res * res).sum().item<double>();
    for (int64_t k = 0; k < o.cg_max_iterations; ++k) {
      const at::Tensor Ap = A(p);
      const double pAp = (p * Ap).sum().item<double>();
      ++r.iterations;
      if (!(pAp > 0)) {
        r.diagnosis = "the damped Hessian is not positive definite along a search direction (p'Ap = " +
                      std::to_string(pAp) + "): raise --damping";
        return r;
      }
      const double alpha = rr / pAp;
      x = x + alpha * p;
      res = res - alpha * Ap;
      const double rr2 = (res * res).sum().item<double>();
      if (std::sqrt(rr2) / nb <= o.cg_tolerance) break;
      p = res + (rr2 / rr) * p;
      rr = rr2;
    }
    finish(x);
    r.converged = r.residual <= std::max(o.cg_tolerance * 10, 1e-6);
    if (!r.converged)
      r.diagnosis = "conjugate gradient stopped at " + std::to_string(r.iterations) + " iterations with residual " +
                    std::to_string(r.residual) + ": raise the iterations or the damping";
    return r;
  }
  // LiSSA.
  at::Tensor sum = torch::zeros_like(b);
  for (int64_t rep = 0; rep < o.lissa_repeats; ++rep) {
    at::Tensor h = b.clone();
    for (int64_t j = 0; j < o.lissa_depth; ++j) {
      h = b + h - A(h) / o.lissa_scale;
      ++r.iterations;
      const double nh = l2norm(h);
      if (!std::isfinite(nh) || nh > 1e8 * nb) {
        r.diagnosis = "LiSSA diverged after " + std::to_string(j + 1) + " steps (|h| grew to " + std::to_string(nh) +
                      " x |b|): the scale " + std::to_string(o.lissa_scale) +
                      " is below the damped Hessian's largest eigenvalue; raise --lissa-scale (or add damping if the "
                      "Hessian has negative eigenvalues)";
        return r;
      }
    }
    sum = sum + h / o.lissa_scale;
  }
  finish(sum / static_cast<double>(o.lissa_repeats));
  r.converged = r.residual <= 0.05;
  if (!r.converged)
    r.diagnosis = "LiSSA has not converged (residual " + std::to_string(r.residual) +
                  "): raise --lissa-depth (the error shrinks as (1 - lambda_min / scale)^depth) or the damping";
  return r;
}

}  // namespace lumen::influence

namespace lumen::influence {

NewtonResult minimise_newton(const Objective& f, const std::vector<at::Tensor>& start, int64_t max_iterations,
                             double tolerance, int64_t max_params) {
  std::vector<at::Tensor> x;
  for (const auto& t : start) x.push_back(t.detach().to(torch::kDouble).clone());
  auto value_and_gradient = [&](const std::vector<at::Tensor>& p, at::Tensor* g) {
    torch::AutoGradMode grad_mode(true);
    std::vector<at::Tensor> leaves;
    for (const auto& t : p) leaves.push_back(t.detach().clone().requires_grad_(true));
    const at::Tensor v = f(leaves);
    if (g != nullptr) {
      auto gs = torch::autograd::grad({v}, leaves, {}, false, false, /*allow_unused=*/true);
      for (size_t i = 0; i < gs.size(); ++i)
        if (!gs[i].defined()) gs[i] = torch::zeros_like(leaves[i]);
      *g = flatten(gs);
    }
    return v.item<double>();
  };
  NewtonResult r;
  at::Tensor g;
  double value = value_and_gradient(x, &g);
  for (r.iterations = 0; r.iterations < max_iterations; ++r.iterations) {
    r.gradient_norm = g.norm().item<double>();
    if (r.gradient_norm <= tolerance) break;
    at::Tensor H = hessian(f, x, max_params);
    H.diagonal().add_(1e-12 * std::max(1.0, H.diagonal().abs().max().item<double>()));
    const at::Tensor step = torch::linalg_solve(H, g.unsqueeze(1)).squeeze(1);
    const at::Tensor flat = flatten(x);
    double t = 1.0;
    bool moved = false;
    for (int k = 0; k < 40; ++k, t *= 0.5) {
      auto candidate = unflatten(flat - t * step, x);
      const double v = value_and_gradient(candidate, nullptr);
      if (std::isfinite(v) && v <= value - 1e-4 * t * (g * step).sum().item<double>()) {
        x = candidate;
        moved = true;
        break;
      }
    }
    if (!moved) break;  // no decrease left at double precision
    value = value_and_gradient(x, &g);
  }
  r.gradient_norm = g.norm().item<double>();
  r.value = value;
  r.converged = r.gradient_norm <= std::max(tolerance, 1e-8);
  r.x = x;
  return r;
}

}  // namespace lumen::influence
