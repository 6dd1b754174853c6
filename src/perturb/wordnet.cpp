#include "perturb/wordnet.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace lumen::perturb {

namespace {
const char* kNames[4] = {"noun", "verb", "adj", "adv"};

// morphy's detachment rules (suffix -> ending) per part of speech.
const std::vector<std::pair<std::string, std::string>> kRules[4] = {
    {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}},
    {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
    {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
    {}};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string key(const std::string& lemma, Pos p) { return lemma + '\t' + static_cast<char>('0' + static_cast<int>(p)); }

bool single_word(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w)
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '-' || c == '\'')) return false;
  return true;
}
}  // namespace

std::string to_string(Pos p) {
  switch (p) {
    case Pos::kNoun: return "noun";
    case Pos::kVerb: return "verb";
    case Pos::kAdjective: return "adjective";
    case Pos::kAdverb: return "adverb";
  }
  return "noun";
}

std::string WordNet::default_dir() {
  const char* env = std::getenv("LUMEN_WORDNET");
  return env && *env ? env : "/usr/share/wordnet";
}

WordNet::WordNet(const std::string& dir) : dir_(dir) {
  for (int p = 0; p < 4; ++p) {
    const std::string index_path = dir + "/index." + kNames[p];
    std::ifstream in(index_path);
    if (!in)
      throw IoError("WordNet's database was not found: cannot read " + index_path +
                    " (Debian package wordnet-base, installed by scripts/install-deps.sh; or set LUMEN_WORDNET)");
    std::string line;
    int64_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (line.empty() || line[0] == ' ') continue;  // licence header
      std::istringstream ls(line);
      std::string lemma, pos;
      int64_t synsets = 0, pointers = 0, senses = 0, tagged = 0;
      ls >> lemma >> pos >> synsets >> pointers;
      std::string skip;
      for (int64_t i = 0; i < pointers; ++i) ls >> skip;
      ls >> senses >> tagged;
      if (!ls || synsets < 0) throw DataError(index_path + ":" + std::to_string(lineno) + ": malformed WordNet index line");
      auto& list = index_[key(lemma, static_cast<Pos>(p))];
      for (int64_t i = 0; i < synsets; ++i) {
        int64_t offset = 0;
        ls >> offset;
        if (!ls) throw DataError(index_path + ":" + std::to_string(lineno) + ": malformed WordNet index line");
        list.push_back({static_cast<Pos>(p), offset});
      }
    }
    data_[p] = read_file(dir + "/data." + kNames[p]);
    std::ifstream exc(dir + "/" + kNames[p] + ".exc");
    while (exc && std::getline(exc, line)) {
      std::istringstream ls(line);
      std::string inflected, base;
      ls >> inflected;
      while (ls >> base) exceptions_[p][inflected].push_back(base);
    }
  }
}

std::vector<std::string> WordNet::lemmas(const std::string& word, Pos pos) const {
  const int p = static_cast<int>(pos);
  std::vector<std::string> out;
  auto add = [&](const std::string& w) {
    if (index_.count(key(w, pos)) && std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  };
  add(word);
  auto it = exceptions_[p].find(word);
  if (it != exceptions_[p].end())
    for (const auto& b : it->second) add(b);
  for (const auto& [suffix, ending] : kRules[p])
    if (word.size() > suffix.size() && word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0)
      add(word.substr(0, word.size() - suffix.size()) + ending);
  return out;
}

uint8_t WordNet::parts_of_speech(const std::string& word) const {
  uint8_t bits = 0;
  for (int p = 0; p < 4; ++p)
    if (!lemmas(word, static_cast<Pos>(p)).empty()) bits |= static_cast<uint8_t>(1u << p);
  return bits;
}

std::vector<std::pair<std::string, WordNet::Sense>> WordNet::senses(const std::string& word) const {
  std::vector<std::pair<std::string, Sense>> out;
  for (int p = 0; p < 4; ++p)
    for (const auto& lemma : lemmas(word, static_cast<Pos>(p)))
      for (const Sense& s : index_.at(key(lemma, static_cast<Pos>(p)))) out.emplace_back(lemma, s);
  return out;
}

WordNet::Synset WordNet::synset(const Sense& s) const {
  const std::string& data = data_[static_cast<int>(s.pos)];
  if (s.offset < 0 || static_cast<size_t>(s.offset) >= data.size())
    throw DataError("WordNet: synset offset " + std::to_string(s.offset) + " outside data." + kNames[static_cast<int>(s.pos)]);
  const size_t end = data.find('\n', s.offset);
  std::istringstream ls(data.substr(s.offset, end == std::string::npos ? std::string::npos : end - s.offset));
  std::string offset, lex, type, hex;
  ls >> offset >> lex >> type >> hex;
  Synset out;
  const int64_t words = std::strtol(hex.c_str(), nullptr, 16);
  for (int64_t i = 0; i < words; ++i) {
    std::string w, lex_id;
    ls >> w >> lex_id;
    const size_t paren = w.find('(');  // adjective markers: "(a)", "(p)", "(ip)"
    if (paren != std::string::npos) w = w.substr(0, paren);
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.words.push_back(w);
  }
  int64_t pointers = 0;
  ls >> pointers;
  for (int64_t i = 0; i < pointers; ++i) {
    std::string symbol, target, pos, st;
    ls >> symbol >> target >> pos >> st;
    if (symbol != "!" || st.size() != 4) continue;
    const Pos tp = pos == "n" ? Pos::kNoun : pos == "v" ? Pos::kVerb : pos == "r" ? Pos::kAdverb : Pos::kAdjective;
    out.antonyms.push_back({std::strtol(st.substr(0, 2).c_str(), nullptr, 16), {tp, std::atoll(target.c_str())}});
    out.antonym_target_word.push_back(std::strtol(st.substr(2, 2).c_str(), nullptr, 16));
  }
  if (!ls) throw DataError("WordNet: malformed synset at offset " + std::to_string(s.offset));
  return out;
}

std::vector<Related> WordNet::synonyms(const std::string& word) const {
  std::vector<Related> out;
  std::set<std::string> seen{word};
  for (const auto& [lemma, s] : senses(word))
    for (const auto& w : synset(s).words)
      if (single_word(w) && seen.insert(w).second) out.push_back({w, s.pos});
  return out;
}

std::vector<Related> WordNet::antonyms(const std::string& word) const {
  std::vector<Related> out;
  std::set<std::string> seen{word};
  for (const auto& [lemma, s] : senses(word)) {
    const Synset syn = synset(s);
    const auto at = std::find(syn.words.begin(), syn.words.end(), lemma);
    const int64_t k = at == syn.words.end() ? -1 : 1 + (at - syn.words.begin());
    for (size_t i = 0; i < syn.antonyms.size(); ++i) {
      const auto& [source, target] = syn.antonyms[i];
      if (source != 0 && source != k) continue;
      const Synset t = synset(target);
      const int64_t tw = syn.antonym_target_word[i];
      for (int64_t j = 0; j < static_cast<int64_t>(t.words.size()); ++j)
        if ((tw == 0 || tw == j + 1) && single_word(t.words[j]) && seen.insert(t.words[j]).second)
          out.push_back({t.words[j], target.pos});
    }
  }
  return out;
}

}  // namespace lumen::perturb
