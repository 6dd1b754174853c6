// The options of the attribution methods: every field has a range that validate() names, and
// the JSON form records every setting that changes a score.
#include <gtest/gtest.h>

#include "core/error.h"
#include "explain/options.h"

namespace lumen::explain {
namespace {

TEST(ExplainOptions, JsonRecordsEverySettingThatChangesAScore) {
  ExplainOptions o;
  o.surrogate.kernel_width = 0.75;
  o.surrogate.ridge = 2.5;
  o.path.baseline = Baseline::kUnk;
  o.attention.head = 2;
  o.targets = {1, 0};
  const Json j = o.to_json();
  EXPECT_EQ(j["surrogate"]["kernel_width"].get<double>(), 0.75);
  EXPECT_EQ(j["surrogate"]["ridge"].get<double>(), 2.5);
  EXPECT_EQ(j["surrogate"]["samples"].get<int64_t>(), 500);
  EXPECT_EQ(j["path"]["baseline"], "unk");
  EXPECT_EQ(j["path"]["steps"].get<int64_t>(), 50);
  EXPECT_EQ(j["attention"]["head"].get<int64_t>(), 2);
  EXPECT_EQ(j["smoothgrad"]["samples"].get<int64_t>(), 20);
  EXPECT_EQ(j["occlusion"]["ngram"].get<int64_t>(), 3);
  EXPECT_EQ(j["flow"]["max_tokens"].get<int64_t>(), 400);
  EXPECT_EQ(j["targets"], Json({1, 0}));
  for (const char* k : {"removal", "seed", "chunk", "max_tokens", "fast"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(ExplainOptions().to_json()["targets"], "predicted");
}

TEST(ExplainOptions, ValidateNamesTheFieldOutOfRange) {
  auto message = [](const std::function<void(ExplainOptions&)>& change) {
    ExplainOptions o;
    change(o);
    try {
      o.validate();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NO_THROW(ExplainOptions().validate());
  EXPECT_EQ(message([](auto& o) { o.path.steps = 0; }), "explain: steps must be >= 1, got 0");
  EXPECT_NE(message([](auto& o) { o.smoothgrad.noise_level = -1; }).find("noise level"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.occlusion.ngram = 0; }).find("ngram"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.surrogate.kernel_width = 0; }).find("kernel width"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.surrogate.ridge = -0.5; }).find("ridge"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.attention.layer = -2; }).find("layer"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.chunk = -1; }).find("chunk"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.max_tokens = 0; }).find("max tokens"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.flow.max_tokens = 0; }).find("max flow tokens"), std::string::npos);
}

}  // namespace
}  // namespace lumen::explain
