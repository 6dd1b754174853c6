#include "perturb/edit.h"

#include <algorithm>

#include "core/error.h"

namespace lumen::perturb {

std::string to_string(EditKind k) {
  switch (k) {
    case EditKind::kReplace: return "replace";
    case EditKind::kInsert: return "insert";
    case EditKind::kDelete: return "delete";
  }
  return "replace";
}

EditKind parse_edit_kind(const std::string& s) {
  if (s == "replace") return EditKind::kReplace;
  if (s == "insert") return EditKind::kInsert;
  if (s == "delete") return EditKind::kDelete;
  throw InvalidArgument("edit: kind must be replace, insert or delete; got '" + s + "'");
}

Json Edit::to_json() const {
  Json j{{"kind", perturb::to_string(kind)}, {"position", position}};
  if (text != 0) j["text"] = text;
  if (kind != EditKind::kDelete) j["token"] = token;
  if (!word.empty()) j["word"] = word;
  return j;
}

Edit Edit::from_json(const Json& j) {
  Edit e;
  e.kind = parse_edit_kind(j.at("kind").get<std::string>());
  e.position = j.at("position").get<int64_t>();
  e.text = j.value("text", 0);
  e.token = j.value("token", int64_t{-1});
  e.word = j.value("word", std::string());
  return e;
}

namespace {
// Edits of one text sorted by position, insertions before the token they precede.
std::vector<const Edit*> sorted_edits(const std::vector<Edit>& edits, int text) {
  std::vector<const Edit*> out;
  for (const auto& e : edits)
    if (e.text == text) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), [](const Edit* x, const Edit* y) {
    if (x->position != y->position) return x->position < y->position;
    return (x->kind == EditKind::kInsert) > (y->kind == EditKind::kInsert);
  });
  return out;
}

template <typename T, typename Value>
std::vector<T> apply_sorted(const std::vector<T>& items, const std::vector<const Edit*>& edits, const Value& value) {
  std::vector<T> out;
  out.reserve(items.size() + edits.size());
  size_t k = 0;
  for (int64_t p = 0; p <= static_cast<int64_t>(items.size()); ++p) {
    bool replaced = false;
    for (; k < edits.size() && edits[k]->position == p; ++k) {
      const Edit& e = *edits[k];
      if (e.kind == EditKind::kInsert) out.push_back(value(e));
      else if (e.kind == EditKind::kReplace) out.push_back(value(e)), replaced = true;
      else replaced = true;
    }
    if (p < static_cast<int64_t>(items.size()) && !replaced) out.push_back(items[p]);
  }
  return out;
}
}  // namespace

void check_edits(const std::vector<Edit>& edits, int64_t length_a, int64_t length_b) {
  for (int text = 0; text < 2; ++text) {
    const int64_t n = text == 0 ? length_a : length_b;
    const auto sorted = sorted_edits(edits, text);
    int64_t last_changed = -1;
    for (const Edit* e : sorted) {
      const std::string where = "edit " + e->to_json().dump();
      if (text == 1 && length_b < 0) throw InvalidArgument(where + ": the text has no second text");
      const int64_t limit = e->kind == EditKind::kInsert ? n : n - 1;
      if (e->position < 0 || e->position > limit)
        throw InvalidArgument(where + ": position outside the text's " + std::to_string(n) + " tokens");
      if (e->kind != EditKind::kDelete && e->token < 0) throw InvalidArgument(where + ": no token id");
      if (e->kind != EditKind::kInsert) {
        if (e->position == last_changed) throw InvalidArgument(where + ": a second replacement or deletion at this position");
        last_changed = e->position;
      }
    }
  }
}

std::vector<int64_t> apply_edits(const std::vector<int64_t>& ids, const std::vector<Edit>& edits, int text) {
  return apply_sorted(ids, sorted_edits(edits, text), [](const Edit& e) { return e.token; });
}

std::vector<std::string> apply_edits(const std::vector<std::string>& words, const std::vector<Edit>& edits,
                                     const std::vector<std::string>& vocabulary, int text) {
  return apply_sorted(words, sorted_edits(edits, text), [&](const Edit& e) {
    if (!e.word.empty()) return e.word;
    if (e.token < 0 || e.token >= static_cast<int64_t>(vocabulary.size()))
      throw InvalidArgument("edit: token id " + std::to_string(e.token) + " is not in the vocabulary");
    return vocabulary[e.token];
  });
}

Variant make_variant(int64_t row, const Text& original, const std::vector<Edit>& edits) {
  check_edits(edits, static_cast<int64_t>(original.a.size()), static_cast<int64_t>(original.b.size()));
  Variant v;
  v.row = row;
  v.a = apply_edits(original.a, edits, 0);
  v.b = apply_edits(original.b, edits, 1);
  return v;
}

std::vector<int64_t> touched_positions(const std::vector<Edit>& edits, int text) {
  std::vector<int64_t> out;
  for (const auto& e : edits)
    if (e.text == text) out.push_back(e.position);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lumen::perturb
