// The application layer (issue #13): what the CLI and the server both do with a user's input
// before the library computes: texts tokenized as a run was, and the examples of a data split.
// Errors name the command (or request) they serve.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"
#include "models/checkpoint.h"

namespace lumen::app {

// Examples from typed texts ("FIRST<TAB>SECOND" for pair models), tokenized as the run was;
// errors name `command` and the input's number. Throws DataError.
std::vector<data::Example> examples_from_texts(const models::Run& run, const std::vector<std::string>& texts,
                                               const std::string& command);

// The first `limit` examples (0 = all) of a split of `spec` (empty or "run": the run's own data),
// tokenized as the run was; DataError naming `command` for an empty split. `pair` receives
// whether the data are text pairs.
std::vector<data::Example> split_examples(const models::Run& run, const std::string& spec, const std::string& split,
                                          int64_t limit, const std::string& command, bool* pair = nullptr);

// The non-empty items of a comma-separated list, as written (no trimming).
std::vector<std::string> split_list(const std::string& s);

}  // namespace lumen::app
