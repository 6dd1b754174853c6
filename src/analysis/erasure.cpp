#include "analysis/erasure.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/rng.h"

namespace lumen::analysis {

namespace {
int64_t argmax(const std::vector<double>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

// Items by decreasing score (ties by position).
std::vector<int64_t> ranking_of(const std::vector<double>& score) {
  std::vector<int64_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  return order;
}
}  // namespace

std::vector<double> erase_weights(const std::vector<double>& a, const std::vector<int64_t>& erased) {
  std::vector<double> w(a);
  for (int64_t t : erased) w[t] = 0;
  const double rest = std::accumulate(w.begin(), w.end(), 0.0);
  if (!(rest > 1e-12)) return {};  // nothing left to renormalise (up to rounding)
  for (double& x : w) x /= rest;
  return w;
}

std::vector<double> attention_gradient(models::TextClassifier& model, const Decision& d) {
  const int64_t y = argmax(d.probs);
  std::vector<double> g(d.n, 0.0);
  if (d.affine()) {
    // p = softmax(sum_t a_t L_t + b): d p_y / d a_t = p_y (L_t[y] - sum_c p_c L_t[c]).
    for (int64_t t = 0; t < d.n; ++t) {
      double mean = 0;
      for (int64_t c = 0; c < d.classes; ++c) mean += d.probs[c] * d.token_logits[t * d.classes + c];
      g[t] = d.probs[y] * (d.token_logits[t * d.classes + y] - mean);
    }
    return g;
  }
  torch::AutoGradMode grad(true);
  at::Tensor w = torch::tensor(d.attention, torch::kDouble).unsqueeze(0).requires_grad_(true);
  at::Tensor context = torch::mm(w.to(d.states.scalar_type()), d.states.detach());
  at::Tensor p = output_probs(model->decoder(context, d.query.detach().unsqueeze(0)));
  p.index({0, y}).backward();
  at::Tensor gw = w.grad().contiguous();
  std::copy(gw.data_ptr<double>(), gw.data_ptr<double>() + d.n, g.begin());
  return g;
}

std::vector<std::string> erasure_rankings(bool with_loo) {
  std::vector<std::string> r = {"attention", "gradient", "attention_gradient"};
  if (with_loo) r.push_back("loo");
  r.push_back("random");
  return r;
}

namespace {
// Affine decoders: erase a ranking's items one by one, keeping sum_{t kept} a_t L_t and the kept
// mass; the logits of the renormalised weights are that sum / mass + bias.
ErasureOrder erase_running(const Decision& d, const std::vector<int64_t>& order, int64_t y) {
  ErasureOrder e;
  const int64_t C = d.classes;
  std::vector<double> num(C, 0.0), z(C);
  double kept = 0;
  for (int64_t t = 0; t < d.n; ++t) {
    kept += d.attention[t];
    for (int64_t c = 0; c < C; ++c) num[c] += d.attention[t] * d.token_logits[t * C + c];
  }
  double mass = 0;
  for (int64_t k = 1; k < d.n; ++k) {
    const int64_t t = order[k - 1];
    kept -= d.attention[t];
    mass += d.attention[t];
    for (int64_t c = 0; c < C; ++c) num[c] -= d.attention[t] * d.token_logits[t * C + c];
    if (!(kept > 1e-12)) break;  // the rest sum to zero (up to rounding)
    for (int64_t c = 0; c < C; ++c) z[c] = num[c] / kept + d.bias[c];
    if (argmax(z) != y) {
      e.removed = k;
      e.fraction = static_cast<double>(k) / d.n;
      e.mass = mass;
      break;
    }
  }
  return e;
}
}  // namespace

ErasureResult erasure_test(models::TextClassifier& model, const Decision& d, const std::vector<double>& loo, uint64_t seed,
                           bool fast) {
  ErasureResult r;
  const int64_t n = d.n;
  const int64_t y = argmax(d.probs);
  Rng rng(seed);
  std::vector<int64_t> random_order(n);
  std::iota(random_order.begin(), random_order.end(), 0);
  rng.shuffle(random_order);
  const std::vector<double> grad = attention_gradient(model, d);
  std::vector<double> att_grad(n);
  for (int64_t t = 0; t < n; ++t) att_grad[t] = d.attention[t] * grad[t];
  const bool with_loo = static_cast<int64_t>(loo.size()) == n;
  std::vector<std::vector<int64_t>> rankings = {ranking_of(d.attention), ranking_of(grad), ranking_of(att_grad)};
  if (with_loo) rankings.push_back(ranking_of(loo));
  rankings.push_back(random_order);

  // Every erased weighting of the instance in one decode: the two single erasures, then for
  // each ranking its top 1 .. n-1.
  std::vector<std::vector<double>> weights;
  std::vector<int64_t> usable;  // index into weights, or -1 (the rest sum to zero)
  auto add = [&](const std::vector<int64_t>& erased) {
    std::vector<double> w = erase_weights(d.attention, erased);
    if (w.empty()) {
      usable.push_back(-1);
      return;
    }
    usable.push_back(static_cast<int64_t>(weights.size()));
    weights.push_back(std::move(w));
  };
  r.top = rankings[0].empty() ? -1 : rankings[0][0];
  if (n >= 2) {
    // r: a random item other than i*.
    const int64_t pick = static_cast<int64_t>(rng.uniform() * (n - 1));
    r.random = std::min<int64_t>(pick, n - 2);
    if (r.random >= r.top) ++r.random;
    add({r.top});
    add({r.random});
  }
  const bool running = fast && d.affine();
  if (!running)
    for (const auto& order : rankings)
      for (int64_t k = 1; k < n; ++k) add(std::vector<int64_t>(order.begin(), order.begin() + k));
  const std::vector<std::vector<double>> probs = decode_weights(model, d, weights);
  auto at = [&](size_t slot) -> const std::vector<double>* {
    return usable[slot] < 0 ? nullptr : &probs[usable[slot]];
  };
  size_t slot = 0;
  if (n >= 2) {
    for (auto [js, flip] : {std::pair<double*, bool*>{&r.jsd_top, &r.flip_top}, {&r.jsd_random, &r.flip_random}}) {
      if (const auto* p = at(slot)) {
        *js = jsd(d.probs.data(), p->data(), d.classes);
        *flip = argmax(*p) != y;
      }
      ++slot;
    }
  }
  const std::vector<std::string> names = erasure_rankings(with_loo);
  for (size_t o = 0; o < rankings.size(); ++o) {
    if (running) {
      r.orders.push_back(erase_running(d, rankings[o], y));
      r.orders.back().ranking = names[o];
      continue;
    }
    ErasureOrder e;
    e.ranking = names[o];
    double mass = 0;
    bool stopped = false;
    for (int64_t k = 1; k < n; ++k, ++slot) {
      mass += d.attention[rankings[o][k - 1]];
      if (stopped) continue;
      const auto* p = at(slot);
      if (!p) {
        stopped = true;  // the rest sum to zero: nothing left to renormalise
        continue;
      }
      if (argmax(*p) != y) {
        e.removed = k;
        e.fraction = static_cast<double>(k) / n;
        e.mass = mass;
        stopped = true;
      }
    }
    r.orders.push_back(e);
  }
  return r;
}

Json ErasureResult::to_json() const {
  Json orders_json = Json::object();
  for (const auto& o : orders)
    orders_json[o.ranking] = {{"removed", o.removed ? Json(*o.removed) : Json(nullptr)},
                              {"fraction", o.removed ? Json(o.fraction) : Json(nullptr)},
                              {"mass", o.removed ? Json(o.mass) : Json(nullptr)}};
  return {{"top", top},
          {"random", random},
          {"jsd_top", jsd_top},
          {"jsd_random", jsd_random},
          {"delta_jsd", delta_jsd()},
          {"flip_top", flip_top},
          {"flip_random", flip_random},
          {"orders", orders_json}};
}

}  // namespace lumen::analysis
