#include "data/vocabulary_report.h"

#include <cstdio>
#include <unordered_map>

namespace lumen::data {
namespace {
constexpr double kMostShare = 0.5;     // "most" distinct words or occurrences
// Most distinct words lost counts only when they also carry a good part of the text: under
// Zipf's law most words are rare, and a minimum count (IMDB: 10 in the paper) maps most
// distinct words to <unk> while losing a few percent of the occurrences.
constexpr double kTypeShareTokens = 0.25;
constexpr double kSliverShare = 0.05;  // a vocabulary far smaller than the data suggests
constexpr int64_t kSmallVocabulary = 50;

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * x);
  return buf;
}
}  // namespace

double VocabularyReport::lost_type_share() const {
  return word_types ? static_cast<double>(folded_types + unknown_types) / word_types : 0.0;
}
double VocabularyReport::lost_token_share() const {
  return tokens ? static_cast<double>(folded_tokens + unknown_tokens) / tokens : 0.0;
}

bool VocabularyReport::collapsed() const {
  if (word_types == 0) return false;
  const int64_t kept = word_types - folded_types - unknown_types;
  return lost_token_share() > kMostShare ||
         (lost_type_share() > kMostShare && lost_token_share() > kTypeShareTokens) ||
         (kept < kSmallVocabulary && static_cast<double>(kept) < kSliverShare * word_types);
}

std::string VocabularyReport::warning() const {
  if (!collapsed()) return "";
  const int64_t kept = word_types - folded_types - unknown_types;
  std::string w = "warning: tokenisation collapses the training data: of " + std::to_string(word_types) +
                  " distinct words, " + std::to_string(folded_types) + " become " + number_token;
  if (numbers == NumberRule::kAnyDigit) w += " (--numbers any-digit folds every token that contains a digit)";
  if (unknown_types > 0)
    w += " and " + std::to_string(unknown_types) + " become <unk> (seen fewer than --min-count " +
         std::to_string(min_count) + " times)";
  w += ", " + percent(lost_token_share()) + " of the token occurrences; the vocabulary keeps " + std::to_string(kept) +
       " words (" + std::to_string(vocabulary) + " entries with the specials), and the model cannot tell the others "
       "apart.";
  if (folded_types > unknown_types) {
    w += numbers == NumberRule::kAnyDigit ? " Use --numbers numeric (the default: only numbers such as 42, 3.5, "
                                            "1,000) or --numbers none."
                                          : " Use --numbers none to keep numbers as they are.";
  } else {
    w += " Lower --min-count.";
  }
  return w;
}

Json VocabularyReport::to_json() const {
  return {{"word_types", word_types},
          {"folded_types", folded_types},
          {"unknown_types", unknown_types},
          {"tokens", tokens},
          {"folded_tokens", folded_tokens},
          {"unknown_tokens", unknown_tokens},
          {"vocabulary", vocabulary},
          {"min_count", min_count},
          {"numbers", to_string(numbers)},
          {"collapsed", collapsed()},
          {"warning", collapsed() ? Json(warning()) : Json(nullptr)}};
}

VocabularyReport vocabulary_report(const Dataset& ds, const TokenizeReport& tokenize, const Vocab& vocab,
                                   int64_t min_count, const TokenizerOptions& tokenizer) {
  VocabularyReport r;
  r.vocabulary = vocab.size();
  r.min_count = min_count;
  r.numbers = tokenizer.numbers;
  r.number_token = tokenizer.number_token;
  const bool folding = tokenizer.numbers != NumberRule::kNone;
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& e : ds.train) {
    for (const auto& t : e.tokens) ++counts[t];
    if (ds.pair)
      for (const auto& t : e.tokens_b) ++counts[t];
  }
  for (const auto& [token, n] : counts) {
    r.tokens += n;
    if (folding && token == tokenizer.number_token) {
      r.folded_tokens += n;
      continue;
    }
    ++r.word_types;
    if (vocab.id(token) == Vocab::kUnk) {
      ++r.unknown_types;
      r.unknown_tokens += n;
    }
  }
  r.folded_types = static_cast<int64_t>(tokenize.folded_train.size());
  r.word_types += r.folded_types;
  return r;
}

}  // namespace lumen::data
