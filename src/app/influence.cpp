#include "app/influence.h"

#include <algorithm>
#include <filesystem>

#include "app/inputs.h"
#include "core/error.h"
#include "core/fs.h"
#include "influence/check.h"
#include "influence/document.h"
#include "report/influence_view.h"
#include "train/train_run.h"
#include "train/trainer.h"

namespace lumen::app {

void InfluenceRequest::validate() const {
  if (explain != "auto" && explain != "gold" && explain != "predicted")
    throw InvalidArgument("influence: --explain must be auto, gold or predicted");
  options.validate();
  if (!texts.empty() && !test_data.empty()) throw InvalidArgument("influence: give --test texts or --test-data, not both");
  if (resume && out.empty()) throw InvalidArgument("influence: --resume needs --out");
}

InfluenceOutcome run_influence(const models::Run& run, const InfluenceRequest& q) {
  q.validate();
  auto note = [&](const std::string& m, bool warning) {
    if (q.note) q.note(m, warning);
  };
  if (run.config.contains("augment"))
    note("influence: this run was trained with --augment; its augmented examples are not part of the training set scored here", true);
  // The training set exactly as the run was trained on it (same rows, same order).
  data::Dataset ds = train::load_dataset_for_run(run, "");
  const data::EncodedSet train_set = data::EncodedSet::from(ds.train, run.vocab, ds.pair);
  const data::EncodedSet dev_set = ds.dev.empty() ? data::EncodedSet{} : data::EncodedSet::from(ds.dev, run.vocab, ds.pair);
  std::vector<data::Example> test;
  if (!q.test_data.empty()) test = split_examples(run, q.test_data, q.split, q.limit, "influence");
  else if (!q.texts.empty()) test = examples_from_texts(run, q.texts, "influence");
  for (size_t i = 0; i < test.size(); ++i) {
    bool known = false;
    for (const auto& tok : test[i].tokens) known |= run.vocab.id(tok) != data::Vocab::kUnk;
    for (const auto& tok : test[i].tokens_b) known |= run.vocab.id(tok) != data::Vocab::kUnk;
    if (!known)
      throw DataError("influence: test example " + std::to_string(i + 1) +
                      " has only words the run's vocabulary does not know; its prediction rests on <unk> alone");
  }
  const data::EncodedSet test_set = test.empty() ? data::EncodedSet{} : data::EncodedSet::from(test, run.vocab, ds.pair);
  influence::InfluenceInputs in;
  in.model = run.model;
  in.config = run.model_config;
  in.train = &train_set;
  in.test = &test_set;
  in.dev = &dev_set;
  in.loss = influence::training_loss_of(run, train_set);
  in.checkpoints = models::list_checkpoints(run);
  in.run = &run;
  in.cache_dir = join_path(run.dir, "influence");  // EK-FAC / K-FAC factors, computed once
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  const auto probs = test.empty() ? std::vector<std::vector<double>>{} : train::predict_proba(model, test_set);
  for (int64_t i = 0; i < test_set.size(); ++i) {
    const int64_t predicted = std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin();
    const bool gold_known = test_set.labels[i] >= 0 && !q.test_data.empty();
    if (q.explain == "gold" && !gold_known) throw InvalidArgument("influence: --explain gold needs labelled --test-data");
    in.test_labels.push_back(q.explain == "predicted" || !gold_known ? predicted : test_set.labels[i]);
  }
  in.progress = q.progress;
  // The request: what must match for --resume to reuse a finished result.
  Json request{{"run", run.dir}, {"options", q.options.to_json()}, {"explain", q.explain}, {"test_labels", in.test_labels}};
  {
    Json texts = Json::array();
    for (const auto& e : test) texts.push_back(e.tokens);
    request["tests"] = texts;
  }
  InfluenceOutcome out;
  for (const auto& e : ds.train) out.train_labels.push_back(e.label);
  const std::string json_path = q.out.empty() ? "" : join_path(q.out, "influence.json");
  if (q.resume && path_exists(json_path)) {
    Json done = read_json_file(json_path);
    if (done.contains("request") && done["request"] == request) {
      note("influence: " + json_path + " holds this request already; not recomputed", false);
      out.doc = std::move(done);
      out.reused = true;
      return out;
    }
    note("influence: " + json_path + " holds another request; recomputing", false);
  }
  // Partial results of long methods go to OUT/partial as they finish; a new request without
  // --resume starts from nothing, and a finished one leaves none behind.
  const std::string partial_dir = q.out.empty() ? "" : join_path(q.out, "partial");
  if (!partial_dir.empty() && !q.resume) std::filesystem::remove_all(partial_dir);
  in.partial = influence::PartialStore(partial_dir, request);
  out.result = influence::compute_influence(in, q.options);
  if (in.partial.reused() > 0)
    note("influence: " + std::to_string(in.partial.reused()) + " finished parts reused from " + partial_dir, false);
  out.doc = influence::influence_document(out.result, ds.train, test, run.label_names);
  out.doc["run"] = run.dir;
  out.doc["request"] = request;
  if (!q.out.empty()) {
    make_dirs(q.out);
    write_file_atomic(json_path, out.doc.dump(1) + "\n");
    report::write_influence_view(join_path(q.out, "influence.html"), out.doc, "Influence (" + out.result.method + "): " + run.dir);
    std::filesystem::remove_all(partial_dir);
    note("wrote " + json_path + " and influence.html", false);
  }
  const Json& d = out.result.diagnostics;
  out.converged = !d.contains("converged") || d["converged"].get<bool>();
  if (!out.converged) out.diagnosis = d.value("diagnosis", std::string("the solver did not converge"));
  return out;
}

}  // namespace lumen::app
