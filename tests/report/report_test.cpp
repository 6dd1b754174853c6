// The HTML report: self-contained (the plotting library inside, no network), text that cannot
// break out of its script or element, and, in headless Chromium, every figure drawn without a
// script error or console message (scripts/check-report.sh, which also saves a screenshot).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "analysis/jain_wallace.h"
#include "core/build_config.h"
#include "core/error.h"
#include "core/fs.h"
#include "report/analysis_report.h"
#include "report/plotly_asset.h"
#include "support/fixtures.h"

namespace lumen::report {
namespace {

const std::string kHostile = "</script><img src=x onerror=alert(1)>";

// A tiny model's analysis of a few texts, one of them with a token that is HTML.
AnalysisData tiny_analysis(const std::string& name) {
  torch::manual_seed(0);
  models::TextClassifier model(test::tiny_config("lstm", "additive", false));
  data::Vocab vocab;
  std::vector<data::Example> examples;
  const std::vector<std::vector<std::string>> texts = {
      {"good", "movie", kHostile}, {"bad", "plot", "&amp;", "\"quoted\""}, {"fine"}, {"a", "b", "c", "d", "e"}};
  for (size_t i = 0; i < texts.size(); ++i) {
    data::Example e;
    e.tokens = texts[i];
    e.label = static_cast<int64_t>(i % 2);
    examples.push_back(e);
  }
  analysis::AnalysisOptions o;
  o.progress = false;
  o.adversarial_options.steps = 20;
  o.erasure = true;
  const auto res = analysis::analyze(model, examples, vocab, false, o);
  AnalysisData a;
  a.name = name;
  a.summary = analysis::summarize(res.records, {"neg", "pos"}, o);
  a.summary["data"] = "tiny <data>";
  a.summary["split"] = "test";
  a.summary["seconds"] = res.seconds.to_json();
  for (const auto& r : res.records) a.records.push_back(r.to_json({"neg", "pos"}));
  return a;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(Report, IsSelfContainedAndTextCannotEscapeItsElement) {
  const std::string html = render_analysis_report({tiny_analysis("<b>model</b>")});
  EXPECT_GT(plotly_js().size(), 1000000u);
  EXPECT_NE(html.find(std::string(plotly_js().substr(0, 200))), std::string::npos);  // the library is inside
  EXPECT_EQ(count(html, "<script"), 3u);    // plotly, the data, the page's code
  EXPECT_EQ(count(html, "</script>"), 3u);  // the hostile token did not close one
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("<b>model</b>"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script\\u003e\\u003cimg"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;model&lt;/b&gt;"), std::string::npos);  // the title, escaped
  EXPECT_NE(html.find("tiny &lt;data&gt;"), std::string::npos);
  // Nothing is loaded from elsewhere.
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(Report, RoundTripsThroughAnAnalysisDirectory) {
  test::TempDir d;
  AnalysisData a = tiny_analysis("m");
  write_json_file(d.file("summary.json"), a.summary);
  std::string jsonl;
  for (const auto& r : a.records) jsonl += r.dump() + "\n";
  d.write("records.jsonl", jsonl);
  AnalysisData b = AnalysisData::load(d.path());
  EXPECT_EQ(b.records.size(), a.records.size());
  EXPECT_EQ(b.records[0]["tokens"][2], kHostile);
  d.write("records.jsonl", "{\"index\": 0}\nnot json\n");
  EXPECT_THROW(AnalysisData::load(d.path()), DataError);
}

bool have_browser() {
  return std::system("command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1") == 0;
}

TEST(Report, RendersEveryFigureInHeadlessChromiumWithoutConsoleErrors) {
  if (!have_browser()) GTEST_SKIP() << "no Chromium (scripts/install-deps.sh installs chromium-headless-shell)";
  test::TempDir d;
  const std::string page = d.file("report.html");
  // Two models: the comparison figures (3) and 7 figures per model (5, and erasure's 2).
  write_analysis_report(page, {tiny_analysis("first"), tiny_analysis("second")});
  const auto r = test::run_command(std::string(LUMEN_SOURCE_DIR) + "/scripts/check-report.sh " + page + " " +
                                   d.file("shot.png") + " 17");
  EXPECT_EQ(r.code, 0) << r.output;
  const std::string& out = r.output;
  EXPECT_TRUE(path_exists(d.file("shot.png"))) << out;
}

}  // namespace
}  // namespace lumen::report
