// Vocabulary built from the training split with a minimum count. Fixed specials: <pad> = 0,
// <unk> = 1, <s> = 2, </s> = 3 (the paper wraps each sequence in start/end tokens).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lumen::data {

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;
  Vocab();
  // Builds from token lists; tokens seen fewer than `min_count` times map to <unk>. Order:
  // specials, then by descending count, ties alphabetical (deterministic).
  static Vocab build(const std::vector<const std::vector<std::string>*>& texts, int64_t min_count);
  // One token per line, in id order. Throws IoError / ModelError (bad specials).
  static Vocab load(const std::string& path);
  void save(const std::string& path) const;

  int64_t id(const std::string& token) const;
  const std::string& token(int64_t id) const;
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  // Ids of `tokens`, unknown ones as <unk>.
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  void add(const std::string& token);
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace lumen::data
