#include "attack/augment.h"

#include "core/fs.h"
#include "core/json.h"

namespace lumen::attack {

int64_t write_augmentation(const std::string& path, const AttackRun& run, const std::vector<data::Example>& examples,
                           const std::vector<std::string>& label_names, const std::string& recipe) {
  int64_t n = 0;
  write_atomic(path, [&](std::ostream& os) {
    for (const auto& r : run.results) {
      if (r.status != Status::kSucceeded || r.label < 0 || r.label >= static_cast<int64_t>(label_names.size())) continue;
      std::string text;
      for (const auto& w : r.perturbed) text += (text.empty() ? "" : " ") + w;
      const data::Example& ex = examples.at(r.index);
      Json j{{"tokens", r.perturbed}, {"text", text}, {"label", label_names[r.label]},
             {"source", recipe + ":" + (ex.source.empty() ? "#" + std::to_string(r.index) : ex.source)}};
      if (!ex.tokens_b.empty()) j["tokens_b"] = ex.tokens_b;
      os << j.dump() << "\n";
      ++n;
    }
  });
  return n;
}

}  // namespace lumen::attack
