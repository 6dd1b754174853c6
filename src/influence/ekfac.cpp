#include "influence/ekfac.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <numeric>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/parallel.h"
#include "data/batch_plan.h"
#include "influence/methods.h"
#include "influence/taps.h"
#include "models/eval_guard.h"

namespace lumen::influence {

namespace {

std::string group_of(const std::string& layer) {
  const std::string head = layer.substr(0, layer.find('.'));
  return head == "encoder_b" ? "encoder" : head;
}

// The pseudo-objectives whose gradients give the exact Gauss-Newton matrix: sum_n u_n . logits_n.
std::vector<at::Tensor> pseudo_objectives(const at::Tensor& logits, const at::Tensor& labels, const train::TrainingLoss& loss,
                                          bool binary_single) {
  torch::NoGradGuard no_grad;
  const at::Tensor p = torch::softmax(logits.detach().to(torch::kDouble), 1);
  const at::Tensor w = loss.class_weights.to(torch::kDouble).index_select(0, labels).unsqueeze(1);
  std::vector<at::Tensor> us;
  if (binary_single) {
    at::Tensor u = torch::zeros_like(p);
    u.select(1, 1).copy_(torch::sqrt(w.squeeze(1) * p.select(1, 0) * p.select(1, 1)));
    us.push_back(u);
  } else {
    for (int64_t c = 0; c < p.size(1); ++c) {
      at::Tensor e = torch::zeros_like(p);
      e.select(1, c).fill_(1.0);
      us.push_back(torch::sqrt(w * p.select(1, c).unsqueeze(1)) * (e - p));
    }
  }
  torch::AutoGradMode grad_mode(true);
  std::vector<at::Tensor> objectives;
  for (const auto& u : us) objectives.push_back((logits * u.to(logits.scalar_type())).sum());
  return objectives;
}

// Consecutive batches of `rows`; with `by_length`, rows sorted by length first (less padding;
// for sums, where the order does not matter).
std::vector<std::vector<int64_t>> batches_of(const data::EncodedSet& set, std::vector<int64_t> rows, int64_t batch_rows,
                                             bool by_length = false) {
  if (by_length)
    std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) { return set.ids[a].size() < set.ids[b].size(); });
  std::vector<std::vector<int64_t>> out;
  for (size_t b = 0; b < rows.size(); b += batch_rows)
    out.emplace_back(rows.begin() + b, rows.begin() + std::min(rows.size(), b + static_cast<size_t>(batch_rows)));
  return out;
}

// One batch's taps grouped by layer and its Gauss-Newton pseudo-objectives.
struct PseudoBatch {
  BatchTaps t;
  std::vector<std::vector<int>> by;
  std::vector<int> chosen;
  std::vector<at::Tensor> objectives;
  // The output gradients of pseudo-objective c (the graph kept until the last).
  std::vector<at::Tensor> gradients(size_t c) const { return output_gradients(objectives[c], t.taps, chosen, c + 1 < objectives.size()); }
};

PseudoBatch pseudo_batch(models::TextClassifier& model, const data::EncodedSet& set, const std::vector<int64_t>& rows,
                         const std::vector<std::string>& layers, const train::TrainingLoss& loss, bool binary_single) {
  const data::Batch batch = set.batch(rows);
  PseudoBatch p;
  p.t = forward_taps(model, batch);
  p.by = taps_by_layer(p.t.taps, layers);
  for (const auto& v : p.by) p.chosen.insert(p.chosen.end(), v.begin(), v.end());
  p.objectives = pseudo_objectives(p.t.logits, batch.labels, loss, binary_single);
  return p;
}

}  // namespace

int64_t KfacFactors::parameter_count() const {
  int64_t n = 0;
  for (const auto& l : layers) n += l.in * l.out;
  return n;
}

Json KfacFactors::to_json() const {
  Json ls = Json::array();
  for (const auto& l : layers) ls.push_back({{"layer", l.name}, {"in", l.in}, {"out", l.out}, {"bias", l.bias}, {"damping", l.damping}});
  return {{"corrected", corrected}, {"examples", examples}, {"layers", ls}, {"parameters", parameter_count()}};
}

