#include "data/vocab.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"

namespace lumen::data {
namespace {
const char* kSpecials[] = {"<pad>", "<unk>", "<s>", "</s>"};
}

Vocab::Vocab() {
  for (const char* s : kSpecials) add(s);
}

void Vocab::add(const std::string& token) {
  index_.emplace(token, static_cast<int64_t>(tokens_.size()));
  tokens_.push_back(token);
}

Vocab Vocab::build(const std::vector<const std::vector<std::string>*>& texts, int64_t min_count) {
  if (min_count < 1) throw InvalidArgument("vocab: min_count must be >= 1, got " + std::to_string(min_count));
  std::unordered_map<std::string, int64_t> counts;
  for (const auto* t : texts)
    for (const auto& tok : *t) ++counts[tok];
  std::vector<std::pair<std::string, int64_t>> items;
  for (auto& kv : counts)
    if (kv.second >= min_count) items.emplace_back(kv.first, kv.second);
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v;
  for (auto& kv : items)
    if (!v.index_.count(kv.first)) v.add(kv.first);
  return v;
}

Vocab Vocab::load(const std::string& path) {
  std::istringstream in(read_file(path));
  Vocab v;
  v.tokens_.clear();
  v.index_.clear();
  std::string line;
  while (std::getline(in, line)) v.add(line);
  for (int i = 0; i < 4; ++i)
    if (v.size() <= i || v.tokens_[i] != kSpecials[i])
      throw ModelError("vocab: " + path + " does not start with the special tokens <pad> <unk> <s> </s>");
  return v;
}

void Vocab::save(const std::string& path) const {
  std::string out;
  for (const auto& t : tokens_) out += t + "\n";
  write_file_atomic(path, out);
}

int64_t Vocab::id(const std::string& token) const {
  auto it = index_.find(token);
  return it == index_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size()) throw InvalidArgument("vocab: id must be in [0, " + std::to_string(size()) + "), got " + std::to_string(id));
  return tokens_[id];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(id(t));
  return ids;
}

}  // namespace lumen::data
