#include "nle/dataset.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "data/csv.h"
#include "data/readers.h"
#include "data/tokenizer.h"

namespace lumen::nle {
namespace {

struct Tagged {
  NleExample e;
  int split = -1;
};

std::string scalar(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

// Calls fn(object, "file:line") for each non-blank line of a JSON-lines file; a line that is not
// a JSON object is a DataError naming `format`, the file and the line.
void for_each_json_line(const std::string& path, const std::string& format, const std::function<void(const Json&, const std::string&)>& fn) {
  std::istringstream in(read_file(path));
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(n);
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw DataError(format + ": " + where + ": each line must be a JSON object");
    fn(j, where);
  }
}

// e-SNLI CSV: pairID, gold_label, Sentence1, Sentence2, Explanation_1[, Explanation_2, ...].
std::vector<Tagged> read_esnli_file(const std::string& path, int split) {
  const auto rows = data::parse_csv(read_file(path), ',', path);
  if (rows.empty()) throw DataError("esnli: " + path + " is empty");
  std::map<std::string, size_t> col;
  for (size_t k = 0; k < rows[0].fields.size(); ++k) col[rows[0].fields[k]] = k;
  for (const char* need : {"gold_label", "Sentence1", "Sentence2", "Explanation_1"})
    if (!col.count(need)) throw DataError("esnli: " + path + ": no column named '" + need + "' in the header");
  std::vector<Tagged> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r].fields;
    const std::string where = path + ":" + std::to_string(rows[r].line);
    auto get = [&](const char* name) { return col[name] < f.size() ? f[col[name]] : std::string(); };
    Tagged t;
    t.split = split;
    t.e.example.text = get("Sentence1");
    t.e.example.text_b = get("Sentence2");
    t.e.example.label_name = get("gold_label");
    t.e.example.source = where;
    t.e.explanation_text = get("Explanation_1");
    if (t.e.example.label_name.empty() || t.e.example.label_name == "-") continue;  // no majority label
    if (t.e.example.text_b.empty()) continue;  // a handful of training rows lack the hypothesis
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Tagged> read_esnli(const std::string& path) {
  if (!std::filesystem::is_directory(path)) return read_esnli_file(path, -1);
  std::vector<Tagged> out;
  const std::pair<const char*, int> files[] = {{"esnli_train_1.csv", 0}, {"esnli_train_2.csv", 0}, {"esnli_train.csv", 0},
                                               {"esnli_dev.csv", 1}, {"esnli_test.csv", 2}};
  for (const auto& [name, split] : files) {
    const std::string p = join_path(path, name);
    if (!path_exists(p)) continue;
    auto part = read_esnli_file(p, split);
    std::move(part.begin(), part.end(), std::back_inserter(out));
  }
  if (out.empty()) throw IoError("esnli: " + path + " holds none of esnli_train_1.csv, esnli_train_2.csv, esnli_dev.csv, esnli_test.csv");
  return out;
}

// CoS-E: one JSON object a line, either as CommonsenseQA + CoS-E distribute it
// ({"answerKey", "question": {"stem", "choices": [{"label", "text"}]}, "explanation": {"open-ended"}})
// or as the flat form ({"question", "choices": [...], "answer", "abstractive_explanation"}).
// The text is the question, the second text the choices ("a: ... b: ..."), the label the
// answer's letter.
std::vector<Tagged> read_cose(const std::string& path, int split) {
  std::vector<std::pair<std::string, int>> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& f : data::list_files(path, ".jsonl")) {
      const std::string base = std::filesystem::path(f).filename().string();
      if (base.find("cose_") != 0) continue;
      files.emplace_back(f, base.find("train") != std::string::npos ? 0 : base.find("dev") != std::string::npos ? 1 : 2);
    }
    if (files.empty()) throw IoError("cose: " + path + " holds no cose_*.jsonl file");
  } else {
    files.emplace_back(path, split);
  }
  std::vector<Tagged> out;
  for (const auto& [file, sp] : files) {
    for_each_json_line(file, "cose", [&, sp = sp](const Json& j, const std::string& where) {
      Tagged t;
      t.split = sp;
      t.e.example.source = where;
      std::vector<std::pair<std::string, std::string>> choices;  // (letter, text)
      std::string answer;
      if (j.contains("question") && j["question"].is_object()) {
        const Json& q = j["question"];
        if (!q.contains("stem")) throw DataError("cose: " + where + ": question has no 'stem'");
        t.e.example.text = scalar(q["stem"]);
        if (q.contains("choices") && q["choices"].is_array())
          for (const auto& c : q["choices"]) choices.emplace_back(scalar(c.value("label", Json(""))), scalar(c.value("text", Json(""))));
        answer = scalar(j.value("answerKey", Json("")));
        if (j.contains("explanation") && j["explanation"].is_object())
          t.e.explanation_text = scalar(j["explanation"].value("open-ended", Json("")));
      } else if (j.contains("question")) {
        t.e.example.text = scalar(j["question"]);
        if (!j.contains("choices") || !j["choices"].is_array()) throw DataError("cose: " + where + ": no 'choices' list");
        const std::string answer_text = scalar(j.value("answer", Json("")));
        for (size_t k = 0; k < j["choices"].size(); ++k) {
          const std::string letter(1, static_cast<char>('A' + k));
          choices.emplace_back(letter, scalar(j["choices"][k]));
          if (choices.back().second == answer_text) answer = letter;
        }
        t.e.explanation_text = scalar(j.value("abstractive_explanation", Json("")));
      } else {
        throw DataError("cose: " + where + ": no 'question' field");
      }
      if (choices.empty()) throw DataError("cose: " + where + ": no answer choices");
      if (answer.empty()) throw DataError("cose: " + where + ": no answer (answerKey) among the choices");
      for (const auto& [letter, text] : choices) t.e.example.text_b += (t.e.example.text_b.empty() ? "" : " ") + letter + " : " + text;
      t.e.example.label_name = answer;
      out.push_back(std::move(t));
    });
  }
  if (out.empty()) throw DataError("cose: " + path + " is empty");
  return out;
}

