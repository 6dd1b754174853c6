// `lumen`: explain NLP classifiers and test whether the explanations can be trusted.
#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/common.h"
#include "core/runtime.h"
#include "core/error.h"

int main(int argc, char** argv) {
  lumen::select_blas_kernels(argv);  // may re-execute with OpenBLAS's right kernels
  using namespace lumen::cli;
  CLI::App app{"lumen: explain NLP classifiers and test whether the explanations can be trusted"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--json, --quiet, --threads) also after the subcommand
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  auto& g = globals();
  app.add_option("--threads", g.threads, "Cores to use (0 = every core; capped at the machine's cores)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", g.json, "Print results as JSON on stdout");
  app.add_flag("--quiet,-q", g.quiet, "No progress bars or informational messages");
  register_train(app);
  register_eval(app);
  register_predict(app);
  register_data(app);
  register_analyze(app);
  register_drift(app);
  register_compare(app);
  register_report(app);
  register_controls(app);
  register_explain(app);
  register_evaluate_explanations(app);
  register_attack(app);
  register_augment(app);
  register_train_editor(app);
  register_counterfactual(app);
  register_influence(app);
  register_influence_check(app);
  register_serve(app);
  register_train_nle(app);
  register_nle(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const lumen::InvalidArgument& e) {
    std::cerr << "lumen: error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const lumen::Error& e) {
    std::cerr << "lumen: error: " << e.what() << "\n";
    return kExitRuntimeError;
  } catch (const c10::Error& e) {
    std::cerr << "lumen: error: " << e.what_without_backtrace() << "\n";
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::cerr << "lumen: internal error: " << e.what() << "\n";
    return kExitRuntimeError;
  }
  return kExitOk;
}
