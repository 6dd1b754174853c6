#include "perturb/char_edits.h"

#include <algorithm>
#include <set>


namespace lumen::perturb {

namespace {
// Latin letters and their Cyrillic / Greek look-alikes (lower case).
const std::pair<char, const char*> kHomoglyphs[] = {{'a', "\xD0\xB0"}, {'c', "\xD1\x81"}, {'e', "\xD0\xB5"},
                                                    {'i', "\xD1\x96"}, {'j', "\xD1\x98"}, {'o', "\xD0\xBE"},
                                                    {'p', "\xD1\x80"}, {'s', "\xD1\x95"}, {'x', "\xD1\x85"},
                                                    {'y', "\xD1\x83"}, {'v', "\xCE\xBD"}};

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}
}  // namespace

std::string to_string(CharEdit e) {
  switch (e) {
    case CharEdit::kSwap: return "swap";
    case CharEdit::kDelete: return "delete";
    case CharEdit::kInsert: return "insert";
    case CharEdit::kSubstitute: return "substitute";
    case CharEdit::kHomoglyph: return "homoglyph";
  }
  return "swap";
}

std::vector<CharCandidate> char_candidates(const std::string& word, const std::vector<CharEdit>& kinds, int64_t per_kind,
                                           Rng& rng) {
  std::vector<CharCandidate> out;
  const int64_t n = static_cast<int64_t>(word.size());
  int64_t letters = 0;
  for (char c : word) letters += ascii_letter(c);
  if (n < 3 || letters < 3 || letters != n) return out;  // short words, words with digits or symbols
  std::set<std::string> seen{word};
  auto letter = [&] { return static_cast<char>('a' + rng.uniform_int(26)); };
  for (CharEdit kind : kinds) {
    int64_t made = 0;
    for (int attempt = 0; attempt < 4 * per_kind && made < per_kind; ++attempt) {
      std::string w = word;
      // Inner positions 1 .. n-2 (first and last letters kept, as DeepWordBug does).
      const int64_t i = 1 + static_cast<int64_t>(rng.uniform_int(n - 2));
      switch (kind) {
        case CharEdit::kSwap: {  // two neighbouring inner letters
          if (n < 4) break;
          const int64_t j = 1 + static_cast<int64_t>(rng.uniform_int(n - 3));
          std::swap(w[j], w[j + 1]);
          break;
        }
        case CharEdit::kDelete: w.erase(i, 1); break;
        case CharEdit::kInsert: w.insert(w.begin() + i, letter()); break;
        case CharEdit::kSubstitute: w[i] = letter(); break;
        case CharEdit::kHomoglyph: {
          std::vector<int64_t> at;
          for (int64_t j = 0; j < n; ++j)
            for (const auto& [c, g] : kHomoglyphs)
              if (w[j] == c) at.push_back(j);
          if (at.empty()) break;
          const int64_t j = at[rng.uniform_int(at.size())];
          for (const auto& [c, g] : kHomoglyphs)
            if (w[j] == c) {
              w = w.substr(0, j) + g + w.substr(j + 1);
              break;
            }
          break;
        }
      }
      if (seen.insert(w).second) {
        out.push_back({w, kind});
        ++made;
      }
    }
  }
  return out;
}

int64_t char_distance(const std::string& a, const std::string& b) {
  const auto x = code_points(a), y = code_points(b);
  std::vector<int64_t> prev(y.size() + 1), cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) prev[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= y.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

}  // namespace lumen::perturb
