#include "data/example.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "data/utf8.h"

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

namespace {

// Byte offset of code point `cp` in valid UTF-8 `s` (s.size() for cp at the end).
size_t byte_offset(const std::string& s, int64_t cp) {
  size_t b = 0;
  for (int64_t k = 0; k < cp && b < s.size(); ++k) {
    ++b;
    while (b < s.size() && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) ++b;
  }
  return b;
}

// The indices of the tokens of `e.text` inside its character spans: the text is cut at every
// span boundary and each piece tokenized alone; the pieces must give the text's own tokens.
std::vector<int64_t> span_tokens(const Example& e, const Tokenizer& tokenizer, size_t kept) {
  TokenizerOptions whole = tokenizer.options();
  whole.max_length = 0;
  const Tokenizer untruncated(whole);
  const int64_t chars = static_cast<int64_t>(decode_utf8(e.text).size());
  std::set<int64_t> cuts = {0, chars};
  for (const auto& [a, b] : e.rationale_spans) {
    if (a < 0 || b > chars || a >= b)
      throw DataError("data: " + e.source + ": rationale span [" + std::to_string(a) + ", " + std::to_string(b) +
                      ") must satisfy 0 <= start < end <= " + std::to_string(chars) + " (the text's characters)");
    cuts.insert(a);
    cuts.insert(b);
  }
  const std::vector<std::string> full = untruncated.tokenize(e.text).tokens;
  std::vector<std::string> pieces;
  std::vector<int64_t> out;
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
    const int64_t a = *it, b = *std::next(it);
    bool inside = false;
    for (const auto& sp : e.rationale_spans) inside |= sp.first <= a && b <= sp.second;
    const size_t from = byte_offset(e.text, a), to = byte_offset(e.text, b);
    for (auto& t : untruncated.tokenize(e.text.substr(from, to - from)).tokens) {
      if (inside) out.push_back(static_cast<int64_t>(pieces.size()));
      pieces.push_back(std::move(t));
    }
  }
  if (pieces != full)
    throw DataError("data: " + e.source + ": a rationale span cuts through a token; spans must start and end at token boundaries");
  out.erase(std::remove_if(out.begin(), out.end(), [&](int64_t t) { return t >= static_cast<int64_t>(kept); }), out.end());
  return out;
}

}  // namespace

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
    if (&tokens == &e.tokens) {
      if (!e.rationale_spans.empty()) {
        e.rationale = span_tokens(e, tokenizer, tokens.size());
        e.rationale_spans.clear();
      }
      for (int64_t t : e.rationale)
        if (t < 0 || (!r.truncated && t >= static_cast<int64_t>(tokens.size())))
          throw DataError("data: " + e.source + ": rationale token index " + std::to_string(t) + " outside the text's " +
                          std::to_string(tokens.size()) + " tokens");
      e.rationale.erase(std::remove_if(e.rationale.begin(), e.rationale.end(),
                                       [&](int64_t t) { return t >= static_cast<int64_t>(tokens.size()); }),
                        e.rationale.end());
      std::sort(e.rationale.begin(), e.rationale.end());
      e.rationale.erase(std::unique(e.rationale.begin(), e.rationale.end()), e.rationale.end());
    }
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
