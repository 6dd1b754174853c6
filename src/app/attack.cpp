#include "app/attack.h"

#include <algorithm>
#include <ostream>

#include "app/inputs.h"
#include "app/predict.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/progress.h"
#include "report/attack_view.h"

namespace lumen::app {

PreparedAttack prepare_attack(const AttackRequest& q) {
  PreparedAttack p;
  attack::AttackOptions& a = p.options;
  a = attack::recipe_options(q.recipe);
  if (q.budget != -1) a.query_budget = q.budget;
  if (q.candidates != 0) a.candidates = q.candidates;
  if (!q.ranking.empty()) a.ranking = attack::parse_ranking(q.ranking);
  if (!q.search.empty()) a.search = attack::parse_search(q.search);
  if (q.beam_width != 0) a.beam_width = q.beam_width;
  if (q.population != 0) a.population = q.population;
  if (q.generations != 0) a.generations = q.generations;
  if (q.max_fluency >= 0) a.max_fluency_ratio = q.max_fluency;
  if (q.max_share >= 0) a.constraints.max_word_share = q.max_share;
  if (q.max_words >= 0) a.constraints.max_words = q.max_words;
  if (q.min_cosine >= 0) a.constraints.min_cosine = q.min_cosine;
  a.constraints.protected_words = split_list(q.protect);
  a.vectors = q.vectors;
  p.warning = attack::adapt_to_vectors(a, q.min_cosine >= 0);
  a.wordnet_dir = q.wordnet;
  a.max_length = q.max_length;
  a.batch = q.batch;
  a.seed = q.seed;
  a.evaluator.reuse = !q.plain;
  a.validate();
  return p;
}

bool has_editor(const models::Run& run) { return path_exists(join_path(join_path(run.dir, "editor"), "editor.pt")); }

AttackOutcome run_attack(const models::Run& run, const std::vector<data::Example>& examples, bool pair,
                         const PreparedAttack& prepared, const std::string& editor, const std::string& data,
                         const std::string& split, const std::function<void(int64_t)>& progress) {
  attack::AttackOptions a = prepared.options;
  if (attack::needs_editor(a)) a.editor_dir = editor.empty() ? join_path(run.dir, "editor") : editor;
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  AttackOutcome out;
  out.checked = attack::attack_and_verify(model, run.vocab, examples, a, pair, progress);
  out.summary = attack::summarize(out.checked.run, a);
  out.summary["verification"] = out.checked.check.to_json();
  out.summary["warnings"] = prepared.warning.empty() ? Json::array() : Json::array({prepared.warning});
  out.summary["run"] = run.dir;
  out.summary["data"] = data.empty() ? run.data_spec : data;
  out.summary["split"] = split;
  out.summary["label_names"] = run.label_names;
  out.records = Json::array();
  for (const auto& r : out.checked.run.results) out.records.push_back(r.to_json(run.label_names));
  return out;
}

std::string write_attack(const std::string& out, const AttackOutcome& o, bool report, const std::string& title) {
  make_dirs(out);
  write_atomic(join_path(out, "attacks.jsonl"), [&](std::ostream& os) {
    for (const auto& r : o.records) os << r.dump() << "\n";
  });
  write_file_atomic(join_path(out, "summary.json"), o.summary.dump(1) + "\n");
  std::string html;
  if (report) {
    html = join_path(out, "attacks.html");
    report::write_attack_view(html, o.summary, o.records, title);
  }
  const attack::VerifyReport& check = o.checked.check;
  if (!check.violations.empty())
    throw ModelError("attack: " + std::to_string(check.violations.size()) + " emitted examples fail the re-check (first: #" +
                     std::to_string(check.violations[0].index) + " " + check.violations[0].what + "); see " +
                     join_path(out, "summary.json"));
  return html;
}

std::vector<std::string> served_recipes(const models::Run& run) {
  std::vector<std::string> r = {"textfooler", "pwws", "deepwordbug", "hotflip"};
  if (has_editor(run)) r.insert(r.end(), {"bae", "bert-attack", "clare"});
  return r;
}

namespace {
// The request for a served recipe; InvalidArgument when the run cannot serve it.
AttackRequest served_request(const models::Run& run, const std::string& recipe, const std::string& what) {
  const std::vector<std::string> served = served_recipes(run);
  if (std::find(served.begin(), served.end(), recipe) == served.end()) {
    std::string names;
    for (const auto& s : served) names += (names.empty() ? "" : ", ") + s;
    const bool editor = attack::needs_editor(attack::recipe_options(recipe));  // throws for an unknown recipe
    throw InvalidArgument("attack: recipe '" + recipe + "' " +
                          (editor ? "needs the run's editor (lumen train-editor --run " + run.dir + ")" : "is not served") +
                          "; " + what + " run " + names);
  }
  AttackRequest q;
  q.recipe = recipe;
  return q;
}
}  // namespace

Json attack_text(const models::Run& run, const std::string& text, const std::string& recipe) {
  const PreparedAttack p = prepare_attack(served_request(run, recipe, "the explorer can"));
  std::vector<data::Example> examples = examples_from_texts(run, {text}, "attack");
  // The prediction is what is attacked.
  examples[0].label = predict(run, {text}).predictions[0].label_index;
  const AttackOutcome o = run_attack(run, examples, run.model_config.pair, p, "", "", "");
  Json out = {{"recipe", recipe}, {"result", o.records.at(0)}, {"verified", o.checked.check.to_json()}};
  if (!p.warning.empty()) out["warning"] = p.warning;
  return out;
}

Json attack_split(const models::Run& run, const std::string& split, int64_t limit, const std::string& recipe) {
  AttackRequest q = served_request(run, recipe, "jobs can");
  q.batch = 8;  // progress (and cancellation) every few examples
  const PreparedAttack p = prepare_attack(q);
  bool pair = false;
  const std::vector<data::Example> examples = split_examples(run, "run", split, limit, "attack", &pair);
  Progress bar("attack", static_cast<int64_t>(examples.size()), false);
  int64_t done = 0;
  const AttackOutcome o = run_attack(run, examples, pair, p, "", "run", split, [&](int64_t n) {
    if (n > done) bar.advance(n - done);
    done = std::max(done, n);
  });
  bar.finish();
  Json summary = o.summary;
  for (const char* k : {"run", "data", "split", "label_names", "warnings"}) summary.erase(k);
  Json out = {{"kind", "attack"}, {"recipe", recipe}, {"split", split}, {"summary", summary}, {"results", o.records}};
  if (!p.warning.empty()) out["warning"] = p.warning;
  return out;
}

}  // namespace lumen::app
