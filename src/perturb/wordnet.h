// WordNet 3.0 (Princeton) read from its database files: Debian's wordnet-base installs them in
// /usr/share/wordnet. Synonyms (the other single-word lemmas of a word's synsets), antonyms
// (WordNet's lexical "!" pointers), and a word's possible parts of speech, with WordNet's own
// lemmatisation (morphy: the exception lists, then the detachment rules). Read-only after
// construction, so one instance serves every thread.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lumen::perturb {

// WordNet's parts of speech: noun, verb, adjective (satellites included), adverb.
enum class Pos : uint8_t { kNoun = 0, kVerb = 1, kAdjective = 2, kAdverb = 3 };
std::string to_string(Pos p);

struct Related {
  std::string word;
  Pos pos;
};

class WordNet {
 public:
  // Loads the index and data files of `dir`; throws IoError naming the directory and the Debian
  // package when they are missing, DataError for a malformed file.
  explicit WordNet(const std::string& dir = default_dir());
  // $LUMEN_WORDNET when set, else /usr/share/wordnet.
  static std::string default_dir();

  // Lemmas of `word` (lower case) that WordNet lists for part of speech `pos`.
  std::vector<std::string> lemmas(const std::string& word, Pos pos) const;
  // Parts of speech WordNet lists for `word` or one of its lemmas; bit (1 << pos) per part.
  uint8_t parts_of_speech(const std::string& word) const;
  // Single-word synonyms of `word` over every sense (nouns, verbs, adjectives, adverbs; within
  // each, WordNet's sense order, most frequent first), without the word itself, each once.
  std::vector<Related> synonyms(const std::string& word) const;
  // Single-word antonyms of `word` (lexical antonym pointers of its senses), each once.
  std::vector<Related> antonyms(const std::string& word) const;
  int64_t lemma_count() const { return static_cast<int64_t>(index_.size()); }

 private:
  struct Sense {
    Pos pos;
    int64_t offset;
  };
  // Synset words and the antonym pointers of word `k` (1-based) of the synset at `offset`.
  struct Synset {
    std::vector<std::string> words;
    std::vector<std::pair<int64_t, Sense>> antonyms;  // (source word, target synset) per pointer
    std::vector<int64_t> antonym_target_word;
  };
  Synset synset(const Sense& s) const;
  std::vector<std::pair<std::string, Sense>> senses(const std::string& word) const;

  std::string dir_;
  std::unordered_map<std::string, std::vector<Sense>> index_;  // key: lemma + '\t' + pos digit
  std::unordered_map<std::string, std::vector<std::string>> exceptions_[4];
  std::string data_[4];
};

}  // namespace lumen::perturb
