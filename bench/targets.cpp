#include "targets.h"

#include <cstdio>
#include <string>
#include <vector>

namespace lumen::bench {
namespace {

struct Target {
  const char* benchmark;  // the benchmark's name
  const char* work;
  const char* today;      // the figure when issue #15 was filed
  double target;          // seconds (lower is better) or a fraction of GEMM peak (higher is better)
  bool higher_is_better;
  double reference_s;     // the Captum / PyTorch / reference figure of this machine, 0 = none
  const char* reference;
};

// The table, in its order.
const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"BM_LstmKernelPeak", "kernel forward + backward, 128 rows (share of 2-core GEMM peak)", "~33%", 0.60, true, 0, ""},
      {"BM_ExplainIg50", "integrated gradients, 50 fixed steps", "21.8-23.6 s", 6.0, false, 43.0, "Captum"},
      {"BM_ExplainIgAdaptive", "integrated gradients, adaptive, gap <= 1e-3", "-", 4.3, false, 43.0, "Captum"},
      {"BM_ExplainSaliency", "saliency", "0.66-0.79 s", 0.3, false, 1.0, "Captum"},
      {"BM_ExplainGradInput", "gradient x input", "0.66-0.76 s", 0.15, false, 1.05, "Captum"},
      {"BM_ExplainLooDelete", "leave-one-out (deletion)", "3.6-3.8 s", 1.2, false, 8.8, "Captum"},
      {"BM_ExplainLime500", "LIME 500", "35.5 s", 12.0, false, 178.0, "Captum"},
      {"BM_ExplainKernelShap500", "Kernel SHAP 500", "33.8 s", 12.0, false, 178.0, "Captum's LIME"},
      {"BM_ExplainSmoothGrad", "SmoothGrad 20", "17.4 s", 2.5, false, 0, ""},
      {"BM_TrainEpoch_LstmFused", "training epoch, BiLSTM + additive", "2.96 s median", 2.1, false, 6.2, "PyTorch"},
      {"BM_Analysis_Lstm", "Jain & Wallace analysis, BiLSTM", "3.4-4.0 s", 2.5, false, 87.0, "reference"},
  };
  return t;
}

std::string format(double v, bool fraction) {
  char buf[64];
  if (fraction) std::snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
  else std::snprintf(buf, sizeof buf, v < 1 ? "%.3f s" : "%.2f s", v);
  return buf;
}

}  // namespace

std::string target_filter() {
  std::string f;
  for (const auto& t : targets()) f += (f.empty() ? "" : "|") + std::string(t.benchmark);
  return "^(" + f + ")(/|$)";  // names may carry /iterations:1/real_time
}

void TargetReporter::ReportRuns(const std::vector<Run>& runs) {
  benchmark::ConsoleReporter::ReportRuns(runs);
  for (const auto& r : runs) {
    if (r.run_type != Run::RT_Iteration) continue;
    for (const char* key : {"seconds", "peak_fraction"}) {
      const auto it = r.counters.find(key);
      if (it != r.counters.end()) measured_.emplace_back(r.benchmark_name(), it->second.value);
    }
  }
}

void TargetReporter::Finalize() {
  benchmark::ConsoleReporter::Finalize();
  std::vector<std::string> rows;
  int met = 0;
  for (const auto& t : targets())
    for (const auto& [name, value] : measured_) {
      if (name != t.benchmark && name.rfind(std::string(t.benchmark) + "/", 0) != 0) continue;
      const bool ok = t.higher_is_better ? value >= t.target : value <= t.target;
      met += ok;
      // Ratio to target > 1 means the target is met by that factor.
      const double to_target = t.higher_is_better ? value / t.target : t.target / value;
      char ratio[64] = "-";
      if (t.reference_s > 0) std::snprintf(ratio, sizeof ratio, "%.1fx %s", t.reference_s / value, t.reference);
      char line[512];
      std::snprintf(line, sizeof line, "| %s | %s | %s | %s | %.2f | %s | %s |", t.work, t.today,
                    format(t.target, t.higher_is_better).c_str(), format(value, t.higher_is_better).c_str(), to_target,
                    ratio, ok ? "met" : "not met");
      rows.push_back(line);
    }
  if (rows.empty()) return;
  std::printf("\nIssue #15 targets (one run; this machine varies by +-10%% between runs)\n\n");
  std::printf("| work | when filed | target | measured | target / measured | speed-up | |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows) std::printf("%s\n", r.c_str());
  std::printf("\n%d of %zu targets met\n", met, rows.size());
  std::fflush(stdout);
}

}  // namespace lumen::bench
