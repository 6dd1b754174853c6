// Flags shared by `lumen explain` and `lumen evaluate-explanations`: the methods and their
// settings (explain::ExplainOptions).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "explain/explainer.h"

namespace lumen::cli {

struct MethodFlags {
  std::string methods;
  std::string baseline = "pad", removal = "delete";
  bool plain = false;  // --plain: ExplainOptions::fast = false
  explain::ExplainOptions options;
  // Parses the string flags into `options`; throws InvalidArgument.
  void finish();
};

void add_method_flags(CLI::App* cmd, MethodFlags& f, const std::string& default_methods);

}  // namespace lumen::cli