std::vector<Tagged> read_table(const NleDataSpec& spec) {
  std::vector<Tagged> out;
  auto add = [&](const std::string& where, const std::function<std::string(const std::string&, bool)>& get) {
    Tagged t;
    t.e.example.source = where;
    t.e.example.text = get(spec.text, true);
    if (!spec.text_b.empty()) t.e.example.text_b = get(spec.text_b, true);
    t.e.example.label_name = get(spec.label, true);
    if (t.e.example.label_name.empty()) throw DataError(spec.format + ": " + where + ": row has no label");
    t.e.explanation_text = get(spec.explanation, false);
    const std::string s = get(spec.split_column, false);
    if (!s.empty()) t.split = data::split_of(s, where);
    out.push_back(std::move(t));
  };
  if (spec.format == "jsonl") {
    for_each_json_line(spec.path, "jsonl", [&](const Json& j, const std::string& where) {
      add(where, [&](const std::string& name, bool required) {
        if (!j.contains(name)) {
          if (required) throw DataError("jsonl: " + where + ": no field named '" + name + "'");
          return std::string();
        }
        return scalar(j[name]);
      });
    });
  } else {
    const auto rows = data::parse_csv(read_file(spec.path), spec.format == "tsv" ? '\t' : ',', spec.path);
    if (rows.empty()) throw DataError(spec.format + ": " + spec.path + " is empty");
    std::map<std::string, size_t> col;
    for (size_t k = 0; k < rows[0].fields.size(); ++k) col[rows[0].fields[k]] = k;
    for (size_t r = 1; r < rows.size(); ++r) {
      const std::string where = spec.path + ":" + std::to_string(rows[r].line);
      add(where, [&](const std::string& name, bool required) {
        auto it = col.find(name);
        if (it == col.end()) {
          if (required) throw DataError(spec.format + ": " + spec.path + ": no column named '" + name + "' in the header");
          return std::string();
        }
        return it->second < rows[r].fields.size() ? rows[r].fields[it->second] : std::string();
      });
    }
  }
  if (out.empty()) throw DataError(spec.format + ": " + spec.path + " has no examples");
  return out;
}

