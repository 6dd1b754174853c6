#include "app/analyze.h"

#include <algorithm>
#include <ostream>

#include "core/error.h"
#include "core/fs.h"
#include "report/analysis_report.h"
#include "train/train_run.h"

namespace lumen::app {

int64_t AnalysisInput::count(const analysis::AnalysisOptions& o) const {
  const int64_t n = static_cast<int64_t>(examples.size());
  return o.limit > 0 ? std::min<int64_t>(o.limit, n) : n;
}

void apply_only(analysis::AnalysisOptions& a, const std::vector<std::string>& only) {
  if (only.empty()) return;
  a.gradient = a.loo = a.permutation = a.adversarial = a.erasure = false;
  for (const auto& s : only) {
    if (s == "gradient") a.gradient = true;
    else if (s == "loo") a.loo = true;
    else if (s == "permutation") a.permutation = true;
    else if (s == "adversarial") a.adversarial = true;
    else if (s == "erasure") a.erasure = true;
    else throw InvalidArgument("analyze: --only takes gradient, loo, permutation, adversarial, erasure; got '" + s + "'");
  }
}

AnalysisInput analysis_input(const models::Run& run, const std::string& data, const std::string& split) {
  const data::Split s = data::parse_split(split);
  data::Dataset ds = train::load_dataset_for_run(run, data == "run" ? "" : data);
  AnalysisInput in;
  in.examples = ds.split(s);
  in.data_name = ds.name;
  in.pair = ds.pair;
  if (in.examples.empty()) throw DataError("analyze: the " + split + " split of " + ds.name + " is empty");
  return in;
}

Json AnalyzeResult::records_json(const models::Run& run) const {
  Json out = Json::array();
  for (const auto& r : result.records) out.push_back(r.to_json(run.label_names));
  return out;
}

AnalyzeResult analyze(const models::Run& run, const AnalysisInput& input, const AnalyzeRequest& request) {
  request.options.validate();
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  if (!request.out.empty()) make_dirs(request.out);  // before the work: a bad path fails at once
  AnalyzeResult out;
  out.result = analysis::analyze(model, input.examples, run.vocab, input.pair, request.options);
  out.summary = analysis::summarize(out.result.records, run.label_names, request.options);
  std::string name = request.name;
  if (name.empty()) {
    std::string d = run.dir;
    while (!d.empty() && d.back() == '/') d.pop_back();
    name = d.substr(d.find_last_of('/') == std::string::npos ? 0 : d.find_last_of('/') + 1);
  }
  out.summary["name"] = name;
  out.summary["run"] = run.dir;
  out.summary["data"] = input.data_name;
  out.summary["split"] = request.split;
  out.summary["model"] = run.config["model"];
  out.summary["label_names"] = run.label_names;
  out.summary["seconds"] = out.result.seconds.to_json();
  if (!request.out.empty()) {
    write_atomic(join_path(request.out, "records.jsonl"), [&](std::ostream& os) {
      for (const auto& r : out.result.records) os << r.to_json(run.label_names).dump() << "\n";
    });
    write_json_file(join_path(request.out, "summary.json"), out.summary);
    if (request.report) {
      out.report = join_path(request.out, "report.html");
      report::write_analysis_report(out.report, {report::AnalysisData::load(request.out)});
    }
  }
  return out;
}

}  // namespace lumen::app
