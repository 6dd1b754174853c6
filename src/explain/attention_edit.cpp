#include "explain/attention_edit.h"

#include <torch/torch.h>

#include <sstream>

#include "core/error.h"

namespace lumen::explain {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

int64_t to_int(const std::string& s, const std::string& edit) {
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw InvalidArgument("--set-attention: '" + s + "' in '" + edit + "' must be a non-negative integer");
}

// Rows renormalised to sum 1 over the last dimension (rows of zeros stay zero).
at::Tensor renormalise(const at::Tensor& w) { return w / w.sum(-1, true).clamp_min(1e-30); }

}  // namespace

AttentionEditSpec parse_attention_edit(const std::string& s) {
  const auto parts = split(s, ':');
  AttentionEditSpec e;
  e.text = s;
  const std::string usage =
      "--set-attention: '" + s + "' must be zero:I, zero:L:I, uniform:pool, uniform:L, uniform:L:H or pin:W1,W2,...";
  if (parts.size() < 2) throw InvalidArgument(usage);
  if (parts[0] == "zero" && parts.size() == 2) {
    e.kind = AttentionEditSpec::Kind::kZero;
    e.position = to_int(parts[1], s);
  } else if (parts[0] == "zero" && parts.size() == 3) {
    e.kind = AttentionEditSpec::Kind::kZero;
    e.layer = to_int(parts[1], s);
    e.position = to_int(parts[2], s);
  } else if (parts[0] == "uniform" && parts.size() == 2 && parts[1] == "pool") {
    e.kind = AttentionEditSpec::Kind::kUniform;
  } else if (parts[0] == "uniform" && (parts.size() == 2 || parts.size() == 3)) {
    e.kind = AttentionEditSpec::Kind::kUniform;
    e.layer = to_int(parts[1], s);
    if (parts.size() == 3) e.head = to_int(parts[2], s);
  } else if (parts[0] == "pin" && parts.size() == 2) {
    e.kind = AttentionEditSpec::Kind::kPin;
    for (const auto& w : split(parts[1], ',')) {
      try {
        size_t used = 0;
        const double v = std::stod(w, &used);
        if (used != w.size() || !(v >= 0)) throw std::invalid_argument("neg");
        e.weights.push_back(v);
      } catch (const std::exception&) {
        throw InvalidArgument("--set-attention: pin weights must be non-negative numbers, got '" + w + "'");
      }
    }
    double total = 0;
    for (double v : e.weights) total += v;
    if (e.weights.empty() || total <= 0) throw InvalidArgument("--set-attention: pin weights must not all be 0");
  } else {
    throw InvalidArgument(usage);
  }
  return e;
}

void validate_edits(const std::vector<AttentionEditSpec>& edits, const models::TextClassifier& model) {
  const int64_t layers = model->self_attention_layers();
  for (const auto& e : edits) {
    if (e.layer < 0 && !model->has_pooling_attention())
      throw InvalidArgument("--set-attention: '" + e.text + "' edits the pooling attention, and this model has none");
    if (e.layer >= layers)
      throw InvalidArgument("--set-attention: '" + e.text + "': layer must be < " + std::to_string(layers) +
                            " (self-attention layers of this model)");
    if (e.layer >= 0 && e.head >= model->self_attention_heads())
      throw InvalidArgument("--set-attention: '" + e.text + "': head must be < " +
                            std::to_string(model->self_attention_heads()));
  }
}

models::AttentionEdit make_attention_edit(const std::vector<AttentionEditSpec>& edits) {
  if (edits.empty()) return {};
  return [edits](const at::Tensor& weights, int64_t layer) {
    at::Tensor w = weights;
    for (const auto& e : edits) {
      if (e.layer != layer) continue;
      const int64_t T = w.size(-1);
      const at::Tensor support = (w > 0).to(w.scalar_type());  // real tokens / non-padding keys
      switch (e.kind) {
        case AttentionEditSpec::Kind::kZero: {
          const int64_t pos = e.position + 1;  // after <s>
          if (pos >= T) break;
          at::Tensor keep = torch::ones({T}, w.options());
          keep[pos] = 0;
          w = renormalise(w * keep);
          break;
        }
        case AttentionEditSpec::Kind::kUniform: {
          at::Tensor u = renormalise(support);
          if (w.dim() == 4 && e.head >= 0) {
            at::Tensor sel = torch::zeros({1, w.size(1), 1, 1}, w.options());
            sel[0][e.head] = 1;
            u = sel * u + (1 - sel) * w;
          }
          w = u;
          break;
        }
        case AttentionEditSpec::Kind::kPin: {
          at::Tensor pin = torch::zeros({T}, w.options());
          for (size_t i = 0; i < e.weights.size() && static_cast<int64_t>(i) + 1 < T; ++i) pin[i + 1] = e.weights[i];
          w = renormalise(support * pin);
          break;
        }
      }
    }
    return w;
  };
}


}  // namespace lumen::explain
