#include "explain/options.h"

#include <cmath>

#include "core/error.h"

namespace lumen::explain {
namespace {
template <typename T>
void at_least(const char* field, T value, T minimum) {
  if (value < minimum)
    throw InvalidArgument(std::string("explain: ") + field + " must be >= " + std::to_string(minimum) + ", got " +
                          std::to_string(value));
}
}  // namespace

Baseline parse_baseline(const std::string& s) {
  if (s == "pad") return Baseline::kPad;
  if (s == "zero") return Baseline::kZero;
  if (s == "unk") return Baseline::kUnk;
  throw InvalidArgument("explain: baseline must be pad, zero or unk, got '" + s + "'");
}
Removal parse_removal(const std::string& s) {
  if (s == "delete") return Removal::kDelete;
  if (s == "pad") return Removal::kPad;
  if (s == "unk") return Removal::kUnk;
  throw InvalidArgument("explain: removal must be delete, pad or unk, got '" + s + "'");
}
std::string to_string(Baseline b) { return b == Baseline::kPad ? "pad" : b == Baseline::kZero ? "zero" : "unk"; }
std::string to_string(Removal r) { return r == Removal::kDelete ? "delete" : r == Removal::kPad ? "pad" : "unk"; }

void AttentionSelection::validate() const {
  at_least<int64_t>("layer", layer, -1);
  at_least<int64_t>("head", head, -1);
}
Json AttentionSelection::to_json() const { return {{"layer", layer}, {"head", head}}; }

void PathOptions::validate() const {
  at_least<int64_t>("steps", steps, 1);
  if (!(tolerance >= 0) || !std::isfinite(tolerance))
    throw InvalidArgument("explain: tolerance must be finite and >= 0, got " + std::to_string(tolerance));
  at_least<int64_t>("max_steps", max_steps, 4);
}
Json PathOptions::to_json() const {
  Json j = {{"steps", steps}, {"baseline", to_string(baseline)}};
  if (tolerance > 0) {
    j["tolerance"] = tolerance;
    j["max_steps"] = max_steps;
    j["rule"] = "trapezoid, doubling";
  }
  return j;
}

void SmoothGradOptions::validate() const {
  at_least<int64_t>("noise samples", samples, 1);
  if (!(noise_level >= 0)) throw InvalidArgument("explain: noise level must be >= 0, got " + std::to_string(noise_level));
}
Json SmoothGradOptions::to_json() const { return {{"samples", samples}, {"noise_level", noise_level}}; }

void OcclusionOptions::validate() const { at_least<int64_t>("ngram", ngram, 1); }
Json OcclusionOptions::to_json() const { return {{"ngram", ngram}}; }

void SurrogateOptions::validate() const {
  at_least<int64_t>("samples", samples, 1);
  if (!(kernel_width > 0)) throw InvalidArgument("explain: kernel width must be > 0, got " + std::to_string(kernel_width));
  if (!(ridge >= 0)) throw InvalidArgument("explain: ridge must be >= 0, got " + std::to_string(ridge));
}
Json SurrogateOptions::to_json() const {
  return {{"samples", samples}, {"kernel_width", kernel_width}, {"ridge", ridge}};
}

void FlowOptions::validate() const { at_least<int64_t>("max flow tokens", max_tokens, 1); }
Json FlowOptions::to_json() const { return {{"max_tokens", max_tokens}}; }

void ExplainOptions::validate() const {
  attention.validate();
  path.validate();
  smoothgrad.validate();
  occlusion.validate();
  surrogate.validate();
  flow.validate();
  at_least<int64_t>("chunk", chunk, 0);
  at_least<int64_t>("max tokens", max_tokens, 1);
}

Json ExplainOptions::to_json() const {
  return {{"targets", targets.empty() ? Json("predicted") : Json(targets)},
          {"attention", attention.to_json()},
          {"path", path.to_json()},
          {"smoothgrad", smoothgrad.to_json()},
          {"occlusion", occlusion.to_json()},
          {"surrogate", surrogate.to_json()},
          {"flow", flow.to_json()},
          {"removal", to_string(removal)},
          {"seed", seed},
          {"chunk", chunk},
          {"max_tokens", max_tokens},
          {"fast", fast}};
}

}  // namespace lumen::explain
