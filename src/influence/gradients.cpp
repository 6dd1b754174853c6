#include "influence/gradients.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "data/batch_plan.h"
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
  torch::NoGradGuard no_grad;
  const int64_t m = model->config().output_dim();
  Features f;
  f.context = torch::zeros({set.size(), m}, torch::kDouble);
  if (model->config().pair) f.query = torch::zeros({set.size(), m}, torch::kDouble);
  for (const auto& rows : data::length_sorted_batches(set.lengths(), {/*max_rows=*/batch_rows, /*max_tokens=*/0})) {
    const models::ModelOutput out = model->forward(set.batch(rows));
    const at::Tensor idx = torch::tensor(rows, torch::kLong);
    f.context.index_copy_(0, idx, out.context.to(torch::kDouble));
    if (f.query.defined()) f.query.index_copy_(0, idx, out.query.to(torch::kDouble));
  }
  return f;
}

at::Tensor with_bias_column(const at::Tensor& f) {
  const at::Tensor x = f.to(torch::kDouble);
  return torch::cat({x, torch::ones({x.size(0), 1}, torch::kDouble)}, 1);
}

PerExampleGradients::PerExampleGradients(models::TextClassifier model, train::TrainingLoss loss, ParameterSelection params)
    : model_(std::move(model)), loss_(std::move(loss)), params_(std::move(params)) {}

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

at::Tensor PerExampleGradients::compute(const data::EncodedSet& set, const std::vector<int64_t>& rows,
                                        const std::vector<int64_t>& labels) {
  if (!params_.decoder_only() || model_->config().pair) return compute_plain(set, rows, labels);
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

void PerExampleGradients::for_each_chunk(const data::EncodedSet& set, const std::vector<int64_t>& rows_in,
                                         const std::function<void(const std::vector<int64_t>&, const at::Tensor&)>& f,
                                         const std::vector<int64_t>& labels, int64_t memory_bytes) {
  std::vector<int64_t> rows = rows_in;
  if (rows.empty())
    for (int64_t i = 0; i < set.size(); ++i) rows.push_back(i);
  const int64_t chunk = chunk_rows(memory_bytes);
  for (size_t begin = 0; begin < rows.size(); begin += chunk) {
    const size_t end = std::min(rows.size(), begin + static_cast<size_t>(chunk));
    std::vector<int64_t> part(rows.begin() + begin, rows.begin() + end);
    std::vector<int64_t> part_labels;
    if (!labels.empty()) part_labels.assign(labels.begin() + begin, labels.begin() + end);
    f(part, compute(set, part, part_labels));
  }
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
