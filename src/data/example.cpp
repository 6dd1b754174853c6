#include "data/example.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"

namespace lumen::data {

Split parse_split(const std::string& s) {
  if (s == "train" || s == "training") return Split::kTrain;
  if (s == "dev" || s == "validation" || s == "val" || s == "valid") return Split::kDev;
  if (s == "test") return Split::kTest;
  throw InvalidArgument("split must be one of train, dev, test, got '" + s + "'");
}

std::string split_name(Split s) { return s == Split::kTrain ? "train" : s == Split::kDev ? "dev" : "test"; }

std::vector<Example>& Dataset::split(Split s) { return s == Split::kTrain ? train : s == Split::kDev ? dev : test; }
const std::vector<Example>& Dataset::split(Split s) const {
  return s == Split::kTrain ? train : s == Split::kDev ? dev : test;
}

TokenizeReport tokenize_dataset(Dataset& ds, const Tokenizer& tokenizer) {
  TokenizeReport report;
  auto run = [&](Example& e, const std::string& text, std::vector<std::string>& tokens, const char* which,
                 bool train) {
    if (!tokens.empty()) return;
    TokenizeResult r;
    try {
      r = tokenizer.tokenize(text);
    } catch (const DataError& err) {
      throw DataError("data: " + e.source + ": " + which + ": " + err.what());
    }
    if (r.tokens.empty()) throw DataError("data: " + e.source + ": " + which + " is empty (no tokens)");
    tokens = std::move(r.tokens);
    if (train)
      for (auto& w : r.folded) ++report.folded_train[w];
    ++report.texts;
    report.truncated += r.truncated;
  };
  for (Split s : {Split::kTrain, Split::kDev, Split::kTest}) {
    for (auto& e : ds.split(s)) {
      run(e, e.text, e.tokens, ds.pair ? "first text" : "text", s == Split::kTrain);
      if (ds.pair) run(e, e.text_b, e.tokens_b, "second text", s == Split::kTrain);
    }
  }
  return report;
}

void assign_labels(Dataset& ds) {
  if (ds.label_names.empty()) {
    std::set<std::string> names;
    for (const auto& e : ds.train) names.insert(e.label_name);
    ds.label_names.assign(names.begin(), names.end());
  }
  if (ds.label_names.size() < 2)
    throw DataError("data: " + ds.name + ": the training split must have at least 2 labels, got " +
                    std::to_string(ds.label_names.size()));
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < ds.label_names.size(); ++i) index[ds.label_names[i]] = static_cast<int64_t>(i);
  for (Split s : {Split::kTrain, Split::kDev, Split::kTest}) {
    for (auto& e : ds.split(s)) {
      if (e.label >= 0 && e.label_name.empty()) continue;
      auto it = index.find(e.label_name);
      if (it == index.end())
        throw DataError("data: " + e.source + ": unknown label '" + e.label_name + "' (the training split has " +
                        std::to_string(ds.label_names.size()) + " labels)");
      e.label = it->second;
    }
  }
}

Json example_to_json(const Example& e, const Dataset& ds) {
  Json j{{"source", e.source}, {"tokens", e.tokens}};
  if (ds.pair) j["tokens_b"] = e.tokens_b;
  j["label"] = e.label >= 0 && e.label < static_cast<int64_t>(ds.label_names.size()) ? ds.label_names[e.label]
                                                                                    : e.label_name;
  if (!e.rationale.empty()) j["rationale"] = e.rationale;
  return j;
}

}  // namespace lumen::data
