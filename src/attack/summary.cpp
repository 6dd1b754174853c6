// The attack's JSON: one record per example and the summary with TextAttack's metrics.
#include <algorithm>
#include <cmath>

#include "attack/attack.h"

namespace lumen::attack {

namespace {
Json label_of(int64_t k, const std::vector<std::string>& names) {
  if (k < 0) return nullptr;
  return k < static_cast<int64_t>(names.size()) ? Json(names[k]) : Json(k);
}
double mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
Json number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }
}  // namespace

Json AttackResult::to_json(const std::vector<std::string>& label_names) const {
  Json edits_json = Json::array();
  for (const auto& e : edits) {
    Json j = e.to_json();
    const bool insert = e.kind == perturb::EditKind::kInsert;
    j["original"] = !insert && e.position < static_cast<int64_t>(original.size()) ? original[e.position] : "";
    // Where the edit's word lands in the perturbed text (one insertion per position at most).
    int64_t at = e.position;
    for (const auto& o : edits) {
      if (o.kind == perturb::EditKind::kInsert && (o.position < e.position || (!insert && o.position == e.position))) ++at;
      if (o.kind == perturb::EditKind::kDelete && o.position < e.position) --at;
    }
    j["replacement"] = e.kind != perturb::EditKind::kDelete && at >= 0 && at < static_cast<int64_t>(perturbed.size())
                           ? perturbed[at]
                           : "";
    if (e.kind != perturb::EditKind::kDelete) j["perturbed_position"] = at;
    edits_json.push_back(j);
  }
  Json j{{"index", index},
         {"status", attack::to_string(status)},
         {"label", label_of(label, label_names)},
         {"original", {{"tokens", original}, {"prediction", label_of(original_prediction, label_names)},
                       {"probabilities", original_probs}}},
         {"queries", queries},
         {"seconds", seconds},
         {"words_changed", words_changed()}};
  if (!reason.empty()) j["reason"] = reason;
  if (status != Status::kSkipped) {
    j["perturbed"] = {{"tokens", perturbed}, {"prediction", label_of(perturbed_prediction, label_names)},
                      {"probabilities", perturbed_probs}};
    j["edits"] = edits_json;
    j["perturbed_word_share"] = original.empty() ? 0.0 : static_cast<double>(edits.size()) / original.size();
  }
  if (!rationale.empty()) j["rationale"] = rationale;
  if (std::isfinite(fluency_ratio)) j["fluency_ratio"] = fluency_ratio;
  return j;
}

Json summarize(const AttackRun& run, const AttackOptions& options) {
  int64_t ok = 0, failed = 0, skipped = 0;
  std::vector<double> share, words, queries, fluency;
  int64_t on_rationale = 0, changed_with_rationale = 0;
  for (const auto& r : run.results) {
    words.push_back(static_cast<double>(r.original.size()));
    if (r.status == Status::kSkipped) {
      ++skipped;
      continue;
    }
    queries.push_back(static_cast<double>(r.queries));
    if (r.status == Status::kFailed) {
      ++failed;
      continue;
    }
    ++ok;
    if (std::isfinite(r.fluency_ratio)) fluency.push_back(r.fluency_ratio);
    share.push_back(100.0 * static_cast<double>(r.edits.size()) / std::max<size_t>(1, r.original.size()));
    if (!r.rationale.empty())
      for (const auto& e : r.edits) {
        ++changed_with_rationale;
        on_rationale += std::find(r.rationale.begin(), r.rationale.end(), e.position) != r.rationale.end();
      }
  }
  const int64_t total = static_cast<int64_t>(run.results.size());
  Json s{{"recipe", options.recipe},
         {"options", options.to_json()},
         {"total", total},
         {"succeeded", ok},
         {"failed", failed},
         {"skipped", skipped},
         // TextAttack: original accuracy = (total - skipped) / total; accuracy under attack =
         // failed / total; success rate = succeeded / (succeeded + failed).
         {"original_accuracy", total > 0 ? Json(static_cast<double>(total - skipped) / total) : Json(nullptr)},
         {"accuracy_under_attack", total > 0 ? Json(static_cast<double>(failed) / total) : Json(nullptr)},
         {"success_rate", ok + failed > 0 ? Json(static_cast<double>(ok) / (ok + failed)) : Json(nullptr)},
         {"perturbed_word_percent", number(mean(share))},
         {"words_per_input", number(mean(words))},
         {"queries_per_example", number(mean(queries))},
         {"denominators",
          {{"original_accuracy", "all examples"},
           {"accuracy_under_attack", "all examples"},
           {"success_rate", "succeeded + failed"},
           {"perturbed_word_percent", "succeeded"},
           {"words_per_input", "all examples"},
           {"queries_per_example", "succeeded + failed (skipped examples excluded)"}}},
         {"timings", run.timings.to_json()},
         {"examples_per_second", run.timings.total > 0 ? Json(total / run.timings.total) : Json(nullptr)}};
  if (!fluency.empty()) s["fluency_ratio_mean"] = mean(fluency);
  if (changed_with_rationale > 0)
    s["rationale"] = {{"changed_words", changed_with_rationale},
                      {"on_rationale", on_rationale},
                      {"share", static_cast<double>(on_rationale) / changed_with_rationale}};
  return s;
}

}  // namespace lumen::attack
