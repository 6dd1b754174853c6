#include "cli/common.h"

#include <iostream>
#include <memory>

#include "core/error.h"
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

void warn(const std::string& line) { std::cerr << "lumen: " << line << "\n"; }

void print_json(const Json& j) { std::cout << j.dump(2) << "\n"; }

std::vector<std::string> split_list(const std::string& s) { return app::split_list(s); }

std::function<void(int64_t)> advance_to(Progress& bar) {
  auto shown = std::make_shared<int64_t>(0);
  return [&bar, shown](int64_t done) {
    bar.advance(done - *shown);
    *shown = done;
  };
}

}  // namespace lumen::cli
