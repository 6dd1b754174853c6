// Known answers for the second-order tools (issue #12, must show 1): HVPs against finite
// differences of the gradient; exact and CG solves against an explicit inverse, on L2-regularised
// logistic regression and on sum(sin x); LiSSA within 1.5e-2 there; a too-small LiSSA scale and a
// singular Hessian reported, never returned as numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "influence/hessian.h"

namespace lumen::influence {
namespace {

// L2-regularised logistic regression on a fixed random set: mean log loss + l2/2 |w|^2.
struct Logistic {
  at::Tensor X, y;
  double l2 = 0.1;
  Logistic() {
    torch::manual_seed(3);
    X = torch::randn({60, 5}, torch::kDouble);
    y = (torch::rand({60}, torch::kDouble) < 0.5).to(torch::kDouble);
  }
  Objective objective() const {
    return [this](const std::vector<at::Tensor>& p) {
      const at::Tensor z = torch::mv(X, p[0]) + p[1];
      return torch::binary_cross_entropy_with_logits(z, y) + 0.5 * l2 * (p[0] * p[0]).sum();
    };
  }
  // The analytic Hessian over (w, b).
  at::Tensor analytic(const std::vector<at::Tensor>& p) const {
    const at::Tensor z = torch::mv(X, p[0]) + p[1];
    const at::Tensor s = torch::sigmoid(z);
    const at::Tensor d = s * (1 - s) / X.size(0);
    const at::Tensor Xa = torch::cat({X, torch::ones({X.size(0), 1}, torch::kDouble)}, 1);
    at::Tensor H = torch::mm(Xa.t() * d, Xa);
    H.narrow(0, 0, 5).narrow(1, 0, 5).add_(torch::eye(5, torch::kDouble) * l2);
    return H;
  }
};

std::vector<at::Tensor> params() { return {torch::tensor({0.3, -0.2, 0.5, 0.1, -0.4}, torch::kDouble), torch::tensor({0.05}, torch::kDouble)}; }

at::Tensor gradient(const Objective& f, const std::vector<at::Tensor>& p) {
  std::vector<at::Tensor> leaves;
  for (const auto& t : p) leaves.push_back(t.detach().clone().requires_grad_(true));
  return flatten(torch::autograd::grad({f(leaves)}, leaves));
}

TEST(Hessian, VectorProductsMatchFiniteDifferencesAndTheAnalyticHessian) {
  Logistic lr;
  const auto f = lr.objective();
  const auto p = params();
  const at::Tensor v = torch::randn({6}, torch::kDouble);
  const at::Tensor hv = flatten(hvp(f, p, unflatten(v, p)));
  const double eps = 1e-5;
  const at::Tensor fp = flatten(p);
  const at::Tensor fd = (gradient(f, unflatten(fp + eps * v, p)) - gradient(f, unflatten(fp - eps * v, p))) / (2 * eps);
  EXPECT_LT((hv - fd).abs().max().item<double>(), 1e-8);
  EXPECT_LT((hessian(f, p) - lr.analytic(p)).abs().max().item<double>(), 1e-12);
  EXPECT_THROW(hessian(f, p, 3), InvalidArgument);
}

TEST(Hessian, ExactAndCgSolvesEqualTheExplicitInverseAndLissaComesWithin) {
  Logistic lr;
  const auto p = params();
  const at::Tensor b = torch::randn({6}, torch::kDouble);
  // sum(sin x): Hessian diag(-sin x), indefinite; damping 2 makes it positive definite.
  const at::Tensor x0 = torch::tensor({0.3, 1.2, -0.7, 2.0, -1.5, 0.1}, torch::kDouble);
  const Objective sines = [](const std::vector<at::Tensor>& q) { return torch::sin(q[0]).sum(); };
  struct Case {
    Objective f;
    std::vector<at::Tensor> at;
    at::Tensor H;
    double damping;
  };
  const std::vector<Case> cases = {
      {lr.objective(), p, lr.analytic(p), 0.0},
      {sines, {x0}, torch::diag(-torch::sin(x0)), 2.0},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const auto& c = cases[k];
    const at::Tensor want =
        torch::linalg_solve(c.H + c.damping * torch::eye(6, torch::kDouble), b.unsqueeze(1)).squeeze(1);
    const auto parts = unflatten(b, c.at);
    for (Solver s : {Solver::kExact, Solver::kCg, Solver::kLissa}) {
      SolveOptions o;
      o.solver = s;
      o.damping = c.damping;
      o.lissa_scale = 4.0;
      o.lissa_depth = 2000;
      const SolveResult r = solve(c.f, c.at, parts, o);
      ASSERT_TRUE(r.converged) << k << " " << to_string(s) << ": " << r.diagnosis;
      const double err = ((flatten(r.x) - want).norm() / want.norm()).item<double>();
      EXPECT_LT(err, s == Solver::kLissa ? 1.5e-2 : 1e-8) << k << " " << to_string(s);
      EXPECT_LT(r.residual, s == Solver::kLissa ? 1.5e-2 : 1e-7) << k << " " << to_string(s);
    }
  }
}

TEST(Hessian, DivergenceAndSingularityAreReportedNotReturned) {
  const at::Tensor x0 = torch::tensor({0.3, 1.2, -0.7}, torch::kDouble);
  const Objective quad = [](const std::vector<at::Tensor>& q) {
    return 5.0 * (q[0] * q[0]).sum();  // Hessian 10 I
  };
  SolveOptions o;
  o.solver = Solver::kLissa;
  o.lissa_scale = 2.0;  // below 10: (1 - 10 / 2) = -4 per step
  SolveResult r = solve(quad, {x0}, {torch::ones({3}, torch::kDouble)}, o);
  EXPECT_FALSE(r.converged);
  EXPECT_TRUE(r.x.empty());
  EXPECT_NE(r.diagnosis.find("raise --lissa-scale"), std::string::npos) << r.diagnosis;
  // A singular Hessian (a direction the objective ignores) without damping.
  const Objective flat = [](const std::vector<at::Tensor>& q) { return (q[0].narrow(0, 0, 2).pow(2)).sum(); };
  o.solver = Solver::kExact;
  r = solve(flat, {x0}, {torch::ones({3}, torch::kDouble)}, o);
  EXPECT_FALSE(r.converged);
  EXPECT_TRUE(r.x.empty());
  EXPECT_NE(r.diagnosis.find("damping"), std::string::npos) << r.diagnosis;
  o.damping = 0.1;
  EXPECT_TRUE(solve(flat, {x0}, {torch::ones({3}, torch::kDouble)}, o).converged);
  o.solver = Solver::kCg;
  o.damping = 0;
  const Objective sines = [](const std::vector<at::Tensor>& q) { return torch::sin(q[0]).sum(); };
  r = solve(sines, {x0}, {torch::ones({3}, torch::kDouble)}, o);  // indefinite: CG must refuse
  EXPECT_FALSE(r.converged);
  EXPECT_TRUE(r.x.empty());
  EXPECT_THROW(parse_solver("newton"), InvalidArgument);
  o.lissa_depth = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

}  // namespace
}  // namespace lumen::influence
