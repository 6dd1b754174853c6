#include "perturb/stop_words.h"

#include <cctype>

namespace lumen::perturb {

const std::unordered_set<std::string>& english_stop_words() {
  static const std::unordered_set<std::string> words = {
      "a", "about", "above", "after", "again", "against", "all", "almost", "also", "although", "always", "am",
      "among", "an", "and", "another", "any", "anyone", "anything", "are", "around", "as", "at", "be", "became",
      "because", "been", "before", "being", "below", "beside", "besides", "between", "beyond", "both", "but", "by",
      "can", "cannot", "could", "did", "do", "does", "doing", "done", "down", "during", "each", "either", "else",
      "enough", "even", "ever", "every", "for", "from", "further", "had", "has", "have", "having", "he", "her",
      "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is", "it",
      "its", "itself", "just", "may", "me", "might", "mine", "more", "most", "much", "must", "my", "myself",
      "neither", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "onto", "or", "other",
      "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "per", "rather", "same", "shall",
      "she", "should", "since", "so", "some", "somehow", "someone", "something", "such", "than", "that", "the",
      "their", "theirs", "them", "themselves", "then", "there", "thereby", "therefore", "these", "they", "this",
      "those", "though", "through", "thus", "to", "too", "toward", "towards", "under", "until", "up", "upon", "us",
      "very", "via", "was", "we", "were", "what", "whatever", "when", "whenever", "where", "whereas", "wherever",
      "whether", "which", "while", "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within",
      "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves", "'s", "'re", "'ll", "'ve", "'d",
      "n't", "'m"};
  return words;
}

bool has_letter(const std::string& token) {
  if (token.size() >= 2 && token.front() == '<' && token.back() == '>') return false;  // <num>, <unk>, specials
  for (unsigned char c : token)
    if (std::isalpha(c) || c >= 0x80) return true;
  return false;
}

}  // namespace lumen::perturb
