// Attention flow (Abnar & Zuidema 2020): the attention graph as a flow network. Nodes are the
// positions at the input and after every self-attention layer; the edge from position j below
// to position i above has capacity A^_l[i, j] (the head-averaged attention mixed with the
// identity for the residual connection, as in rollout); an output node is fed by the top
// positions with the pooling attention as capacities (the <s> row for models pooled at <s>).
// A token's score is the maximum flow from its input node to the output node, computed exactly
// with Dinic's algorithm. Encoders without self-attention: the flow is the pooling attention.
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <queue>

#include "core/error.h"
#include "core/parallel.h"
#include "explain/common.h"
#include "explain/methods.h"

namespace lumen::explain {
namespace {

constexpr double kEps = 1e-13;

// Dinic's maximum flow on a graph with double capacities.
class MaxFlow {
 public:
  explicit MaxFlow(int64_t nodes) : head_(nodes, -1), level_(nodes), it_(nodes) {}
  void add_edge(int64_t u, int64_t v, double cap) {
    if (cap <= kEps) return;
    to_.push_back(v), cap_.push_back(cap), next_.push_back(head_[u]), head_[u] = static_cast<int64_t>(to_.size()) - 1;
    to_.push_back(u), cap_.push_back(0.0), next_.push_back(head_[v]), head_[v] = static_cast<int64_t>(to_.size()) - 1;
  }
  double run(int64_t s, int64_t t) {
    flow_.assign(cap_.size(), 0.0);
    double total = 0;
    while (bfs(s, t)) {
      it_ = head_;
      while (true) {
        const double f = dfs(s, t, std::numeric_limits<double>::infinity());
        if (f <= kEps) break;
        total += f;
      }
    }
    return total;
  }

 private:
  bool bfs(int64_t s, int64_t t) {
    std::fill(level_.begin(), level_.end(), -1);
    std::queue<int64_t> q;
    level_[s] = 0;
    q.push(s);
    while (!q.empty()) {
      const int64_t u = q.front();
      q.pop();
      for (int64_t e = head_[u]; e >= 0; e = next_[e])
        if (level_[to_[e]] < 0 && cap_[e] - flow_[e] > kEps) {
          level_[to_[e]] = level_[u] + 1;
          q.push(to_[e]);
        }
    }
    return level_[t] >= 0;
  }
  double dfs(int64_t u, int64_t t, double pushed) {
    if (u == t) return pushed;
    for (int64_t& e = it_[u]; e >= 0; e = next_[e]) {
      const int64_t v = to_[e];
      if (level_[v] != level_[u] + 1 || cap_[e] - flow_[e] <= kEps) continue;
      const double f = dfs(v, t, std::min(pushed, cap_[e] - flow_[e]));
      if (f > kEps) {
        flow_[e] += f;
        flow_[e ^ 1] -= f;
        return f;
      }
    }
    return 0;
  }
  std::vector<int64_t> head_, to_, next_, level_, it_;
  std::vector<double> cap_, flow_;
};

// Residual-adjusted layers, as rollout uses them.
std::vector<at::Tensor> adjusted(const std::vector<at::Tensor>& layers) {
  std::vector<at::Tensor> out;
  for (const auto& a : layers) {
    if (a.dim() != 2 || a.size(1) != a.size(0)) throw InvalidArgument("flow: layers must be [n, n]");
    out.push_back(residual_adjusted(a));
  }
  return out;
}

// The layer graph: node (l, i) = l * n + i; returns the node count.
int64_t build_graph(MaxFlow& g, const std::vector<at::Tensor>& layers, int64_t n) {
  for (size_t l = 0; l < layers.size(); ++l) {
    const double* a = layers[l].data_ptr<double>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) g.add_edge(static_cast<int64_t>(l) * n + j, static_cast<int64_t>(l + 1) * n + i, a[i * n + j]);
  }
  return static_cast<int64_t>(layers.size() + 1) * n;
}

}  // namespace

std::vector<double> flow_to_output(const std::vector<at::Tensor>& layers, const std::vector<double>& output) {
  if (layers.empty()) throw InvalidArgument("flow: at least one layer is needed");
  const auto adj = adjusted(layers);
  const int64_t n = adj[0].size(0), L = static_cast<int64_t>(adj.size());
  if (static_cast<int64_t>(output.size()) != n) throw InvalidArgument("flow: output must have n capacities");
  std::vector<double> out(n, 0.0);
  parallel_chunks(n, 4, [&](int64_t j0, int64_t j1) {
    MaxFlow g((L + 1) * n + 1);
    build_graph(g, adj, n);
    const int64_t sink = (L + 1) * n;
    for (int64_t i = 0; i < n; ++i) g.add_edge(L * n + i, sink, output[i]);
    for (int64_t j = j0; j < j1; ++j) out[j] = g.run(j, sink);
  });
  return out;
}

at::Tensor flow_matrix(const std::vector<at::Tensor>& layers) {
  if (layers.empty()) throw InvalidArgument("flow: at least one layer is needed");
  const auto adj = adjusted(layers);
  const int64_t n = adj[0].size(0), L = static_cast<int64_t>(adj.size());
  at::Tensor out = torch::zeros({n, n}, torch::kDouble);
  double* op = out.data_ptr<double>();
  parallel_chunks(n, 2, [&](int64_t j0, int64_t j1) {
    MaxFlow g((L + 1) * n);
    build_graph(g, adj, n);
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t i = 0; i < n; ++i) op[i * n + j] = g.run(j, L * n + i);
  });
  return out;
}

namespace {

class Flow : public Explainer {
 public:
  std::string name() const override { return "flow"; }
  std::string description() const override {
    return "attention flow: maximum flow from the token's input node to the pooled output through the attention "
           "graph (>= 0)";
  }
  bool needs_attention() const override { return true; }
  bool covers_second_text() const override { return false; }
  BatchAttribution explain(models::TextClassifier& model, const data::Batch& batch,
                           const ExplainOptions& o) const override {
    o.flow.validate();
    EvalGuard eval(model);
    BatchAttribution out;
    out.targets = resolve_targets(model, batch, o);
    const AttentionMaps maps = attention_maps(model, batch, o.forward());
    const int64_t B = batch.size(), T = batch.ids.size(1);
    out.scores = torch::zeros({B, T}, torch::kDouble);
    const at::Tensor lengths = batch.lengths.contiguous();
    for (int64_t r = 0; r < B; ++r) {
      const int64_t n = lengths[r].item<int64_t>();
      if (!maps.layers.empty() && n > o.flow.max_tokens)
        throw InvalidArgument("flow: a text of " + std::to_string(n - 2) + " tokens is longer than the limit of " +
                              std::to_string(o.flow.max_tokens) +
                              " (one max-flow per token over the whole layer graph; raise --max-flow-tokens)");
      const at::Tensor top = row_output(maps, r, n);
      if (maps.layers.empty()) {
        out.scores[r].narrow(0, 0, n).copy_(top);
        continue;
      }
      const std::vector<double> cap(top.data_ptr<double>(), top.data_ptr<double>() + n);
      out.scores[r].narrow(0, 0, n).copy_(torch::tensor(flow_to_output(row_layers(maps, r, n, o.attention.head), cap), torch::kDouble));
    }
    out.scores = (out.scores * batch.token_mask.to(torch::kDouble)).contiguous();
    return out;
  }
};

}  // namespace

std::unique_ptr<Explainer> make_flow_explainer() { return std::make_unique<Flow>(); }

}  // namespace lumen::explain
