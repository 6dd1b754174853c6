#include "app/instance.h"

#include "app/inputs.h"
#include "app/predict.h"
#include "attack/attack.h"
#include "attack/verify.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"

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

Json attack_text(const models::Run& run, const std::string& text, const std::string& recipe) {
  attack::AttackOptions a = attack::recipe_options(recipe);
  if (attack::needs_editor(a))
    throw InvalidArgument("attack: recipe '" + recipe + "' needs the editor; the explorer runs textfooler, pwws, deepwordbug or hotflip");
  const std::string warning = attack::adapt_to_vectors(a, false);
  a.validate();
  std::vector<data::Example> examples = examples_from_texts(run, {text}, "attack");
  // The prediction is what is attacked.
  examples[0].label = predict(run, {text}).predictions[0].label_index;
  models::TextClassifier model = run.model;  // the lease's replica (a holder shares it)
  const attack::CheckedAttack checked = attack::attack_and_verify(model, run.vocab, examples, a, run.model_config.pair);
  Json out = {{"recipe", recipe},
              {"result", checked.run.results.at(0).to_json(run.label_names)},
              {"verified", checked.check.to_json()}};
  if (!warning.empty()) out["warning"] = warning;
  return out;
}

Json attack_split(const models::Run& run, const std::string& split, int64_t limit, const std::string& recipe) {
  attack::AttackOptions a = attack::recipe_options(recipe);
  if (attack::needs_editor(a))
    throw InvalidArgument("attack: recipe '" + recipe + "' needs the editor; jobs run textfooler, pwws, deepwordbug or hotflip");
  const std::string warning = attack::adapt_to_vectors(a, false);
  a.batch = 8;  // progress (and cancellation) every few examples
  a.validate();
  bool pair = false;
  const std::vector<data::Example> examples = split_examples(run, "run", split, limit, "attack", &pair);
  Progress bar("attack", static_cast<int64_t>(examples.size()), false);
  int64_t done = 0;
  models::TextClassifier model = run.model;
  const attack::CheckedAttack checked = attack::attack_and_verify(model, run.vocab, examples, a, pair, [&](int64_t n) {
    if (n > done) bar.advance(n - done);
    done = std::max(done, n);
  });
  bar.finish();
  Json results = Json::array();
  for (const auto& r : checked.run.results) results.push_back(r.to_json(run.label_names));
  Json summary = attack::summarize(checked.run, a);
  summary["verification"] = checked.check.to_json();
  Json out = {{"kind", "attack"}, {"recipe", recipe}, {"split", split}, {"summary", summary}, {"results", results}};
  if (!warning.empty()) out["warning"] = warning;
  return out;
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
