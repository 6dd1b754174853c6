// Second-order tools for influence (issue #12): Hessian-vector products by double backward, the
// explicit Hessian of a small parameter set, and inverse-Hessian-vector solvers: exact (explicit
// Hessian, Cholesky or LU), conjugate gradient and LiSSA (Agarwal et al. 2017, as Koh & Liang
// 2017 use it), each solving (H + damping I) x = b and reporting its relative residual. LiSSA's
// divergence (a scale below the Hessian's largest eigenvalue) is detected and reported with
// advice, never returned as numbers.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::influence {

// A scalar objective of a list of parameter tensors, built with autograd (e.g. the training loss
// over a batch): it must be twice differentiable in them. Parameters that are leaves requiring
// gradients (a model's own) are passed to it in place; others as fresh copies.
using Objective = std::function<at::Tensor(const std::vector<at::Tensor>& params)>;

// H v, H the Hessian of f at `params` (v shaped like params), by double backward; float64 out.
std::vector<at::Tensor> hvp(const Objective& f, const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& v);

// The explicit Hessian [P, P] (P = total parameter count, params flattened in order), float64;
// throws InvalidArgument above `max_params` (P HVPs, P^2 memory).
at::Tensor hessian(const Objective& f, const std::vector<at::Tensor>& params, int64_t max_params = 4096);

enum class Solver { kExact, kCg, kLissa };
std::string to_string(Solver s);
Solver parse_solver(const std::string& s);

struct SolveOptions {
  Solver solver = Solver::kCg;
  double damping = 0.0;  // lambda in (H + lambda I)
  // conjugate gradient
  int64_t cg_max_iterations = 200;
  double cg_tolerance = 1e-8;  // relative residual
  // LiSSA: x <- b + (I - (H + lambda I) / scale) x, `depth` steps, `repeats` averaged; the
  // estimate is x / scale. Converges when scale exceeds the largest eigenvalue of H + lambda I.
  double lissa_scale = 10.0;
  int64_t lissa_depth = 1000;
  int64_t lissa_repeats = 1;
  void validate() const;
  Json to_json() const;
};

struct SolveResult {
  std::vector<at::Tensor> x;  // empty when not converged
  bool converged = false;
  int64_t iterations = 0;      // HVPs (exact: the P of the explicit Hessian)
  double residual = 0;         // |(H + lambda I) x - b| / |b|
  std::string diagnosis;       // why not converged, with advice
  Json to_json() const;
};

// Solves (H + damping I) x = b.
SolveResult solve(const Objective& f, const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& b,
                  const SolveOptions& options);

// Helpers on lists of tensors (flattened in order).
at::Tensor flatten(const std::vector<at::Tensor>& ts);
std::vector<at::Tensor> unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& like);

}  // namespace lumen::influence

namespace lumen::influence {

// Minimises a convex, twice-differentiable objective by Newton's method with backtracking (the
// explicit Hessian, so params of at most `max_params` values; float64), from `start`. Used for
// the L2 fine-tuning of a last layer (representer points) and exact retraining of one.
struct NewtonResult {
  std::vector<at::Tensor> x;
  double value = 0;
  double gradient_norm = 0;  // |grad f| at x
  int64_t iterations = 0;
  bool converged = false;
};
NewtonResult minimise_newton(const Objective& f, const std::vector<at::Tensor>& start, int64_t max_iterations = 50,
                             double gradient_tolerance = 1e-10, int64_t max_params = 4096);

}  // namespace lumen::influence
