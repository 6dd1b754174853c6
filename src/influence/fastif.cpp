// FastIF (Guo et al. 2020): influence functions restricted, per test point, to the k training
// points nearest to it in the model's representation space (the decoder's input features, L2
// distance), with one inverse-HVP per test point (conjugate gradient) reused for all its
// candidates. Scores of training points outside a test point's candidates are 0 (not scored);
// the candidates are listed in the diagnostics. Everything else is if-cg
// (influence_functions.cpp).
#include <torch/torch.h>

#include <chrono>

#include "core/error.h"
#include "influence/methods.h"

namespace lumen::influence {

void run_fastif(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  if (o.self_influence) throw InvalidArgument("influence: fastif scores test points only; use if-exact for self-influence");
  const SecondOrderSetup setup = second_order_setup(in, o);
  models::TextClassifier model = setup.model;
  const ParameterSelection& sel = setup.sel;
  r.parameters = sel.to_json();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = in.train->size(), nt = in.test->size();
  const int64_t k = std::min<int64_t>(o.fastif_candidates, n);
  const Features ftrain = decoder_features(model, *in.train), ftest = decoder_features(model, *in.test);
  const at::Tensor dist = torch::cdist(ftest.context, ftrain.context);  // [nt, n]
  const at::Tensor nearest = std::get<1>(dist.topk(k, 1, /*largest=*/false));
  const Objective& f = setup.objective;
  const std::vector<at::Tensor>& at_params = setup.at_params;
  SolveOptions so = o.solve;
  so.solver = Solver::kCg;
  PerExampleGradients train_grads(model, in.loss, sel), test_grads(model, test_loss(in.loss), sel);
  const at::Tensor gt = test_grads.compute(*in.test, all_rows(nt), in.test_labels);
  r.scores = torch::zeros({nt, n}, torch::kDouble);
  Json candidates = Json::array();
  double worst = 0;
  for (int64_t t = 0; t < nt; ++t) {
    const SolveResult s = solve(f, at_params, unflatten(gt[t], at_params), so);
    if (!s.converged) {
      r.scores = at::Tensor();
      r.diagnostics["converged"] = false;
      r.diagnostics["diagnosis"] = "test point " + std::to_string(t) + ": " + s.diagnosis;
      return;
    }
    worst = std::max(worst, s.residual);
    const at::Tensor idx = nearest[t].contiguous();
    const std::vector<int64_t> cand(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + k);
    const at::Tensor g = train_grads.compute(*in.train, cand);
    r.scores[t].index_copy_(0, idx, torch::mv(g, flatten(s.x)) / static_cast<double>(n));
    candidates.push_back(cand);
    in.report("test points", t + 1, nt);
  }
  r.diagnostics["converged"] = true;
  r.diagnostics["candidates"] = k;
  r.diagnostics["candidate_rows"] = candidates;
  r.diagnostics["max_relative_residual"] = worst;
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
