// CSV/TSV and JSONL readers (single texts and pairs), with column or field choice by name.
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "data/csv.h"
#include "data/readers.h"

namespace lumen::data {

int split_of(const std::string& name, const std::string& where) {
  if (name.empty()) return -1;
  try {
    return static_cast<int>(parse_split(name));
  } catch (const InvalidArgument&) {
    throw DataError("data: " + where + ": split must be train, dev or test, got '" + name + "'");
  }
}

ReadResult read_csv(const DataSpec& spec, char delimiter) {
  const std::string text = read_file(spec.path);
  const auto rows = parse_csv(text, delimiter, spec.path);
  if (rows.empty()) throw DataError("csv: " + spec.path + " is empty (a header row is required)");
  const auto& header = rows[0].fields;
  auto column = [&](const std::string& name, bool required) -> int {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    if (!required) return -1;
    std::string have;
    for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
    throw DataError("csv: " + spec.path + ": no column named '" + name + "' (columns: " + have + ")");
  };
  const int c_text = column(spec.text, true);
  const int c_text_b = spec.text_b.empty() ? -1 : column(spec.text_b, true);
  const int c_label = column(spec.label, true);
  const int c_split = column(spec.split_column, false);
  ReadResult r;
  r.pair = c_text_b >= 0;
  for (size_t k = 1; k < rows.size(); ++k) {
    const auto& row = rows[k];
    const std::string where = spec.path + ":" + std::to_string(row.line);
    if (row.fields.size() != header.size())
      throw DataError("csv: " + where + ": row has " + std::to_string(row.fields.size()) + " fields, the header has " +
                      std::to_string(header.size()));
    TaggedExample t;
    t.example.source = where;
    t.example.text = row.fields[c_text];
    if (r.pair) t.example.text_b = row.fields[c_text_b];
    t.example.label_name = row.fields[c_label];
    if (t.example.label_name.empty()) throw DataError("csv: " + where + ": row has no label");
    if (c_split >= 0) t.split = split_of(row.fields[c_split], where);
    r.examples.push_back(std::move(t));
  }
  return r;
}

namespace {
std::string json_scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}
}  // namespace

namespace {
// A rationale field: a list of token indices, or a list of [start, end) character spans.
void read_rationale(const Json& v, const std::string& where, Example& e) {
  const std::string expected = "jsonl: " + where + ": the rationale must be a list of token indices or of [start, end] character spans";
  if (!v.is_array()) throw DataError(expected);
  for (const auto& x : v) {
    if (x.is_number_integer()) {
      if (!e.rationale_spans.empty()) throw DataError(expected + " (not both)");
      e.rationale.push_back(x.get<int64_t>());
    } else if (x.is_array() && x.size() == 2 && x[0].is_number_integer() && x[1].is_number_integer()) {
      if (!e.rationale.empty()) throw DataError(expected + " (not both)");
      e.rationale_spans.emplace_back(x[0].get<int64_t>(), x[1].get<int64_t>());
    } else {
      throw DataError(expected + ", got " + x.dump());
    }
  }
  for (int64_t t : e.rationale)
    if (t < 0) throw DataError("jsonl: " + where + ": rationale token index " + std::to_string(t) + " is negative");
}
}  // namespace

ReadResult read_jsonl(const DataSpec& spec) {
  std::istringstream in(read_file(spec.path));
  ReadResult r;
  r.pair = !spec.text_b.empty();
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = spec.path + ":" + std::to_string(n);
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw DataError("jsonl: " + where + ": not valid JSON (column " + std::to_string(e.byte) + ")");
    }
    if (!j.is_object()) throw DataError("jsonl: " + where + ": each line must be a JSON object");
    auto field = [&](const std::string& name) -> std::string {
      if (!j.contains(name)) throw DataError("jsonl: " + where + ": no field named '" + name + "'");
      return json_scalar(j[name]);
    };
    TaggedExample t;
    t.example.source = where;
    t.example.text = field(spec.text);
    if (r.pair) t.example.text_b = field(spec.text_b);
    if (!j.contains(spec.label) || j[spec.label].is_null()) throw DataError("jsonl: " + where + ": row has no label");
    t.example.label_name = json_scalar(j[spec.label]);
    if (t.example.label_name.empty()) throw DataError("jsonl: " + where + ": row has no label");
    if (j.contains(spec.split_column)) t.split = split_of(json_scalar(j[spec.split_column]), where);
    if (!spec.rationale.empty() && j.contains(spec.rationale) && !j[spec.rationale].is_null())
      read_rationale(j[spec.rationale], where, t.example);
    r.examples.push_back(std::move(t));
  }
  if (r.examples.empty()) throw DataError("jsonl: " + spec.path + " is empty");
  return r;
}

}  // namespace lumen::data
