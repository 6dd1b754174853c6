// The JSON document of an influence run that `lumen influence --json`, influence.json and the
// HTML view share: InfluenceResult::to_json with every referenced example's text and label
// names, and the self-influence ranking (top first) when computed.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "influence/influence.h"

namespace lumen::influence {

// `train` / `test`: the examples behind the result's rows; `top_self`: self-influence entries
// listed (the full vector stays under "self_influence").
Json influence_document(const InfluenceResult& result, const std::vector<data::Example>& train,
                        const std::vector<data::Example>& test, const std::vector<std::string>& label_names,
                        int64_t top_self = 50);

}  // namespace lumen::influence
