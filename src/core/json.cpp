#include "core/json.h"

#include "core/error.h"
#include "core/fs.h"

namespace lumen {

Json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw DataError("json: " + path + " is not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
}

void write_json_file(const std::string& path, const Json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

}  // namespace lumen
