#include "influence/gradients.h"

#include <torch/torch.h>

#include <algorithm>
#include <mutex>

#include "core/error.h"
#include "data/batch_plan.h"
#include "influence/taps.h"
#include "models/eval_guard.h"

namespace lumen::influence {

using models::TextClassifierImpl;

namespace {

const std::vector<std::pair<std::string, TextClassifierImpl::ParameterGroup>>& group_table() {
  static const std::vector<std::pair<std::string, TextClassifierImpl::ParameterGroup>> t = {
      {"decoder", TextClassifierImpl::ParameterGroup::kDecoder},
      {"attention", TextClassifierImpl::ParameterGroup::kAttention},
      {"encoder", TextClassifierImpl::ParameterGroup::kEncoder},
      {"embedding", TextClassifierImpl::ParameterGroup::kEmbedding}};
  return t;
}

std::vector<int64_t> labels_of(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& given) {
  if (!given.empty() && given.size() != rows.size())
    throw InvalidArgument("influence: " + std::to_string(given.size()) + " labels for " + std::to_string(rows.size()) + " rows");
  std::vector<int64_t> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    out[i] = given.empty() ? set.labels.at(rows[i]) : given[i];
    if (out[i] < 0) throw InvalidArgument("influence: example " + std::to_string(rows[i]) + " has no label");
  }
  return out;
}

}  // namespace

Json ParameterSelection::to_json() const { return {{"spec", spec}, {"groups", groups}, {"names", names}, {"count", count}}; }

ParameterSelection select_parameters(models::TextClassifier model, const std::string& spec) {
  std::vector<std::string> asked;
  size_t start = 0;
  const std::string s = spec.empty() ? "last" : spec;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) asked.push_back(item == "last" ? "decoder" : item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  bool all = false;
  for (const auto& a : asked) {
    if (a == "all") {
      all = true;
      continue;
    }
    bool known = false;
    for (const auto& g : group_table()) known |= g.first == a;
    if (!known)
      throw InvalidArgument("influence: unknown parameter group '" + a +
                            "'; the groups are all, last (= decoder), attention, encoder, embedding");
  }
  ParameterSelection sel;
  sel.spec = s;
  const auto named = model->named_parameters();
  for (const auto& g : group_table()) {
    if (!all && std::find(asked.begin(), asked.end(), g.first) == asked.end()) continue;
    auto tensors = model->parameters_of(g.second);
    if (tensors.empty()) {
      if (all) continue;
      throw InvalidArgument("influence: this model has no " + g.first + " parameters (e.g. pooling=cls has no attention)");
    }
    sel.groups.push_back(g.first);
    for (auto& t : tensors) {
      std::string name = "?";
      for (const auto& kv : named)
        if (kv.value().is_same(t)) name = kv.key();
      sel.names.push_back(name);
      sel.tensors.push_back(t);
      sel.count += t.numel();
    }
  }
  if (sel.tensors.empty()) throw InvalidArgument("influence: no parameters selected by '" + s + "'");
  return sel;
}

Features Features::rows(const std::vector<int64_t>& r) const {
  const at::Tensor idx = torch::tensor(r, torch::kLong);
  Features f;
  f.context = context.index_select(0, idx);
  if (query.defined()) f.query = query.index_select(0, idx);
  return f;
}

Features decoder_features(models::TextClassifier& model, const data::EncodedSet& set, int64_t batch_rows) {
  models::EvalGuard eval(model);
  const int64_t m = model->config().output_dim();
  Features f;
  f.context = torch::zeros({set.size(), m}, torch::kDouble);
  if (model->config().pair) f.query = torch::zeros({set.size(), m}, torch::kDouble);
  // Length-sorted batches dealt round-robin to one worker per core (the BiLSTM's recurrence uses
  // two cores poorly from one batch); each batch fills its own rows.
  const auto batches = data::length_sorted_batches(set.lengths(), {/*max_rows=*/batch_rows, /*max_tokens=*/0});
  round_robin(static_cast<int64_t>(batches.size()), [&](int64_t, int64_t k) {
    torch::NoGradGuard no_grad;
    const auto& rows = batches[k];
    // forward_training: the same outputs; a fused BiLSTM projects each distinct token once.
    const models::ModelOutput out = model->forward_training(set.batch(rows));
    const at::Tensor idx = torch::tensor(rows, torch::kLong);
    f.context.index_copy_(0, idx, out.context.to(torch::kDouble));
    if (f.query.defined()) f.query.index_copy_(0, idx, out.query.to(torch::kDouble));
  });
  return f;
}

