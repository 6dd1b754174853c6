#include "data/csv.h"

#include "core/error.h"

namespace lumen::data {

std::vector<CsvRow> parse_csv(const std::string& text, char delimiter, const std::string& name) {
  std::vector<CsvRow> rows;
  size_t i = 0;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  int64_t line = 1;
  const size_t n = text.size();
  while (i < n) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool row_done = false;
    while (!row_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        const int64_t quote_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (!closed)
          throw DataError("csv: " + name + ":" + std::to_string(quote_line) + ": quoted field is never closed");
        if (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
          throw DataError("csv: " + name + ":" + std::to_string(line) + ": unexpected character after a closing quote");
      } else {
        while (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') field += text[i++];
      }
      row.fields.push_back(field);
      if (i >= n) {
        row_done = true;
      } else if (text[i] == delimiter) {
        ++i;
      } else {
        if (text[i] == '\r') ++i;
        if (i < n && text[i] == '\n') ++i;
        ++line;
        row_done = true;
      }
    }
    // Blank lines are skipped, not read as one empty field.
    if (row.fields.size() == 1 && row.fields[0].empty()) continue;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace lumen::data
