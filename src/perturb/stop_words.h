// English stop words that word-swap attacks never modify (TextAttack's StopwordModification):
// articles, pronouns, prepositions, conjunctions, auxiliaries and the commonest adverbs.
#pragma once
#include <string>
#include <unordered_set>

namespace lumen::perturb {

const std::unordered_set<std::string>& english_stop_words();

// A token with no letter (punctuation, symbols, the number placeholder) is never a word to swap.
bool has_letter(const std::string& token);

}  // namespace lumen::perturb
