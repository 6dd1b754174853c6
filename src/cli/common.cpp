#include "cli/common.h"

#include <iostream>

#include "core/progress.h"
#include "core/runtime.h"

namespace lumen::cli {

GlobalOptions& globals() {
  static GlobalOptions g;
  return g;
}

void setup_runtime() {
  configure_threads(globals().threads);
  Progress::set_quiet(globals().quiet || globals().json);
  const std::string warning = blas_warning();
  if (!warning.empty()) std::cerr << warning << "\n";
}

void info(const std::string& line) {
  if (!globals().quiet && !globals().json) std::cerr << line << "\n";
}

void print_json(const Json& j) { std::cout << j.dump(2) << "\n"; }

}  // namespace lumen::cli