at::Tensor with_bias_column(const at::Tensor& f) {
  const at::Tensor x = f.to(torch::kDouble);
  return torch::cat({x, torch::ones({x.size(0), 1}, torch::kDouble)}, 1);
}

at::Tensor GradientParts::to_dense(int64_t vocab) const {
  const int64_t B = rows(), D = dense.size(1), E = embedding_dim;
  at::Tensor out = torch::zeros({B, D + (E > 0 ? vocab * E : 0)}, torch::kDouble);
  out.narrow(1, 0, D).copy_(dense);
  if (E > 0)
    for (int64_t b = 0; b < B; ++b) out.select(0, b).narrow(0, D, vocab * E).view({vocab, E}).index_copy_(0, tokens[b], values[b]);
  return out;
}

at::Tensor GradientParts::squared_norms() const {
  at::Tensor n = (dense * dense).sum(1);
  if (embedding_dim > 0) {
    double* p = n.data_ptr<double>();
    for (int64_t b = 0; b < rows(); ++b) p[b] += (values[b] * values[b]).sum().item<double>();
  }
  return n;
}

at::Tensor GradientParts::dot(const GradientParts& o) const {
  if (dense.size(1) != o.dense.size(1) || embedding_dim != o.embedding_dim)
    throw InvalidArgument("influence: gradient parts of different selections");
  at::Tensor d = torch::mm(dense, o.dense.t()).contiguous();
  if (embedding_dim == 0) return d;
  // The embedding rows both examples touch: a merge of their ascending token lists.
  const int64_t E = embedding_dim;
  double* dp = d.data_ptr<double>();
  for (int64_t i = 0; i < rows(); ++i) {
    const int64_t* ti = tokens[i].data_ptr<int64_t>();
    const double* vi = values[i].data_ptr<double>();
    const int64_t ki = tokens[i].numel();
    for (int64_t j = 0; j < o.rows(); ++j) {
      const int64_t* tj = o.tokens[j].data_ptr<int64_t>();
      const double* vj = o.values[j].data_ptr<double>();
      const int64_t kj = o.tokens[j].numel();
      double acc = 0;
      for (int64_t a = 0, b = 0; a < ki && b < kj;) {
        if (ti[a] < tj[b]) {
          ++a;
        } else if (tj[b] < ti[a]) {
          ++b;
        } else {
          for (int64_t e = 0; e < E; ++e) acc += vi[a * E + e] * vj[b * E + e];
          ++a;
          ++b;
        }
      }
      dp[i * o.rows() + j] += acc;
    }
  }
  return d;
}

