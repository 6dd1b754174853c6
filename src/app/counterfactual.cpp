#include "app/counterfactual.h"

#include <algorithm>
#include <ostream>

#include "app/attack.h"
#include "app/inputs.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/masked_lm.h"

namespace lumen::app {

CounterfactualOutcome counterfactuals(const models::Run& run, const std::vector<data::Example>& examples,
                                      const CounterfactualRequest& request) {
  attack::CounterfactualOptions c = request.options;
  c.validate();
  if (!request.target.empty()) {
    const auto it = std::find(run.label_names.begin(), run.label_names.end(), request.target);
    if (it == run.label_names.end()) {
      std::string names;
      for (const auto& n : run.label_names) names += (names.empty() ? "" : ", ") + n;
      throw InvalidArgument("counterfactual: --target '" + request.target + "' is not a label of this run (" + names + ")");
    }
    c.target = it - run.label_names.begin();
  }
  models::Editor editor =
      models::load_editor(request.editor.empty() ? join_path(run.dir, "editor") : request.editor, &run.vocab);
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  const auto results = attack::generate_counterfactuals(model, editor, run.vocab, examples, c);
  CounterfactualOutcome out;
  out.summary = attack::summarize_counterfactuals(model, run.vocab, results, examples, c);
  out.summary["run"] = run.dir;
  out.summary["editor"] = editor.dir;
  out.records = Json::array();
  for (const auto& r : results) out.records.push_back(r.to_json(run.label_names));
  if (out.summary["verification"]["violations"].get<int64_t>() > 0)
    throw ModelError("counterfactual: " + out.summary["verification"]["violations"].dump() +
                     " counterfactuals fail the re-check: " + out.summary["verification"]["details"][0].dump());
  return out;
}

void write_counterfactuals(const std::string& out, const CounterfactualOutcome& o) {
  make_dirs(out);
  write_atomic(join_path(out, "counterfactuals.jsonl"), [&](std::ostream& os) {
    for (const auto& r : o.records) os << r.dump() << "\n";
  });
  write_file_atomic(join_path(out, "summary.json"), o.summary.dump(1) + "\n");
}

Json counterfactual_text(const models::Run& run, const std::string& text, const CounterfactualRequest& request) {
  if (request.editor.empty() && !has_editor(run))
    return {{"available", false},
            {"hint", "this run has no editor for counterfactuals: lumen train-editor --run " + run.dir}};
  request.options.validate();
  const std::vector<data::Example> examples = examples_from_texts(run, {text}, "counterfactual");
  const CounterfactualOutcome o = counterfactuals(run, examples, request);
  return {{"available", true}, {"method", request.options.method}, {"result", o.records.at(0)},
          {"verification", o.summary["verification"]}};
}

}  // namespace lumen::app
