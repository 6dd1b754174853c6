// JSON helpers shared by every layer (nlohmann::json is the one JSON form of results).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace lumen {

using Json = nlohmann::json;

// Parses a JSON document read from `path`; throws IoError / DataError naming the file.
Json read_json_file(const std::string& path);

// Writes `j` (pretty-printed) atomically.
void write_json_file(const std::string& path, const Json& j);

}  // namespace lumen