PerExampleGradients::PerExampleGradients(models::TextClassifier model, train::TrainingLoss loss, ParameterSelection params)
    : model_(std::move(model)), loss_(std::move(loss)), params_(std::move(params)) {
  // The batched path: every selected tensor is the embedding (last) or all rows of it are
  // covered by recorded linear maps.
  const size_t K = params_.tensors.size();
  std::vector<int64_t> offset(K, 0);
  int64_t at = 0;
  for (size_t k = 0; k < K; ++k) {
    const at::Tensor& t = params_.tensors[k];
    if (!t.requires_grad()) return;  // frozen: autograd's zeros, through the plain path
    if (t.is_same(model_->embedding->weight)) {
      if (k + 1 != K) return;
      embedding_ = true;
      continue;
    }
    offset[k] = at;
    at += t.numel();
  }
  dense_count_ = at;
  auto index_of = [&](const at::Tensor& t) -> int64_t {
    for (size_t k = 0; k < K; ++k)
      if (params_.tensors[k].is_same(t)) return static_cast<int64_t>(k);
    return -1;
  };
  std::vector<int64_t> covered(K, 0);  // rows covered
  std::vector<MapSlot> slots;
  for (const auto& l : model_->linear_layers()) {
    MapSlot m;
    m.name = l.name;
    m.in = l.weight.size(1);
    m.rows = l.rows;
    const int64_t w = index_of(l.weight);
    if (w >= 0) {
      m.weight_at = offset[w] + l.row0 * m.in;
      covered[w] += l.rows;
    }
    for (const auto& b : l.biases) {
      const int64_t bi = index_of(b);
      m.bias_at.push_back(bi >= 0 ? offset[bi] + l.row0 : -1);
      if (bi >= 0) covered[bi] += l.rows;
    }
    if (w >= 0 || std::any_of(m.bias_at.begin(), m.bias_at.end(), [](int64_t v) { return v >= 0; })) slots.push_back(m);
  }
  for (size_t k = 0; k < K; ++k)
    if (!params_.tensors[k].is_same(model_->embedding->weight) && covered[k] != params_.tensors[k].size(0)) {
      embedding_ = false;
      return;
    }
  layout_ = std::move(slots);
  batched_ = !layout_.empty() || embedding_;
}

void PerExampleGradients::for_each_batch(const data::EncodedSet& set, const std::vector<int64_t>& rows, const std::vector<int64_t>& y,
                                         const BatchVisitor& visit) {
  const int64_t n = static_cast<int64_t>(rows.size()), E = model_->config().embed_dim;
  std::vector<std::string> names;
  for (const auto& m : layout_) names.push_back(m.name);
  // Batches of similar lengths (less padding); each result goes back to its row's place.
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return set.ids[rows[a]].size() < set.ids[rows[b]].size(); });
  // The batches go round-robin to the cores (each its own autograd graph); visits are serialised.
  constexpr int64_t kBatch = 32;
  std::mutex visiting;
  round_robin((n + kBatch - 1) / kBatch, [&](int64_t, int64_t batch_index) {
    const int64_t start = batch_index * kBatch, b = std::min(kBatch, n - start);
    std::vector<int64_t> sub, place, yy;
    for (int64_t i = start; i < start + b; ++i) {
      sub.push_back(rows[order[i]]);
      place.push_back(order[i]);
      yy.push_back(y[order[i]]);
    }
    data::Batch batch = set.batch(sub);
    batch.labels = torch::tensor(yy, torch::kLong);
    BatchTaps t = forward_taps(model_, batch, embedding_);
    const auto by = taps_by_layer(t.taps, names);
    std::vector<int> chosen;
    for (const auto& v : by) chosen.insert(chosen.end(), v.begin(), v.end());
    std::vector<at::Tensor> extra, eg;
    if (embedding_) {
      extra.push_back(t.embeddings);
      if (t.embeddings_b.defined()) extra.push_back(t.embeddings_b);
    }
    torch::AutoGradMode grad_mode(true);
    const at::Tensor objective = loss_.per_example(t.logits, batch.labels).sum();
    const auto s = output_gradients(objective, t.taps, chosen, false, extra, &eg);
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> G(layout_.size());
    for (size_t l = 0; l < layout_.size(); ++l) {
      G[l] = example_gradient(t.taps, s, by[l]);  // [b, rows, in (+1)]; undefined: not applied, 0
      if (G[l].defined() && G[l].size(2) <= layout_[l].in && !layout_[l].bias_at.empty())
        throw ModelError("influence: map " + layout_[l].name + " has a bias parameter but its taps none");
    }
    std::vector<at::Tensor> tokens, values;
    if (embedding_) {
      // Every position's gradient to its token's row, as autograd accumulates them.
      at::Tensor ids = batch.ids, g = eg[0];
      if (eg.size() > 1) {
        ids = torch::cat({ids, batch.ids_b}, 1);
        g = torch::cat({g, eg[1]}, 1);
      }
      g = g.to(torch::kDouble);
      for (int64_t j = 0; j < b; ++j) {
        auto [u, inv, counts] = torch::_unique2(ids[j], /*sorted=*/true, /*return_inverse=*/true);
        tokens.push_back(u.contiguous());
        values.push_back(torch::zeros({u.size(0), E}, torch::kDouble).index_add_(0, inv, g[j]).contiguous());
      }
    }
    std::lock_guard<std::mutex> lock(visiting);
    visit(place, G, tokens, values);
  });
}

