#include "app/instance.h"

#include "app/inputs.h"
#include "core/error.h"
#include "core/fs.h"

#include <algorithm>

namespace lumen::app {
std::string joined_tokens(const std::vector<std::string>& t) {
  std::string s;
  for (const auto& w : t) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::string influence_key(const std::vector<std::string>& tokens, const std::vector<std::string>& tokens_b) {
  return tokens_b.empty() ? joined_tokens(tokens) : joined_tokens(tokens) + "\t" + joined_tokens(tokens_b);
}

std::string influence_path(const models::Run& run) { return join_path(join_path(run.dir, "influence"), "influence.json"); }

Json find_influence(const models::Run& run, const std::string& text) {
  const std::string path = influence_path(run);
  if (!path_exists(path))
    return {{"found", false},
            {"hint", "no influence results for this run: lumen influence --run " + run.dir + " --out " + join_path(run.dir, "influence")}};
  const Json doc = read_json_file(path);
  const data::Example e = examples_from_texts(run, {text}, "influence").at(0);
  const std::string key = influence_key(e.tokens, e.tokens_b);
  for (const auto& t : doc.value("tests", Json::array()))
    if (t.value("text", std::string()) == key)
      return {{"found", true}, {"method", doc.value("method", std::string("influence"))}, {"test", t}};
  return {{"found", false},
          {"hint", "the influence results (" + path + ") do not cover this text; they cover " +
                       std::to_string(doc.value("tests", Json::array()).size()) + " test examples"}};
}

}  // namespace lumen::app