std::vector<std::string> kfac_layers(models::TextClassifier model, const std::string& spec) {
  std::vector<std::string> groups;
  std::string s = spec.empty() ? "all" : spec;
  for (size_t start = 0; start <= s.size();) {
    const size_t comma = s.find(',', start);
    std::string g = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (g == "last") g = "decoder";
    if (!g.empty()) {
      if (g != "all" && g != "decoder" && g != "attention" && g != "encoder")
        throw InvalidArgument("influence: ekfac works on the linear layers of all, last (= decoder), attention or encoder; not '" + g + "'");
      groups.push_back(g);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // The names a forward pass records, found by running one tiny batch.
  data::Batch batch;
  {
    std::vector<std::vector<int64_t>> ids = {{data::Vocab::kUnk}};
    data::pad_ids(ids, batch.ids, batch.lengths, batch.mask, batch.token_mask);
    if (model->config().pair) data::pad_ids(ids, batch.ids_b, batch.lengths_b, batch.mask_b, batch.token_mask_b);
    batch.labels = torch::zeros({1}, torch::kLong);
  }
  const BatchTaps t = forward_taps(model, batch);
  std::vector<std::string> out;
  for (const auto& tap : t.taps) {
    const std::string g = group_of(tap.layer);
    const bool wanted = std::find(groups.begin(), groups.end(), "all") != groups.end() ||
                        std::find(groups.begin(), groups.end(), g) != groups.end();
    if (wanted && std::find(out.begin(), out.end(), tap.layer) == out.end()) out.push_back(tap.layer);
  }
  if (out.empty())
    throw InvalidArgument("influence: no recorded linear layers in '" + s + "' for this model (the CNN's and the Transformer's layers are not recorded; use --params last)");
  return out;
}

KfacFactors fit_kfac(models::TextClassifier model, const train::TrainingLoss& loss, const data::EncodedSet& train,
                     const std::vector<std::string>& layers, bool corrected, double damping,
                     const std::function<void(int64_t, int64_t)>& progress, int64_t batch_rows) {
  if (train.size() == 0) throw InvalidArgument("influence: the training set is empty");
  const bool binary_single = model->config().num_classes == 2 && !model->config().pair;
  const auto batches = batches_of(train, all_rows(train.size()), batch_rows, /*by_length=*/true);
  const int64_t L = static_cast<int64_t>(layers.size());
  std::vector<at::Tensor> A(L), S(L);
  std::vector<double> rows(L, 0.0);
  KfacFactors f;
  f.corrected = corrected;
  f.examples = train.size();
  f.layers.resize(L);
  const int64_t passes = corrected ? 2 : 1;
  int64_t step = 0;
  std::mutex merge;
  auto tick = [&] {  // under `merge`
    if (progress) progress(++step, passes * static_cast<int64_t>(batches.size()));
  };
  // Each pass deals the length-sorted batches round-robin to the cores (separate autograd
  // graphs per thread), each worker summing into its own accumulators, merged in worker order.
  const int64_t W = round_robin_workers();
  std::vector<std::vector<at::Tensor>> a_sums(W, std::vector<at::Tensor>(L)), s_sums(W, std::vector<at::Tensor>(L));
  std::vector<std::vector<double>> row_sums(W, std::vector<double>(L, 0.0));
  std::vector<std::vector<bool>> biases(W, std::vector<bool>(L, false));
  round_robin(static_cast<int64_t>(batches.size()), [&](int64_t w, int64_t bi) {
    auto& a_sum = a_sums[w];
    auto& s_sum = s_sums[w];
    auto& row_sum = row_sums[w];
    auto& bias = biases[w];
    const PseudoBatch pb = pseudo_batch(model, train, batches[bi], layers, loss, binary_single);
    const auto& t = pb.t;
    const at::ScalarType dtype = pb.t.logits.scalar_type();
    for (size_t c = 0; c < pb.objectives.size(); ++c) {
      const auto sg = pb.gradients(c);
      // Products in the model's dtype, sums in float64; maps that share an output (the
      // BiLSTM's input and recurrent maps) share its product.
      std::vector<std::pair<const void*, at::Tensor>> shared;
      for (int64_t l = 0; l < L; ++l)
        for (int k : pb.by[l]) {
          const void* key = t.taps[k].output.unsafeGetTensorImpl();
          at::Tensor ss;
          for (const auto& [p, v] : shared)
            if (p == key) ss = v;
          if (!ss.defined()) {
            const at::Tensor sk = sg[k].reshape({-1, sg[k].size(2)});
            ss = torch::mm(sk.t(), sk).to(torch::kDouble);
            shared.emplace_back(key, ss);
          }
          s_sum[l] = s_sum[l].defined() ? s_sum[l] + ss : ss;
          if (c == 0) {
            const at::Tensor a = augmented_input(t.taps[k], dtype).reshape({-1, t.taps[k].input.size(2) + (t.taps[k].bias ? 1 : 0)});
            const at::Tensor aa = torch::mm(a.t(), a).to(torch::kDouble);
            a_sum[l] = a_sum[l].defined() ? a_sum[l] + aa : aa;
            row_sum[l] += t.taps[k].valid.sum().item<double>();
            bias[l] = t.taps[k].bias;
          }
        }
    }
    std::lock_guard<std::mutex> lock(merge);
    tick();
  });
  for (int64_t w = 0; w < W; ++w)
    for (int64_t l = 0; l < L; ++l) {
      if (!a_sums[w][l].defined()) continue;
      A[l] = A[l].defined() ? A[l] + a_sums[w][l] : a_sums[w][l];
      S[l] = S[l].defined() ? S[l] + s_sums[w][l] : s_sums[w][l];
      rows[l] += row_sums[w][l];
      f.layers[l].bias = biases[w][l];
    }
  for (int64_t l = 0; l < L; ++l) {
    if (!A[l].defined()) throw InvalidArgument("influence: layer " + layers[l] + " was not applied to the training set");
    KfacLayer& k = f.layers[l];
    k.name = layers[l];
    const at::Tensor a = A[l] / std::max(rows[l], 1.0), s = S[l] / static_cast<double>(train.size());
    auto [ea, qa] = torch::linalg_eigh(0.5 * (a + a.t()));
    auto [es, qs] = torch::linalg_eigh(0.5 * (s + s.t()));
    k.qa = qa;
    k.qs = qs;
    k.eig_a = ea.clamp_min(0);
    k.eig_s = es.clamp_min(0);
    k.in = a.size(0);
    k.out = s.size(0);
    k.lambda = corrected ? torch::zeros({k.out, k.in}, torch::kDouble) : torch::outer(k.eig_s, k.eig_a);
  }
  if (corrected) {
    std::vector<std::vector<at::Tensor>> lams(W, std::vector<at::Tensor>(L));
    round_robin(static_cast<int64_t>(batches.size()), [&](int64_t w, int64_t bi) {
      auto& lam = lams[w];
      const PseudoBatch pb = pseudo_batch(model, train, batches[bi], layers, loss, binary_single);
      for (size_t c = 0; c < pb.objectives.size(); ++c) {
        const auto sg = pb.gradients(c);
        for (int64_t l = 0; l < L; ++l) {
          const at::Tensor g = example_gradient(pb.t.taps, sg, pb.by[l], f.layers[l].qa, f.layers[l].qs);
          const at::Tensor sq = (g * g).sum(0);
          lam[l] = lam[l].defined() ? lam[l] + sq : sq;
        }
      }
      std::lock_guard<std::mutex> lock(merge);
      tick();
    });
    for (int64_t w = 0; w < W; ++w)
      for (int64_t l = 0; l < L; ++l)
        if (lams[w][l].defined()) f.layers[l].lambda += lams[w][l];
    for (auto& k : f.layers) k.lambda /= static_cast<double>(train.size());
  }
  for (auto& k : f.layers) {
    const double base = damping > 0 ? damping : 0.1 * k.lambda.mean().item<double>();
    const bool decayed = group_of(k.name) != "attention";
    k.damping = std::max(base, 1e-12) + (decayed ? loss.weight_decay : 0.0);
  }
  return f;
}

std::vector<at::Tensor> layer_gradients(models::TextClassifier model, const train::TrainingLoss& loss, const data::EncodedSet& set,
                                        const std::vector<int64_t>& rows, const KfacFactors& factors,
                                        const std::vector<int64_t>& labels, bool rotate) {
  if (!labels.empty() && labels.size() != rows.size()) throw InvalidArgument("influence: labels and rows differ in number");
  std::vector<std::string> names;
  for (const auto& l : factors.layers) names.push_back(l.name);
  std::vector<std::vector<at::Tensor>> parts(names.size());
  size_t done = 0;
  for (const auto& b : batches_of(set, rows, 32)) {
    data::Batch batch = set.batch(b);
    if (!labels.empty())
      batch.labels = torch::tensor(std::vector<int64_t>(labels.begin() + done, labels.begin() + done + b.size()), torch::kLong);
    done += b.size();
    BatchTaps t = forward_taps(model, batch);
    const auto by = taps_by_layer(t.taps, names);
    std::vector<int> chosen;
    for (const auto& v : by) chosen.insert(chosen.end(), v.begin(), v.end());
    torch::AutoGradMode grad_mode(true);
    const at::Tensor objective = loss.per_example(t.logits, batch.labels).sum();
    const auto s = output_gradients(objective, t.taps, chosen, false);
    for (size_t l = 0; l < names.size(); ++l)
      parts[l].push_back((rotate ? example_gradient(t.taps, s, by[l], factors.layers[l].qa, factors.layers[l].qs) : example_gradient(t.taps, s, by[l])).detach());
  }
  std::vector<at::Tensor> out;
  for (auto& p : parts) out.push_back(torch::cat(p, 0));
  return out;
}

std::vector<at::Tensor> precondition_rotated(const KfacFactors& factors, const std::vector<at::Tensor>& rotated) {
  std::vector<at::Tensor> out;
  for (size_t l = 0; l < rotated.size(); ++l)
    out.push_back(rotated[l] / (factors.layers[l].lambda + factors.layers[l].damping).unsqueeze(0));
  return out;
}

// The method: influence functions with the (E)K-FAC inverse, I = (1/n) g_test^T (G + lambda)^-1 g_i.
void run_kfac_influence(const InfluenceInputs& in, const InfluenceOptions& o, InfluenceResult& r) {
  const bool corrected = o.method == "ekfac";
  models::TextClassifier model = in.model;
  const std::string spec = o.params == "last" ? "decoder" : o.params;
  const auto layers = kfac_layers(model, spec);
  const auto t0 = std::chrono::steady_clock::now();
  // Factors depend on the weights, the training set and these settings: cached under a key of all.
  Json key{{"layers", layers}, {"corrected", corrected}, {"damping", o.solve.damping}, {"train", in.train->size()},
           {"labels", std::accumulate(in.train->labels.begin(), in.train->labels.end(), int64_t(0))},
           {"tokens", in.train->tokens}, {"loss", in.loss.to_json()}};
  {
    double a = 0, b = 0;
    for (const auto& p : model->parameters()) {
      a += p.to(torch::kDouble).sum().item<double>();
      b += p.to(torch::kDouble).abs().sum().item<double>();
    }
    key["weights"] = {a, b};
  }
  const std::string stem = in.cache_dir.empty() ? "" : join_path(in.cache_dir, std::string(corrected ? "ekfac-" : "kfac-") +
                                                                        std::to_string(std::hash<std::string>{}(key.dump())));
  KfacFactors f;
  bool cached = false;
  if (!stem.empty() && path_exists(stem + ".json") && path_exists(stem + ".pt")) {
    try {
      const Json meta = read_json_file(stem + ".json");
      if (meta.at("key") == key) {
        std::vector<at::Tensor> t;
        torch::load(t, stem + ".pt");
        f.corrected = corrected;
        f.examples = meta.at("examples").get<int64_t>();
        for (size_t l = 0; l < meta.at("layers").size(); ++l) {
          const Json& m = meta["layers"][l];
          KfacLayer k;
          k.name = m.at("layer").get<std::string>();
          k.in = m.at("in").get<int64_t>();
          k.out = m.at("out").get<int64_t>();
          k.bias = m.at("bias").get<bool>();
          k.damping = m.at("damping").get<double>();
          k.qa = t.at(5 * l);
          k.qs = t.at(5 * l + 1);
          k.eig_a = t.at(5 * l + 2);
          k.eig_s = t.at(5 * l + 3);
          k.lambda = t.at(5 * l + 4);
          f.layers.push_back(k);
        }
        cached = f.layers.size() == layers.size();
      }
    } catch (const std::exception&) {
      cached = false;  // a damaged cache is recomputed
    }
  }
  if (!cached) {
    f = fit_kfac(model, in.loss, *in.train, layers, corrected, o.solve.damping,
                 [&](int64_t d, int64_t t) { in.report("factors", d, t); });
    if (!stem.empty()) {
      make_dirs(in.cache_dir);
      std::vector<at::Tensor> t;
      for (const auto& k : f.layers) t.insert(t.end(), {k.qa, k.qs, k.eig_a, k.eig_s, k.lambda});
      const std::string tmp = stem + ".pt.partial";
      torch::save(t, tmp);
      std::filesystem::rename(tmp, stem + ".pt");
      Json meta = f.to_json();
      meta["key"] = key;
      write_json_file(stem + ".json", meta);  // written last: a cache without it is never read
    }
  }
  const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.diagnostics["factors_cached"] = cached;
  r.parameters = {{"spec", spec}, {"groups", Json::array()}, {"names", layers}, {"count", f.parameter_count()}};
  const int64_t n = in.train->size(), nt = in.test->size();
  const double inv_n = 1.0 / static_cast<double>(n);
  auto flat = [](const std::vector<at::Tensor>& per_layer) {
    std::vector<at::Tensor> v;
    for (const auto& t : per_layer) v.push_back(t.reshape({t.size(0), -1}));
    return torch::cat(v, 1);
  };
  at::Tensor W;  // [nt, P] preconditioned rotated test gradients
  if (nt > 0) W = flat(precondition_rotated(f, layer_gradients(model, test_loss(in.loss), *in.test, all_rows(nt), f, in.test_labels)));
  r.scores = torch::zeros({nt, n}, torch::kDouble);
  if (o.self_influence) r.self_influence.assign(n, 0.0);
  const int64_t chunk = std::max<int64_t>(1, o.memory_bytes / (8 * std::max<int64_t>(f.parameter_count(), 1)));
  const auto rows = all_rows(n);
  for (int64_t b = 0; b < n; b += chunk) {
    const std::vector<int64_t> part(rows.begin() + b, rows.begin() + std::min(n, b + chunk));
    const auto R = layer_gradients(model, in.loss, *in.train, part, f);
    const at::Tensor g = flat(R);
    const at::Tensor idx = torch::tensor(part, torch::kLong);
    if (nt > 0) r.scores.index_copy_(1, idx, inv_n * torch::mm(W, g.t()));
    if (o.self_influence) {
      const at::Tensor d = (flat(precondition_rotated(f, R)) * g).sum(1) * inv_n;
      for (size_t k = 0; k < part.size(); ++k) r.self_influence[part[k]] = d[k].item<double>();
    }
    in.report("training gradients", b + static_cast<int64_t>(part.size()), n);
  }
  r.diagnostics["factors"] = f.to_json();
  r.diagnostics["fit_seconds"] = fit_seconds;
  r.diagnostics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lumen::influence