GradientParts PerExampleGradients::batched_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                                 const std::vector<int64_t>& y) {
  const int64_t n = static_cast<int64_t>(rows.size());
  GradientParts out;
  out.dense = torch::zeros({n, dense_count_}, torch::kDouble);
  if (embedding_) {
    out.embedding_dim = model_->config().embed_dim;
    out.tokens.resize(n);
    out.values.resize(n);
  }
  for_each_batch(set, rows, y, [&](const std::vector<int64_t>& place, const std::vector<at::Tensor>& G,
                                   const std::vector<at::Tensor>& tokens, const std::vector<at::Tensor>& values) {
    const int64_t b = static_cast<int64_t>(place.size());
    const at::Tensor idx = torch::tensor(place, torch::kLong);
    for (size_t l = 0; l < layout_.size(); ++l) {
      const MapSlot& m = layout_[l];
      if (!G[l].defined()) continue;
      if (m.weight_at >= 0)
        out.dense.narrow(1, m.weight_at, m.rows * m.in).index_copy_(0, idx, G[l].narrow(2, 0, m.in).reshape({b, m.rows * m.in}));
      for (int64_t at : m.bias_at)
        if (at >= 0) out.dense.narrow(1, at, m.rows).index_copy_(0, idx, G[l].select(2, m.in));
    }
    for (int64_t j = 0; j < static_cast<int64_t>(tokens.size()); ++j) {
      out.tokens[place[j]] = tokens[j];
      out.values[place[j]] = values[j];
    }
  });
  return out;
}

at::Tensor PerExampleGradients::squared_norms(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                              const std::vector<int64_t>& labels) {
  if (!batched() || (params_.decoder_only() && !model_->config().pair)) {
    const at::Tensor g = compute(set, rows, labels);
    return (g * g).sum(1);
  }
  at::Tensor out = torch::zeros({static_cast<int64_t>(rows.size())}, torch::kDouble);
  for_each_batch(set, rows, labels_of(set, rows, labels),
                 [&](const std::vector<int64_t>& place, const std::vector<at::Tensor>& G, const std::vector<at::Tensor>&,
                     const std::vector<at::Tensor>& values) {
                   at::Tensor sq = torch::zeros({static_cast<int64_t>(place.size())}, torch::kDouble);
                   for (size_t l = 0; l < layout_.size(); ++l) {
                     const MapSlot& m = layout_[l];
                     if (!G[l].defined()) continue;
                     if (m.weight_at >= 0) sq += G[l].narrow(2, 0, m.in).square().sum({1, 2});
                     for (int64_t at : m.bias_at)
                       if (at >= 0) sq += G[l].select(2, m.in).square().sum(1);
                   }
                   for (size_t j = 0; j < values.size(); ++j) sq[static_cast<int64_t>(j)] += values[j].square().sum();
                   out.index_copy_(0, torch::tensor(place, torch::kLong), sq);
                 });
  return out;
}

int64_t PerExampleGradients::chunk_rows(int64_t memory_bytes) const {
  return std::max<int64_t>(1, memory_bytes / (8 * std::max<int64_t>(params_.count, 1)));
}

