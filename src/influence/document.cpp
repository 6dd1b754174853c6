#include "influence/document.h"

#include <algorithm>
#include <numeric>

namespace lumen::influence {

namespace {
std::string text_of(const data::Example& e) {
  std::string s;
  for (const auto& t : e.tokens) s += (s.empty() ? "" : " ") + t;
  if (!e.tokens_b.empty()) {
    s += "\t";
    for (size_t i = 0; i < e.tokens_b.size(); ++i) s += (i ? " " : "") + e.tokens_b[i];
  }
  return s;
}
}  // namespace

Json influence_document(const InfluenceResult& result, const std::vector<data::Example>& train,
                        const std::vector<data::Example>& test, const std::vector<std::string>& label_names,
                        int64_t top_self) {
  Json doc = result.to_json();
  auto name = [&](int64_t y) { return y >= 0 && y < static_cast<int64_t>(label_names.size()) ? label_names[y] : std::to_string(y); };
  for (auto& t : doc["tests"]) {
    const int64_t i = t["test"].get<int64_t>();
    if (i < static_cast<int64_t>(test.size())) {
      t["text"] = text_of(test[i]);
      t["source"] = test[i].source;
    }
    t["label_name"] = name(t["label"].get<int64_t>());
    t["predicted_name"] = name(t["predicted"].get<int64_t>());
    for (const char* side : {"proponents", "opponents"})
      for (auto& e : t[side]) {
        const int64_t r = e["train"].get<int64_t>();
        if (r < static_cast<int64_t>(train.size())) {
          e["text"] = text_of(train[r]);
          e["source"] = train[r].source;
        }
        e["label_name"] = name(e["label"].get<int64_t>());
      }
  }
  if (!result.self_influence.empty()) {
    std::vector<int64_t> order(result.self_influence.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return result.self_influence[a] > result.self_influence[b]; });
    Json ranked = Json::array();
    for (int64_t k = 0; k < std::min<int64_t>(top_self, static_cast<int64_t>(order.size())); ++k) {
      const int64_t r = order[k];
      Json e{{"train", r}, {"score", result.self_influence[r]}};
      if (r < static_cast<int64_t>(train.size())) {
        e["text"] = text_of(train[r]);
        e["source"] = train[r].source;
        e["label_name"] = name(train[r].label);
      }
      ranked.push_back(e);
    }
    doc["self_influence_ranking"] = ranked;
  }
  doc["label_names"] = label_names;
  return doc;
}

}  // namespace lumen::influence
