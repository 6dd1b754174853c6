// Readers of the corpora of the paper in the layouts they are distributed in: SST trees,
// IMDB aclImdb folders, AG News CSV, 20 Newsgroups folders, SNLI JSONL, bAbI task files.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "data/csv.h"
#include "data/readers.h"
#include "data/utf8.h"

namespace lumen::data {
namespace fs = std::filesystem;

std::vector<std::string> list_files(const std::string& dir, const std::string& suffix) {
  if (!is_directory(dir)) throw IoError("data: " + dir + " is not a directory");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string p = e.path().string();
    if (suffix.empty() || (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0))
      out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string strip_html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      const size_t close = s.find('>', i);
      // Only a real tag: '<' followed by a letter, '/' or '!', closed within 2 KB.
      if (close != std::string::npos && close - i < 2048 && i + 1 < s.size() &&
          (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/' || s[i + 1] == '!')) {
        out += ' ';
        i = close;
        continue;
      }
    }
    if (s[i] == '&') {
      static const std::pair<const char*, const char*> kEntities[] = {
          {"&nbsp;", " "}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}};
      bool done = false;
      for (const auto& [ent, rep] : kEntities) {
        const size_t len = std::strlen(ent);
        if (s.compare(i, len, ent) == 0) {
          out += rep;
          i += len - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += s[i];
  }
  return out;
}

namespace {

// The files of a corpus that comes as a folder of split files (names given per split, "" for
// none) or as one file (split -1: split later). At least one split file must exist.
std::vector<std::pair<std::string, int>> split_files(const std::string& path, const std::vector<std::string>& names,
                                                     const std::string& component) {
  std::vector<std::pair<std::string, int>> files;
  if (!is_directory(path)) return {{path, -1}};
  std::string wanted;
  for (size_t split = 0; split < names.size(); ++split) {
    if (names[split].empty()) continue;
    wanted += (wanted.empty() ? "" : ", ") + names[split];
    if (path_exists(join_path(path, names[split]))) files.emplace_back(join_path(path, names[split]), static_cast<int>(split));
  }
  if (files.empty()) throw IoError(component + ": " + path + " has none of " + wanted);
  return files;
}

// --- SST: PTB-style trees "(3 (2 It) (4 (2 's) ...))"; the root label is the sentence label.
void parse_tree(const std::string& line, const std::string& where, int& root, std::vector<std::string>& leaves) {
  root = -1;
  size_t i = 0;
  int depth = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '(') {
      ++depth;
      ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '(' && line[j] != ')') ++j;
      const std::string lab = line.substr(i, j - i);
      if (lab.size() != 1 || lab[0] < '0' || lab[0] > '4')
        throw DataError("sst: " + where + ": node label must be 0..4, got '" + lab + "'");
      if (depth == 1) root = lab[0] - '0';
      i = j;
    } else if (c == ')') {
      --depth;
      if (depth < 0) throw DataError("sst: " + where + ": unbalanced parentheses");
      ++i;
    } else if (c == ' ') {
      ++i;
    } else {
      size_t j = i;
      while (j < line.size() && line[j] != ')' && line[j] != ' ') ++j;
      leaves.push_back(line.substr(i, j - i));
      i = j;
    }
  }
  if (depth != 0 || root < 0) throw DataError("sst: " + where + ": malformed tree");
}
}  // namespace

ReadResult read_sst(const DataSpec& spec) {
  ReadResult r;
  const bool binary = spec.classes == "binary";
  r.label_names = binary ? std::vector<std::string>{"negative", "positive"}
                         : std::vector<std::string>{"very negative", "negative", "neutral", "positive", "very positive"};
  for (const auto& [file, split] : split_files(spec.path, {"train.txt", "dev.txt", "test.txt"}, "sst")) {
    std::istringstream in(read_file(file));
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = file + ":" + std::to_string(n);
      int root;
      std::vector<std::string> leaves;
      parse_tree(line, where, root, leaves);
      if (binary && root == 2) continue;
      TaggedExample t;
      t.example.source = where;
      for (size_t k = 0; k < leaves.size(); ++k) t.example.text += (k ? " " : "") + leaves[k];
      t.example.label_name = r.label_names[binary ? (root > 2 ? 1 : 0) : root];
      t.split = split;
      r.examples.push_back(std::move(t));
    }
  }
  return r;
}

ReadResult read_imdb(const DataSpec& spec) {
  ReadResult r;
  r.label_names = {"neg", "pos"};
  for (auto [split_dir, split] : {std::pair<const char*, int>{"train", 0}, {"test", 2}}) {
    for (const char* label : {"neg", "pos"}) {
      const std::string dir = join_path(join_path(spec.path, split_dir), label);
      if (!is_directory(dir)) {
        if (split == 2) continue;
        throw IoError("imdb: " + dir + " is missing (expected the aclImdb layout: train/pos, train/neg, test/...)");
      }
      for (const auto& file : list_files(dir, ".txt")) {
        TaggedExample t;
        t.example.source = file;
        t.example.text = strip_html(repair_utf8(read_file(file)));
        t.example.label_name = label;
        t.split = split;
        r.examples.push_back(std::move(t));
      }
    }
  }
  return r;
}