at::Tensor PerExampleGradients::compute_plain(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                              const std::vector<int64_t>& labels) {
  const auto y = labels_of(set, rows, labels);
  models::EvalGuard eval(model_);  // dropout-free models: eval and train agree; gradients in eval mode
  torch::AutoGradMode grad_mode(true);
  at::Tensor out = torch::zeros({static_cast<int64_t>(rows.size()), params_.count}, torch::kDouble);
  for (size_t i = 0; i < rows.size(); ++i) {
    data::Batch batch = set.batch({rows[i]});
    batch.labels = torch::tensor({y[i]}, torch::kLong);
    const at::Tensor logits = model_->forward(batch).logits;
    const at::Tensor l = loss_.per_example(logits, batch.labels).sum();
    auto g = torch::autograd::grad({l}, params_.tensors, {}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t k = 0; k < g.size(); ++k)
      if (!g[k].defined()) g[k] = torch::zeros_like(params_.tensors[k]);
    out.select(0, static_cast<int64_t>(i)).copy_(flatten(g));
  }
  return out;
}

GradientParts PerExampleGradients::compute_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                                 const std::vector<int64_t>& labels) {
  if (batched() && !(params_.decoder_only() && !model_->config().pair)) return batched_parts(set, rows, labels_of(set, rows, labels));
  GradientParts p;
  p.dense = compute(set, rows, labels);
  return p;
}

at::Tensor PerExampleGradients::compute(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                        const std::vector<int64_t>& labels) {
  if (!params_.decoder_only() || model_->config().pair) {
    if (batched()) return batched_parts(set, rows, labels_of(set, rows, labels)).to_dense(model_->config().vocab_size);
    return compute_plain(set, rows, labels);
  }
  // Single-text decoder: logits = [0, z] (binary) or z = W c + b; d loss / d z in closed form,
  // the gradient is its outer product with [c, 1].
  if (cached_set_ != &set) {
    cached_ = decoder_features(model_, set);
    cached_set_ = &set;
  }
  const auto y = labels_of(set, rows, labels);
  torch::NoGradGuard no_grad;
  const Features f = cached_.rows(rows);
  const at::Tensor yt = torch::tensor(y, torch::kLong);
  std::vector<at::Tensor> p;
  for (const auto& t : params_.tensors) p.push_back(t.detach().to(torch::kDouble));
  const at::Tensor logits = model_->decoder_with(p, f.context, f.query);  // [B, C]
  const at::Tensor w = loss_.class_weights.to(torch::kDouble).index_select(0, yt).unsqueeze(1);
  at::Tensor dz = (torch::softmax(logits, 1) - torch::one_hot(yt, logits.size(1)).to(torch::kDouble)) * w;  // [B, C]
  if (model_->config().num_classes == 2) dz = dz.narrow(1, 1, 1);  // only z is a function of the parameters
  const at::Tensor gw = (dz.unsqueeze(2) * f.context.unsqueeze(1)).reshape({dz.size(0), -1});  // [B, C*m]
  return torch::cat({gw, dz}, 1);
}

namespace {

// Calls f(rows, labels) for consecutive chunks of `chunk` rows (all rows of the set when empty).
void chunks_of(const data::EncodedSet& set, const std::vector<int64_t>& rows_in, const std::vector<int64_t>& labels, int64_t chunk,
               const std::function<void(const std::vector<int64_t>&, const std::vector<int64_t>&)>& f) {
  std::vector<int64_t> rows = rows_in;
  if (rows.empty())
    for (int64_t i = 0; i < set.size(); ++i) rows.push_back(i);
  for (size_t begin = 0; begin < rows.size(); begin += chunk) {
    const size_t end = std::min(rows.size(), begin + static_cast<size_t>(chunk));
    std::vector<int64_t> part_labels;
    if (!labels.empty()) part_labels.assign(labels.begin() + begin, labels.begin() + end);
    f(std::vector<int64_t>(rows.begin() + begin, rows.begin() + end), part_labels);
  }
}

}  // namespace