const std::vector<std::string> kObjects = {"ball", "box", "cup", "hat", "car", "kite", "lamp", "book", "chair", "door"};
const std::vector<std::string> kColours = {"red", "blue", "green", "yellow", "black", "white", "pink", "brown"};
const std::vector<std::string> kAttributes = {"big", "small", "old", "new", "heavy", "round", "square", "broken"};

}  // namespace

std::vector<NleExample>& NleDataset::split(data::Split s) {
  return s == data::Split::kTrain ? train : s == data::Split::kDev ? dev : test;
}
const std::vector<NleExample>& NleDataset::split(data::Split s) const {
  return s == data::Split::kTrain ? train : s == data::Split::kDev ? dev : test;
}

void NleDataSpec::validate() const {
  static const std::set<std::string> kFormats = {"esnli", "cose", "jsonl", "csv", "tsv", "synthetic-nle"};
  if (!kFormats.count(format))
    throw InvalidArgument("nle data: unknown format '" + format + "' (choose esnli, cose, jsonl, csv, tsv or synthetic-nle)");
  if (format != "synthetic-nle" && path.empty()) throw InvalidArgument("nle data: " + format + " needs a path (" + format + ":PATH)");
  if (format == "synthetic-nle" && n < 20) throw InvalidArgument("nle data: synthetic-nle needs n >= 20");
  if (distractors != "attributes" && distractors != "colours")
    throw InvalidArgument("nle data: distractors must be attributes or colours, not '" + distractors + "'");
  if (!(dev_fraction >= 0 && test_fraction > 0 && dev_fraction + test_fraction < 1))
    throw InvalidArgument("nle data: dev and test fractions must be in [0, 1) with test > 0 and a sum below 1");
  if (limit < 0) throw InvalidArgument("nle data: limit must be >= 0");
}

std::string NleDataSpec::to_string() const {
  std::string s = format == "synthetic-nle" ? format : format + ":" + path;
  std::vector<std::string> kv;
  if (format == "synthetic-nle") {
    kv.push_back("n=" + std::to_string(n));
    if (distractors != "attributes") kv.push_back("distractors=" + distractors);
  }
  if (format == "jsonl" || format == "csv" || format == "tsv") {
    kv.push_back("text=" + text);
    if (!text_b.empty()) kv.push_back("text_b=" + text_b);
    kv.push_back("label=" + label);
    kv.push_back("explanation=" + explanation);
  }
  kv.push_back("seed=" + std::to_string(seed));
  if (limit) kv.push_back("limit=" + std::to_string(limit));
  for (size_t k = 0; k < kv.size(); ++k) s += (k ? "&" : "?") + kv[k];
  return s;
}

