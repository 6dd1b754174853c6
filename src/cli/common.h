// What every subcommand shares: global flags, run-time set-up, output helpers and exit codes.
// Usage errors exit 2, runtime errors (bad data, missing files, broken checkpoints) exit 1.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/json.h"
#include "app/inputs.h"
#include "core/progress.h"
#include "data/example.h"
#include "models/checkpoint.h"

namespace lumen::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

struct GlobalOptions {
  // Cores to use; 0 = every core (LibTorch and OpenBLAS run one thread each, see core/runtime.h).
  int threads = 0;
  // Print results as JSON on stdout.
  bool json = false;
  // No progress bars or informational messages.
  bool quiet = false;
};

GlobalOptions& globals();
// Applies --threads, --quiet, and warns on stderr when LibTorch is not on OpenBLAS.
void setup_runtime();
// An informational line on stderr (suppressed by --quiet and by --json).
void info(const std::string& line);
// A warning on stderr, always shown (--quiet and --json included).
void warn(const std::string& line);
void print_json(const Json& j);

// A callback for the library's "n units done so far" progress that advances `bar`.
std::function<void(int64_t)> advance_to(Progress& bar);

// "a,b,,c" -> {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& s);

// One registration function per subcommand file.
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_predict(CLI::App& app);
void register_data(CLI::App& app);
void register_analyze(CLI::App& app);
void register_drift(CLI::App& app);
void register_compare(CLI::App& app);
void register_report(CLI::App& app);
void register_controls(CLI::App& app);
void register_explain(CLI::App& app);
void register_evaluate_explanations(CLI::App& app);
void register_attack(CLI::App& app);
void register_augment(CLI::App& app);
void register_train_editor(CLI::App& app);
void register_counterfactual(CLI::App& app);
void register_influence(CLI::App& app);
void register_influence_check(CLI::App& app);
void register_serve(CLI::App& app);
void register_train_nle(CLI::App& app);
void register_nle(CLI::App& app);

}  // namespace lumen::cli