ReadResult read_agnews(const DataSpec& spec) {
  ReadResult r;
  r.label_names = {"World", "Sports", "Business", "Sci/Tech"};
  for (const auto& [file, split] : split_files(spec.path, {"train.csv", "", "test.csv"}, "agnews")) {
    const auto rows = parse_csv(read_file(file), ',', file);
    for (const auto& row : rows) {
      const std::string where = file + ":" + std::to_string(row.line);
      if (row.fields.size() != 3)
        throw DataError("agnews: " + where + ": a row must have 3 fields (class, title, description), got " +
                        std::to_string(row.fields.size()));
      const std::string& c = row.fields[0];
      if (c.size() != 1 || c[0] < '1' || c[0] > '4') throw DataError("agnews: " + where + ": class must be 1..4, got '" + c + "'");
      TaggedExample t;
      t.example.source = where;
      std::string text = row.fields[1] + " . " + row.fields[2];
      std::replace(text.begin(), text.end(), '\\', ' ');
      t.example.text = text;
      t.example.label_name = r.label_names[c[0] - '1'];
      t.split = split;
      r.examples.push_back(std::move(t));
    }
  }
  return r;
}

ReadResult read_20ng(const DataSpec& spec) {
  ReadResult r;
  std::vector<std::string> groups;
  std::stringstream gs(spec.groups);
  std::string g;
  while (std::getline(gs, g, ','))
    if (!g.empty()) groups.push_back(g);
  if (groups.size() < 2) throw InvalidArgument("20ng: groups must name at least two newsgroups, got '" + spec.groups + "'");
  std::vector<std::pair<std::string, int>> roots;
  if (is_directory(join_path(spec.path, "20news-bydate-train"))) {
    roots = {{join_path(spec.path, "20news-bydate-train"), 0}, {join_path(spec.path, "20news-bydate-test"), 2}};
  } else {
    roots = {{spec.path, -1}};
  }
  for (const auto& [root, split] : roots) {
    for (const auto& group : groups) {
      const std::string dir = join_path(root, group);
      if (!is_directory(dir)) throw IoError("20ng: no folder for newsgroup '" + group + "' in " + root);
      for (const auto& file : list_files(dir, "")) {
        std::string text = repair_utf8(read_file(file));
        // Drop the message headers: everything up to the first blank line.
        const size_t blank = text.find("\n\n");
        if (blank != std::string::npos) text = text.substr(blank + 2);
        TaggedExample t;
        t.example.source = file;
        t.example.text = text;
        t.example.label_name = group;
        t.split = split;
        if (text.find_first_not_of(" \t\r\n") != std::string::npos) r.examples.push_back(std::move(t));
      }
    }
  }
  r.label_names = groups;
  return r;
}

ReadResult read_snli(const DataSpec& spec) {
  ReadResult r;
  r.pair = true;
  r.label_names = {"contradiction", "entailment", "neutral"};
  for (const auto& [file, split] :
       split_files(spec.path, {"snli_1.0_train.jsonl", "snli_1.0_dev.jsonl", "snli_1.0_test.jsonl"}, "snli")) {
    DataSpec s = spec;
    s.path = file;
    s.text = "sentence1";
    s.text_b = "sentence2";
    s.label = "gold_label";
    for (auto& t : read_jsonl(s).examples) {
      if (t.example.label_name == "-") continue;  // no annotator majority: dropped, as in the paper
      if (split >= 0) t.split = split;
      r.examples.push_back(std::move(t));
    }
  }
  return r;
}

ReadResult read_babi(const DataSpec& spec) {
  ReadResult r;
  r.pair = true;
  std::vector<std::pair<std::string, int>> files;
  if (is_directory(spec.path)) {
    const std::regex re("qa" + std::to_string(spec.task) + "_.*_(train|test)\\.txt$");
    for (const auto& f : list_files(spec.path, ".txt")) {
      std::smatch m;
      if (std::regex_search(f, m, re)) files.emplace_back(f, m[1] == "train" ? 0 : 2);
    }
    if (files.empty()) throw IoError("babi: " + spec.path + " has no qa" + std::to_string(spec.task) + "_*_{train,test}.txt");
  } else {
    files.emplace_back(spec.path, -1);
  }
  for (const auto& [file, split] : files) {
    std::istringstream in(read_file(file));
    std::string line;
    int64_t n = 0;
    std::vector<std::string> story;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const std::string where = file + ":" + std::to_string(n);
      const size_t sp = line.find(' ');
      if (sp == std::string::npos || sp == 0 || !std::all_of(line.begin(), line.begin() + sp, ::isdigit))
        throw DataError("babi: " + where + ": a line must start with its number");
      if (std::stoll(line.substr(0, sp)) == 1) story.clear();
      const std::string body = line.substr(sp + 1);
      const size_t tab = body.find('\t');
      if (tab == std::string::npos) {
        story.push_back(body);
        continue;
      }
      const size_t tab2 = body.find('\t', tab + 1);
      TaggedExample t;
      t.example.source = where;
      for (const auto& s : story) t.example.text += (t.example.text.empty() ? "" : " ") + s;
      if (t.example.text.empty()) throw DataError("babi: " + where + ": a question with no story before it");
      t.example.text_b = body.substr(0, tab);
      t.example.label_name = body.substr(tab + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab - 1);
      if (t.example.label_name.empty()) throw DataError("babi: " + where + ": question has no answer");
      t.split = split;
      r.examples.push_back(std::move(t));
    }
  }
  return r;
}

}  // namespace lumen::data
