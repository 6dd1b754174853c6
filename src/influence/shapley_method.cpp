// Data Shapley of a model's training points (the "shapley" method). Retraining a BiLSTM for
// every subset is out of reach (a TMC permutation needs up to n retrainings), so the learner is,
// as Ghorbani & Zou do for large models, the last layer on the trained model's frozen features:
// L2-regularised logistic regression (the run's class weights, lambda = max(weight decay, 1e-3)),
// fitted by Newton's method warm-started along each permutation. The utility is its accuracy on
// the held-out (dev) split; U(empty) = 1 / C, a guess. The players are `shapley_points` training
// rows drawn with the seed (all when fewer); values are reported for them only.
#include <torch/torch.h>

#include <chrono>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "influence/methods.h"
#include "influence/shapley.h"

namespace lumen::influence {

namespace {

// Binary / multiclass logistic regression on [features, 1].
class LastLayer {
 public:
  LastLayer(at::Tensor x, at::Tensor y, at::Tensor w, at::Tensor dev_x, at::Tensor dev_y, int64_t classes, double l2)
      : x_(std::move(x)), y_(std::move(y)), w_(std::move(w)), dx_(std::move(dev_x)), dy_(std::move(dev_y)), C_(classes), l2_(l2) {
    const int64_t d = x_.size(1), out = C_ == 2 ? 1 : C_;
    theta_ = torch::zeros({out, d}, torch::kDouble);
  }
  void reset() { theta_.zero_(); }
  // Newton steps from the current weights on `rows`.
  void fit(const std::vector<int64_t>& rows, int64_t iterations = 20) {
    if (rows.empty()) {
      reset();
      return;
    }
    const at::Tensor idx = torch::tensor(rows, torch::kLong);
    const at::Tensor X = x_.index_select(0, idx), y = y_.index_select(0, idx), w = w_.index_select(0, idx);
    const double k = static_cast<double>(rows.size());
    const int64_t d = X.size(1), out = theta_.size(0);
    for (int64_t it = 0; it < iterations; ++it) {
      at::Tensor g, H;
      if (C_ == 2) {
        const at::Tensor p = torch::sigmoid(torch::mv(X, theta_[0]));
        g = torch::mv(X.t(), w * (p - y.to(torch::kDouble))) / k + l2_ * theta_[0];
        H = torch::mm(X.t() * (w * p * (1 - p)), X) / k + l2_ * torch::eye(d, torch::kDouble);
      } else {
        const at::Tensor P = torch::softmax(torch::mm(X, theta_.t()), 1);  // [k, C]
        const at::Tensor R = (P - torch::one_hot(y, C_).to(torch::kDouble)) * w.unsqueeze(1);
        g = (torch::mm(R.t(), X) / k + l2_ * theta_).reshape({-1});
        // Block Hessian: sum_n w_n (diag p - p p^T) (x) x x^T.
        H = torch::zeros({out * d, out * d}, torch::kDouble);
        for (int64_t a = 0; a < out; ++a)
          for (int64_t b = 0; b < out; ++b) {
            const at::Tensor c = w * P.select(1, a) * ((a == b ? 1.0 : 0.0) - P.select(1, b));
            H.narrow(0, a * d, d).narrow(1, b * d, d).copy_(torch::mm(X.t() * c, X) / k);
          }
        H += l2_ * torch::eye(out * d, torch::kDouble);
      }
      const at::Tensor step = torch::linalg_solve(H, g.unsqueeze(1)).squeeze(1);
      theta_ -= step.reshape(theta_.sizes());
      if (step.abs().max().item<double>() < 1e-8) break;
    }
  }
  void sgd(int64_t row, double lr) {
    const at::Tensor x = x_[row];
    const double w = w_[row].item<double>();
    const int64_t y = y_[row].item<int64_t>();
    if (C_ == 2) {
      const double p = torch::sigmoid(torch::dot(x, theta_[0])).item<double>();
      theta_[0] -= lr * (w * (p - y) * x + l2_ * theta_[0]);
    } else {
      at::Tensor p = torch::softmax(torch::mv(theta_, x), 0);
      p[y] -= 1.0;
      theta_ -= lr * (w * torch::outer(p, x) + l2_ * theta_);
    }
  }
  double accuracy() const {
    at::Tensor pred = C_ == 2 ? (torch::mv(dx_, theta_[0]) > 0).to(torch::kLong) : torch::mm(dx_, theta_.t()).argmax(1);
    return (pred == dy_).to(torch::kDouble).mean().item<double>();
  }

