#include "data/augmentation.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/json.h"

namespace lumen::data {

std::vector<Example> read_augmentation(const std::string& path, const std::vector<std::string>& label_names) {
  std::ifstream in(path);
  if (!in) throw IoError("augment: cannot read " + path);
  std::vector<Example> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(lineno);
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception&) {
      throw DataError(where + ": not a JSON object (expected lines written by `lumen augment`)");
    }
    if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array() || !j.contains("label"))
      throw DataError(where + ": needs \"tokens\" (a list of words) and \"label\"");
    Example e;
    e.tokens = j["tokens"].get<std::vector<std::string>>();
    if (e.tokens.empty()) throw DataError(where + ": empty token list");
    if (j.contains("tokens_b")) e.tokens_b = j["tokens_b"].get<std::vector<std::string>>();
    e.label_name = j["label"].get<std::string>();
    const auto it = std::find(label_names.begin(), label_names.end(), e.label_name);
    if (it == label_names.end()) throw DataError(where + ": label '" + e.label_name + "' is not one of the data's labels");
    e.label = it - label_names.begin();
    e.text = j.value("text", std::string());
    e.source = where;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lumen::data
