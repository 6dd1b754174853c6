#include "app/inputs.h"

#include <algorithm>

#include "core/error.h"
#include "data/tokenizer.h"
#include "train/train_run.h"

namespace lumen::app {

std::vector<data::Example> examples_from_texts(const models::Run& run, const std::vector<std::string>& texts,
                                               const std::string& command) {
  data::Tokenizer tok(run.tokenizer);
  std::vector<data::Example> examples(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto& e = examples[i];
    e.source = "input " + std::to_string(i + 1);
    std::string first = texts[i], second;
    if (run.model_config.pair) {
      const size_t tab = first.find('\t');
      if (tab == std::string::npos) throw DataError(command + ": " + e.source + ": a pair model needs 'FIRST<TAB>SECOND'");
      second = first.substr(tab + 1);
      first = first.substr(0, tab);
    }
    try {
      e.tokens = tok.tokenize(first).tokens;
      if (run.model_config.pair) e.tokens_b = tok.tokenize(second).tokens;
    } catch (const DataError& err) {
      throw DataError(command + ": " + e.source + ": " + err.what());
    }
    if (e.tokens.empty() || (run.model_config.pair && e.tokens_b.empty()))
      throw DataError(command + ": " + e.source + " has no tokens");
    e.text = first;
    e.text_b = second;
  }
  return examples;
}

std::vector<data::Example> split_examples(const models::Run& run, const std::string& spec, const std::string& split,
                                          int64_t limit, const std::string& command, bool* pair) {
  data::Dataset ds = train::load_dataset_for_run(run, spec == "run" ? "" : spec);
  const auto& part = ds.split(data::parse_split(split));
  if (part.empty()) throw DataError(command + ": the " + split + " split of " + ds.name + " is empty");
  if (pair) *pair = ds.pair;
  const size_t n = limit > 0 ? std::min<size_t>(part.size(), limit) : part.size();
  return std::vector<data::Example>(part.begin(), part.begin() + n);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

}  // namespace lumen::app
