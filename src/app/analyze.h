// The "Attention is not Explanation" analysis of a run's data split as a job (`lumen analyze`,
// the server's `analyze` jobs): the split loaded as the run was trained, analysis::analyze,
// its summary, and (when asked) RUN/analysis's records.jsonl, summary.json and report.html.
#pragma once
#include <string>
#include <vector>

#include "analysis/jain_wallace.h"
#include "core/json.h"
#include "models/checkpoint.h"

namespace lumen::app {

// The instances an analysis reads: a split of a data spec (empty: the run's own data).
struct AnalysisInput {
  std::vector<data::Example> examples;  // the whole split (options.limit chooses the first N)
  std::string data_name;                // the dataset's name
  bool pair = false;
  // How many instances the analysis will read (options.limit applied).
  int64_t count(const analysis::AnalysisOptions& o) const;
};

// Loads the split; DataError naming the split and the data when it is empty.
AnalysisInput analysis_input(const models::Run& run, const std::string& data, const std::string& split);

// Keeps only the named analyses (gradient, loo, permutation, adversarial, erasure) when `only` is not
// empty; InvalidArgument for another name.
void apply_only(analysis::AnalysisOptions& options, const std::vector<std::string>& only);

struct AnalyzeRequest {
  std::string split = "test";
  analysis::AnalysisOptions options;
  // The model's name in the summary and the report (empty: the run directory's last part).
  std::string name;
  // Write records.jsonl, summary.json (and report.html unless `report` is false) here; empty
  // writes nothing.
  std::string out;
  bool report = true;
};

struct AnalyzeResult {
  analysis::AnalysisResult result;
  Json summary;      // analysis::summarize with name, run, data, split, model, labels, seconds
  std::string report;  // the report written ("" when none)
  // The records as records.jsonl holds them, one JSON object each.
  Json records_json(const models::Run& run) const;
};

// The analysis of `input` by the run's model; throws what analysis::analyze throws (Cancelled
// under a cancelled ProgressScope).
AnalyzeResult analyze(const models::Run& run, const AnalysisInput& input, const AnalyzeRequest& request);

}  // namespace lumen::app
