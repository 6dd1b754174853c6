// Edits as data: a variant of a text is its original plus a list of replacements, insertions and
// deletions at token positions. Every method that asks the model about an edited text builds
// Variants (the full token ids of each edited text) and hands them to the variant evaluator.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace lumen::perturb {

// The real token ids of a text and, for pairs, of its second text (no <s>, </s>, padding).
struct Text {
  std::vector<int64_t> a, b;
};

// An edited text of original `row`: its full token ids.
struct Variant {
  int64_t row = 0;
  std::vector<int64_t> a, b;
};

enum class EditKind { kReplace, kInsert, kDelete };
std::string to_string(EditKind k);
// replace | insert | delete. Throws InvalidArgument.
EditKind parse_edit_kind(const std::string& s);

struct Edit {
  EditKind kind = EditKind::kReplace;
  // 0 = the first text, 1 = the second text of a pair.
  int text = 0;
  // Position in the original text's real tokens: the token replaced or deleted; an insertion
  // goes before this token (position = length appends).
  int64_t position = 0;
  // The new token id (replace, insert); -1 for deletions.
  int64_t token = -1;
  // The new word as written (may differ from the vocabulary's token: a character edit that the
  // vocabulary maps to <unk>); empty = the vocabulary's token.
  std::string word;
  Json to_json() const;
  static Edit from_json(const Json& j);
};

// The edits of one text are consistent: positions in range, at most one replacement or deletion
// per position, sorted by (position, kind: insertions before the token they precede). Throws
// InvalidArgument naming the edit.
void check_edits(const std::vector<Edit>& edits, int64_t length_a, int64_t length_b);

// `ids` with the edits of text `text` applied (edits in any order; they refer to original positions).
std::vector<int64_t> apply_edits(const std::vector<int64_t>& ids, const std::vector<Edit>& edits, int text = 0);
// The same for words (a replaced or inserted word is Edit::word when set, else `token_word(token)`).
std::vector<std::string> apply_edits(const std::vector<std::string>& words, const std::vector<Edit>& edits,
                                     const std::vector<std::string>& vocabulary, int text = 0);

// The variant of original `row` that `edits` make.
Variant make_variant(int64_t row, const Text& original, const std::vector<Edit>& edits);

// Original positions of text `text` that the edits name (a replaced or deleted token, the token
// an insertion precedes; `length` for an appended token), sorted, unique.
std::vector<int64_t> touched_positions(const std::vector<Edit>& edits, int text = 0);

}  // namespace lumen::perturb
