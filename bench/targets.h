// Issue #15's speed targets: a reporter that prints, after a run, one row per target whose
// benchmark ran (its figure when the issue was filed, the target, the measured figure and the
// ratios). Each targeted benchmark sets a counter: "seconds" (lower is better) or, for the
// kernel, "peak_fraction" (higher is better).
// Run: make bench-targets  (build/lumen_bench --benchmark_filter=<the rows' benchmarks>)
#pragma once
#include <benchmark/benchmark.h>

#include <string>

namespace lumen::bench {

// The regular expression of the targeted benchmarks (for --benchmark_filter).
std::string target_filter();

// The console reporter that also prints the targets table after the run.
class TargetReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  std::vector<std::pair<std::string, double>> measured_;  // benchmark name, its counter
};

}  // namespace lumen::bench