NleDataSpec parse_nle_spec(const std::string& text) {
  NleDataSpec spec;
  std::string head = text, query;
  if (const size_t q = text.find('?'); q != std::string::npos) {
    head = text.substr(0, q);
    query = text.substr(q + 1);
  }
  if (head == "synthetic-nle") {
    spec.format = head;
  } else if (const size_t c = head.find(':'); c != std::string::npos && c > 1) {
    spec.format = head.substr(0, c);
    spec.path = head.substr(c + 1);
  } else {
    spec.path = head;
    const auto ext = std::filesystem::path(head).extension().string();
    spec.format = ext == ".jsonl" ? "jsonl" : ext == ".csv" ? "csv" : ext == ".tsv" ? "tsv" : "";
    if (spec.format.empty())
      throw InvalidArgument("nle data: cannot tell the format of '" + head + "': write esnli:PATH, cose:PATH, jsonl:PATH or csv:PATH");
  }
  std::istringstream in(query);
  std::string item;
  while (std::getline(in, item, '&')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) throw InvalidArgument("nle data: '" + item + "' is not key=value");
    const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    auto number = [&](auto& out) {
      try {
        size_t used = 0;
        const double d = std::stod(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        out = static_cast<std::decay_t<decltype(out)>>(d);
      } catch (const std::exception&) {
        throw InvalidArgument("nle data: " + k + " must be a number, not '" + v + "'");
      }
    };
    if (k == "text") spec.text = v;
    else if (k == "text_b") spec.text_b = v;
    else if (k == "label") spec.label = v;
    else if (k == "explanation") spec.explanation = v;
    else if (k == "split") spec.split_column = v;
    else if (k == "n") number(spec.n);
    else if (k == "distractors") spec.distractors = v;
    else if (k == "seed") number(spec.seed);
    else if (k == "dev") number(spec.dev_fraction);
    else if (k == "test") number(spec.test_fraction);
    else if (k == "limit") number(spec.limit);
    else
      throw InvalidArgument("nle data: unknown key '" + k + "' (known: text, text_b, label, explanation, split, n, distractors, seed, dev, test, limit)");
  }
  spec.validate();
  return spec;
}

NleDataset synthetic_nle(int64_t n, uint64_t seed, bool colour_distractors) {
  NleDataset ds;
  ds.name = "synthetic-nle";
  ds.pair = true;
  ds.label_names = {"contradiction", "entailment"};
  Rng rng(seed);
  std::vector<NleExample> all;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = 2 + static_cast<int64_t>(rng.uniform_int(3));
    std::vector<size_t> objs(kObjects.size());
    for (size_t q = 0; q < objs.size(); ++q) objs[q] = q;
    rng.shuffle(objs);
    NleExample e;
    std::vector<size_t> colour(k);
    const int64_t asked = static_cast<int64_t>(rng.uniform_int(k));
    for (int64_t s = 0; s < k; ++s) {
      colour[s] = rng.uniform_int(kColours.size());
      const std::string& word = colour_distractors || s == asked ? kColours[colour[s]] : kAttributes[rng.uniform_int(kAttributes.size())];
      for (const auto& w : {std::string("the"), kObjects[objs[s]], std::string("is"), word, std::string(".")})
        e.example.tokens.push_back(w);
    }
    const int label = static_cast<int>(i % 2);  // balanced
    size_t hyp = colour[asked];
    if (label == 0) hyp = (colour[asked] + 1 + rng.uniform_int(kColours.size() - 1)) % kColours.size();
    e.example.tokens_b = {"the", kObjects[objs[asked]], "is", kColours[hyp]};
    e.example.rationale = {5 * asked + 1, 5 * asked + 3};
    e.explanation = {"the", "premise", "says", "the", kObjects[objs[asked]], "is", kColours[colour[asked]]};
    if (label == 0)
      for (const auto& w : {std::string(","), std::string("not"), kColours[hyp]}) e.explanation.push_back(w);
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
      return s;
    };
    e.example.text = join(e.example.tokens);
    e.example.text_b = join(e.example.tokens_b);
    e.explanation_text = join(e.explanation);
    e.example.label = label;
    e.example.label_name = ds.label_names[label];
    e.example.source = "synthetic-nle#" + std::to_string(i);
    all.push_back(std::move(e));
  }
  const int64_t n_test = std::max<int64_t>(1, n / 5), n_dev = std::max<int64_t>(1, n / 10);
  for (int64_t i = 0; i < n; ++i) {
    auto& dst = i < n - n_test - n_dev ? ds.train : i < n - n_test ? ds.dev : ds.test;
    dst.push_back(std::move(all[i]));
  }
  return ds;
}