void PerExampleGradients::for_each_chunk(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                         const std::function<void(const std::vector<int64_t>&, const at::Tensor&)>& f,
                                         const std::vector<int64_t>& labels, int64_t memory_bytes) {
  chunks_of(set, rows, labels, chunk_rows(memory_bytes),
            [&](const std::vector<int64_t>& part, const std::vector<int64_t>& y) { f(part, compute(set, part, y)); });
}

void PerExampleGradients::for_each_parts(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                         const std::function<void(const std::vector<int64_t>&, const GradientParts&)>& f,
                                         const std::vector<int64_t>& labels, int64_t memory_bytes) {
  const int64_t per_row = batched() ? dense_count_ + (embedding_ ? 256 * model_->config().embed_dim : 0) : params_.count;
  chunks_of(set, rows, labels, std::max<int64_t>(1, memory_bytes / (8 * std::max<int64_t>(per_row, 1))),
            [&](const std::vector<int64_t>& part, const std::vector<int64_t>& y) { f(part, compute_parts(set, part, y)); });
}

std::vector<at::Tensor> detached_values(const ParameterSelection& params) {
  std::vector<at::Tensor> out;
  for (const auto& t : params.tensors) out.push_back(t.detach().to(torch::kDouble).clone());
  return out;
}

Objective training_objective(models::TextClassifier model, const train::TrainingLoss& loss, const ParameterSelection& params,
                             const data::EncodedSet& train, const std::vector<int64_t>& rows_in) {
  std::vector<int64_t> rows = rows_in;
  if (rows.empty())
    for (int64_t i = 0; i < train.size(); ++i) rows.push_back(i);
  if (rows.empty()) throw InvalidArgument("influence: the training set is empty");
  const auto y = labels_of(train, rows, {});
  const at::Tensor yt = torch::tensor(y, torch::kLong);
  std::vector<bool> decayed;
  for (const auto& t : params.tensors) decayed.push_back(train::TrainingLoss::decayed(model, t));
  const double wd = loss.weight_decay;
  auto regulariser = [decayed, wd](const std::vector<at::Tensor>& p) {
    at::Tensor r = torch::zeros({}, p[0].options());
    for (size_t i = 0; i < p.size(); ++i)
      if (decayed[i] && wd > 0) r = r + 0.5 * wd * (p[i] * p[i]).sum();
    return r;
  };
  if (params.decoder_only()) {
    const Features f = decoder_features(model, train).rows(rows);
    train::TrainingLoss l = loss;
    l.class_weights = loss.class_weights.to(torch::kDouble);
    return [model, f, l, yt, regulariser](const std::vector<at::Tensor>& p) {
      const at::Tensor logits = model->decoder_with(p, f.context.to(p[0].scalar_type()), f.query.defined() ? f.query.to(p[0].scalar_type()) : f.query);
      return l.mean(logits, yt) + regulariser(p);
    };
  }
  const data::EncodedSet* set = &train;
  return [model, loss, rows, yt, set, regulariser](const std::vector<at::Tensor>& p) mutable {
    models::DifferentiableMode differentiable;
    models::EvalGuard eval(model);
    at::Tensor total = torch::zeros({}, p[0].options());
    for (const auto& batch_rows : data::length_sorted_batches(
             [&] {
               std::vector<int64_t> len;
               for (int64_t r : rows) len.push_back(static_cast<int64_t>(set->ids[r].size()) + 2);
               return len;
             }(),
             {/*max_rows=*/64, /*max_tokens=*/0})) {
      std::vector<int64_t> rr;
      for (int64_t k : batch_rows) rr.push_back(rows[k]);
      const data::Batch batch = set->batch(rr);
      total = total + loss.per_example(model->forward(batch).logits, batch.labels).sum().to(p[0].scalar_type());
    }
    return total / static_cast<double>(rows.size()) + regulariser(p);
  };
}

}  // namespace lumen::influence