 private:
  at::Tensor x_, y_, w_, dx_, dy_, theta_;
  int64_t C_;
  double l2_;
};

double learner_l2(const train::TrainingLoss& loss) { return std::max(loss.weight_decay, 1e-3); }

class SgdLearner : public IncrementalLearner {
 public:
  SgdLearner(LastLayer& layer, const std::vector<int64_t>& rows, double lr) : layer_(layer), rows_(rows), lr_(lr) {}
  void reset() override { layer_.reset(); }
  void step(int64_t player) override { layer_.sgd(rows_[player], lr_); }
  double utility() override { return layer_.accuracy(); }

 private:
  LastLayer& layer_;
  const std::vector<int64_t>& rows_;
  double lr_;
};

// The learner on the run's frozen features: trained on rows of in.train, scored on `eval`.
LastLayer last_layer_for(const InfluenceInputs& in, const data::EncodedSet& eval) {
  models::TextClassifier model = in.model;
  const at::Tensor y = torch::tensor(in.train->labels, torch::kLong);
  return LastLayer(with_bias_column(decoder_features(model, *in.train).context), y,
                   in.loss.class_weights.to(torch::kDouble).index_select(0, y),
                   with_bias_column(decoder_features(model, eval).context), torch::tensor(eval.labels, torch::kLong),
                   in.config.num_classes, learner_l2(in.loss));
}

}  // namespace

std::vector<double> last_layer_removal_curve(const InfluenceInputs& in, const std::vector<int64_t>& order,
                                             const std::vector<double>& fractions, const data::EncodedSet& eval) {
  // The learner trains on the players (`order`'s rows) that are left, as the utility did.
  const int64_t n = in.train->size();
  LastLayer layer = last_layer_for(in, eval);
  std::vector<double> out;
  for (double f : fractions) {
    std::vector<char> removed(n, 0);
    const int64_t k = std::llround(f * static_cast<double>(order.size()));
    for (int64_t j = 0; j < k; ++j) removed[order[j]] = 1;
    std::vector<int64_t> keep;
    for (int64_t i : order)
      if (!removed[i]) keep.push_back(i);
    layer.reset();
    layer.fit(keep, 50);
    out.push_back(layer.accuracy());
  }
  return out;
}

void run_shapley(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  if (in.config.pair) throw InvalidArgument("influence: shapley's last-layer learner needs a single-text model");
  if (in.dev == nullptr || in.dev->size() == 0)
    throw InvalidArgument("influence: shapley needs a held-out (dev) split for its utility");
  if (o.params != "last" && o.params != "decoder")
    throw InvalidArgument("influence: shapley's learner is the last layer on frozen features (--params last)");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = in.train->size(), C = in.config.num_classes;
  const double l2 = learner_l2(in.loss);
  LastLayer layer = last_layer_for(in, *in.dev);
  std::vector<int64_t> rows = all_rows(n);
  if (o.shapley_points < n) {
    Rng rng(o.seed ^ 0x5A3ULL);
    rng.shuffle(rows);
    rows.resize(o.shapley_points);
    std::sort(rows.begin(), rows.end());
  }
  const int64_t players = static_cast<int64_t>(rows.size());
  const double empty = 1.0 / static_cast<double>(C);
  ShapleyOptions so;
  so.algorithm = o.shapley;
  so.max_permutations = o.shapley_permutations;
  so.min_permutations = std::min<int64_t>(50, o.shapley_permutations);
  so.convergence_window = std::min<int64_t>(50, std::max<int64_t>(1, o.shapley_permutations - 1));
  so.tolerance = o.shapley_tolerance;
  so.seed = o.seed;
  // Permutations in blocks of 25 are units of partial results (--resume).
  constexpr int64_t kBlock = 25;
  std::vector<std::vector<double>> pending;  // the current block's marginals
  int64_t cached_block = -1;
  at::Tensor cached;
  auto block_key = [&](int64_t b) { return Json{{"method", "shapley"}, {"algorithm", o.shapley}, {"block", b}, {"players", rows}}; };
  PermutationMemo memo;
  memo.recall = [&](int64_t t) -> std::optional<std::vector<double>> {
    const int64_t b = t / kBlock;
    if (b != cached_block) {
      auto u = in.partial.load(block_key(b));
      cached = u ? u->tensors.at(0) : at::Tensor();
      cached_block = b;
    }
    if (!cached.defined()) return std::nullopt;
    const at::Tensor row = cached[t % kBlock].contiguous();
    return std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
  };
  memo.remember = [&](int64_t t, const std::vector<double>& m) {
    if (t % kBlock == 0) pending.clear();
    pending.push_back(m);
    if (static_cast<int64_t>(pending.size()) == kBlock) {
      at::Tensor block = torch::empty({kBlock, static_cast<int64_t>(m.size())}, torch::kDouble);
      for (int64_t k = 0; k < kBlock; ++k) block[k].copy_(torch::tensor(pending[k], torch::kDouble));
      in.partial.save(block_key(t / kBlock), {block});
    }
  };
  if (in.partial.enabled()) so.memo = &memo;
  so.validate();
  int64_t calls = 0;
  // Warm start: a prefix extends the previous one by one point; anything else starts afresh.
  std::vector<int64_t> last;
  const Utility u = [&](const std::vector<int64_t>& subset) {
    if (subset.empty()) return empty;
    const bool extends = subset.size() == last.size() + 1 && std::equal(last.begin(), last.end(), subset.begin());
    if (!extends) layer.reset();
    std::vector<int64_t> train_rows;
    for (int64_t p : subset) train_rows.push_back(rows[p]);
    layer.fit(train_rows);
    last = subset;
    if (++calls % 200 == 0) in.report("utility evaluations", calls, calls);
    return layer.accuracy();
  };
  ShapleyResult s;
  if (o.shapley == "exact") {
    if (players > 20)
      throw InvalidArgument("influence: exact Shapley enumerates 2^n subsets; use --shapley-points <= 20 or --shapley tmc");
    s = exact_shapley(players, u);
  } else if (o.shapley == "tmc") {
    s = tmc_shapley(players, u, so);
  } else {
    SgdLearner learner(layer, rows, o.shapley_lr);
    s = g_shapley(players, learner, empty, so);
  }
  r.parameters = {{"spec", "last"}, {"groups", {"decoder"}}, {"names", Json::array()}, {"count", (in.config.output_dim() + 1) * (C == 2 ? 1 : C)}};
  r.value_rows = rows;
  r.values = s.values;
  r.value_errors = s.standard_error;
  r.sign = "value > 0: the point raises the held-out accuracy of the last-layer learner (Shapley value, sums to U(D) - U(empty))";
  Json d = s.to_json();
  d["algorithm"] = o.shapley;
  d["players"] = players;
  d["l2"] = l2;
  d["sum_of_values"] = std::accumulate(s.values.begin(), s.values.end(), 0.0);
  r.diagnostics["shapley"] = d;
  r.diagnostics["converged"] = s.converged;
  if (in.partial.enabled()) r.diagnostics["resumed_units"] = in.partial.reused();
  if (!s.converged) r.diagnostics["diagnosis"] = s.diagnosis;
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