std::vector<std::string> rationale_words(const data::Example& e) {
  std::vector<std::string> out;
  for (int64_t p : e.rationale)
    if (p >= 0 && p < static_cast<int64_t>(e.tokens.size())) out.push_back(e.tokens[p]);
  return out;
}

NleDataset load_nle_dataset(const NleDataSpec& spec) {
  spec.validate();
  if (spec.format == "synthetic-nle") {
    NleDataset ds = synthetic_nle(spec.n, spec.seed, spec.distractors == "colours");
    ds.name = spec.to_string();
    return ds;
  }
  std::vector<Tagged> all = spec.format == "esnli"  ? read_esnli(spec.path)
                            : spec.format == "cose" ? read_cose(spec.path, -1)
                                                    : read_table(spec);
  NleDataset ds;
  ds.name = spec.to_string();
  ds.pair = spec.format == "esnli" || spec.format == "cose" || !spec.text_b.empty();
  // Examples without a split: a seeded shuffle, then test and dev fractions.
  std::vector<size_t> unsplit;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].split < 0) unsplit.push_back(i);
  Rng rng(spec.seed);
  rng.shuffle(unsplit);
  const bool has_test = std::any_of(all.begin(), all.end(), [](const Tagged& t) { return t.split == 2; });
  const bool has_dev = std::any_of(all.begin(), all.end(), [](const Tagged& t) { return t.split == 1; });
  const size_t n_test = has_test ? 0 : static_cast<size_t>(spec.test_fraction * unsplit.size());
  const size_t n_dev = has_dev ? 0 : static_cast<size_t>(spec.dev_fraction * unsplit.size());
  for (size_t k = 0; k < unsplit.size(); ++k) all[unsplit[k]].split = k < n_test ? 2 : k < n_test + n_dev ? 1 : 0;
  data::Tokenizer tokenizer;
  std::set<std::string> labels;
  for (auto& t : all) {
    auto& ex = t.e.example;
    try {
      ex.tokens = tokenizer.tokenize(ex.text).tokens;
      if (!ex.text_b.empty()) ex.tokens_b = tokenizer.tokenize(ex.text_b).tokens;
      t.e.explanation = tokenizer.tokenize(t.e.explanation_text).tokens;
    } catch (const DataError& e) {
      throw DataError(ex.source + ": " + e.what());
    }
    if (t.split == 0) {
      if (t.e.explanation.empty()) throw DataError(ex.source + ": a training example has no explanation");
      labels.insert(ex.label_name);
    }
  }
  ds.label_names.assign(labels.begin(), labels.end());
  if (ds.label_names.size() < 2) throw DataError("nle data: " + spec.path + ": the training split has fewer than two labels");
  for (auto& t : all) {
    auto it = std::find(ds.label_names.begin(), ds.label_names.end(), t.e.example.label_name);
    if (it == ds.label_names.end())
      throw DataError(t.e.example.source + ": label '" + t.e.example.label_name + "' does not occur in the training split");
    t.e.example.label = it - ds.label_names.begin();
    auto& dst = t.split == 0 ? ds.train : t.split == 1 ? ds.dev : ds.test;
    if (spec.limit == 0 || static_cast<int64_t>(dst.size()) < spec.limit) dst.push_back(std::move(t.e));
  }
  if (ds.train.empty() || ds.test.empty()) throw DataError("nle data: " + spec.path + ": needs training and test examples");
  return ds;
}

Json nle_example_to_json(const NleExample& e, const std::vector<std::string>& label_names) {
  Json j = {{"tokens", e.example.tokens}, {"explanation", e.explanation}, {"source", e.example.source}};
  if (!e.example.tokens_b.empty()) j["tokens_b"] = e.example.tokens_b;
  if (e.example.label >= 0 && e.example.label < static_cast<int64_t>(label_names.size())) j["label"] = label_names[e.example.label];
  if (!e.example.rationale.empty()) j["rationale"] = e.example.rationale;
  return j;
}

}  // namespace lumen::nle
