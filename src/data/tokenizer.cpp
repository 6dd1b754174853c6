#include "data/tokenizer.h"

#include "core/error.h"
#include "data/utf8.h"

namespace lumen::data {
namespace {
bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
         c == 0x3000 || (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF;
}
bool is_punct(char32_t c) {
  if (c < 0x80) return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
                       (c >= 0x7B && c <= 0x7E);
  return (c >= 0xA1 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA) || (c >= 0x2010 && c <= 0x205E) ||
         (c >= 0x3001 && c <= 0x303F) || c == 0xD7 || c == 0xF7;
}
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

// A number as a reader sees one: digits, "." or "," only between digits, then at most an
// ordinal or plural suffix.
bool is_number(const std::u32string& w) {
  size_t i = 0;
  while (i < w.size() && (is_digit(w[i]) || ((w[i] == '.' || w[i] == ',') && i > 0 && i + 1 < w.size() &&
                                              is_digit(w[i - 1]) && is_digit(w[i + 1]))))
    ++i;
  if (i == 0 || !is_digit(w[0])) return false;
  std::string rest;
  for (size_t k = i; k < w.size(); ++k) {
    const char32_t c = w[k] >= 'A' && w[k] <= 'Z' ? w[k] + 32 : w[k];
    if (c > 0x7F) return false;
    rest += static_cast<char>(c);
  }
  return rest.empty() || rest == "st" || rest == "nd" || rest == "rd" || rest == "th" || rest == "s";
}
char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  return c;
}
}  // namespace

NumberRule parse_number_rule(const std::string& s) {
  if (s == "numeric") return NumberRule::kNumeric;
  if (s == "any-digit") return NumberRule::kAnyDigit;
  if (s == "none") return NumberRule::kNone;
  throw InvalidArgument("tokenizer: numbers must be numeric, any-digit or none, got '" + s + "'");
}

std::string to_string(NumberRule r) {
  switch (r) {
    case NumberRule::kNumeric: return "numeric";
    case NumberRule::kAnyDigit: return "any-digit";
    case NumberRule::kNone: return "none";
  }
  return "numeric";
}

void TokenizerOptions::validate() const {
  if (max_length < 0) throw InvalidArgument("tokenizer: max_length must be >= 0, got " + std::to_string(max_length));
  if (numbers != NumberRule::kNone && number_token.empty())
    throw InvalidArgument("tokenizer: number_token must not be empty");
}

Json TokenizerOptions::to_json() const {
  return {{"lowercase", lowercase},
          {"numbers", to_string(numbers)},
          {"number_token", number_token},
          {"split_punctuation", split_punctuation},
          {"max_length", max_length}};
}

TokenizerOptions TokenizerOptions::from_json(const Json& j) {
  TokenizerOptions o;
  o.lowercase = j.value("lowercase", o.lowercase);
  if (j.contains("numbers")) o.numbers = parse_number_rule(j.at("numbers").get<std::string>());
  else o.numbers = j.value("fold_numbers", true) ? NumberRule::kAnyDigit : NumberRule::kNone;
  o.number_token = j.value("number_token", o.number_token);
  o.split_punctuation = j.value("split_punctuation", o.split_punctuation);
  o.max_length = j.value("max_length", o.max_length);
  o.validate();
  return o;
}

Tokenizer::Tokenizer(TokenizerOptions options) : options_(std::move(options)) { options_.validate(); }

TokenizeResult Tokenizer::tokenize(const std::string& text) const {
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string::npos) throw DataError("invalid UTF-8 at byte " + std::to_string(bad));
  const std::vector<char32_t> cps = decode_utf8(text);
  TokenizeResult result;
  std::u32string word;
  auto flush = [&]() {
    if (word.empty()) return;
    // A trailing apostrophe belongs to no word: "dogs'" -> "dogs", "'".
    std::u32string trailing;
    while (options_.split_punctuation && word.size() > 1 && word.back() == '\'') {
      trailing += word.back();
      word.pop_back();
    }
    bool has_digit = false;
    std::string s;
    for (char32_t c : word) {
      has_digit |= is_digit(c);
      append_utf8(s, options_.lowercase ? to_lower(c) : c);
    }
    const bool fold = has_digit && (options_.numbers == NumberRule::kAnyDigit ||
                                    (options_.numbers == NumberRule::kNumeric && is_number(word)));
    if (fold) result.folded.push_back(s);
    result.tokens.push_back(fold ? options_.number_token : s);
    for (char32_t c : trailing) result.tokens.push_back(std::string(1, static_cast<char>(c)));
    word.clear();
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (is_space(c)) {
      flush();
      continue;
    }
    if (options_.split_punctuation && is_punct(c)) {
      const bool next_word = i + 1 < cps.size() && !is_space(cps[i + 1]) && !is_punct(cps[i + 1]);
      // Keep "don't" and "3.5" / "1,000" whole: an apostrophe inside a word, a separator
      // between digits.
      if (c == '\'' && !word.empty() && next_word) {
        word += c;
        continue;
      }
      if ((c == '.' || c == ',') && !word.empty() && is_digit(word.back()) && i + 1 < cps.size() &&
          is_digit(cps[i + 1])) {
        word += c;
        continue;
      }
      flush();
      std::string p;
      append_utf8(p, c);
      result.tokens.push_back(p);
      continue;
    }
    word += c;
  }
  flush();
  if (options_.max_length > 0 && static_cast<int64_t>(result.tokens.size()) > options_.max_length) {
    result.tokens.resize(options_.max_length);
    result.truncated = true;
  }
  return result;
}

}  // namespace lumen::data
