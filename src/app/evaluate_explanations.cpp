#include "app/evaluate_explanations.h"

#include <algorithm>

#include "analysis/explanation_evaluation.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "explain/explainer.h"
#include "report/evaluation_report.h"
#include "train/train_run.h"

namespace lumen::app {

ExplanationEvaluationInput explanation_evaluation_input(const models::Run& run, const std::string& data,
                                                        const std::string& split, int64_t limit) {
  ExplanationEvaluationInput in;
  in.dataset = train::load_dataset_for_run(run, data == "run" ? "" : data);
  const auto& all = in.dataset.split(data::parse_split(split));
  if (all.empty())
    throw DataError("evaluate-explanations: the " + split + " split of " + in.dataset.name + " is empty");
  const size_t n = limit > 0 ? std::min<size_t>(all.size(), limit) : all.size();
  in.examples.assign(all.begin(), all.begin() + n);
  return in;
}

Json evaluate_explanations(const models::Run& run, const ExplanationEvaluationInput& input,
                           const EvaluateExplanationsRequest& request) {
  std::vector<analysis::NamedExplainer> methods;
  for (const auto& name : explain::parse_methods(request.methods, run.model))
    methods.push_back({name, std::shared_ptr<const explain::Explainer>(explain::make_explainer(name))});
  analysis::EvaluationOptions eo;
  eo.explain = request.explain;
  eo.sanity = request.sanity;
  eo.batch_size = request.batch_size;
  eo.permuted_epochs = request.permuted_epochs;
  eo.progress = request.progress;
  const data::Dataset& ds = input.dataset;
  data::EncodedSet ptrain, pdev;
  if (eo.sanity && request.permuted && !ds.train.empty()) {
    ptrain = data::EncodedSet::from(ds.train, run.vocab, run.model_config.pair);
    pdev = data::EncodedSet::from(ds.dev.empty() ? ds.train : ds.dev, run.vocab, run.model_config.pair);
    Rng rng(eo.seed + 17);
    rng.shuffle(ptrain.labels);
    eo.permuted_train = &ptrain;
    eo.permuted_dev = &pdev;
  }
  if (!request.out.empty()) make_dirs(request.out);  // before the work: a bad path fails at once
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  Json result = analysis::evaluate_explanations(model, input.examples, run.vocab, methods, eo);
  result["run"] = run.dir;
  result["data"] = ds.name;
  result["split"] = request.split;
  if (!request.out.empty()) {
    write_file_atomic(join_path(request.out, "evaluation.json"), result.dump(1) + "\n");
    report::write_evaluation_report(join_path(request.out, "evaluation.html"), result, "Which explanation to believe? " + run.dir);
  }
  return result;
}

}  // namespace lumen::app
