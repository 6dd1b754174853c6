// RFC 4180 CSV/TSV parsing: quoted fields with "" escapes and embedded newlines, CRLF or LF
// line ends, a UTF-8 byte-order mark. Ragged rows are DataErrors with their line number.
#pragma once
#include <string>
#include <vector>

namespace lumen::data {

struct CsvRow {
  std::vector<std::string> fields;
  // 1-based line on which the row starts (rows with embedded newlines span several lines).
  int64_t line = 0;
};

// Parses the whole text. `name` labels errors ("reviews.csv:12: ...").
std::vector<CsvRow> parse_csv(const std::string& text, char delimiter, const std::string& name);

}  // namespace lumen::data
