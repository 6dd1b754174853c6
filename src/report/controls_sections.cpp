#include "report/controls_sections.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "analysis/permutation.h"
#include "core/error.h"

namespace lumen::report {
namespace {

double mean(const std::vector<double>& v) { return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }
using analysis::median;

Json metrics_row(const std::string& name, const Json& m) {
  return Json::array({name, m.at("accuracy"), m.at("f1"), m.at("roc_auc").is_null() ? Json("–") : m.at("roc_auc")});
}

Json violin(const std::string& name, const std::vector<double>& y) {
  return {{"type", "violin"}, {"name", name}, {"y", y}, {"points", false}, {"box", {{"visible", true}}}};
}

const std::vector<std::string> kMetricColumns = {"model", "accuracy", "F1", "ROC-AUC"};

}  // namespace

std::vector<Json> controls_sections(const Json& c) {
  if (!c.is_object() || c.value("kind", std::string()) != "lumen.controls")
    throw DataError("report: not a controls document (written by `lumen controls`)");
  std::vector<Json> sections;
  const Json& base = c.at("base");
  const std::string enc = base.at("encoder").get<std::string>() + " + " + base.at("attention").get<std::string>() +
                          " attention";
  if (!c["uniform"].is_null())
    sections.push_back(
        {{"title", "Control: uniform attention (Wiegreffe & Pinter 2019, 3.1)"},
         {"description", "The base model's architecture trained with attention fixed to 1/n over the real tokens. When "
                         "it performs about as well as the base model, the task does not need attention, and showing "
                         "that attention can be moved without changing the output says little about explanation."},
         {"table", {{"columns", kMetricColumns},
                    {"rows", Json::array({metrics_row("base: " + enc, base.at("metrics")),
                                          metrics_row("uniform attention", c["uniform"])})}}}});
  if (!c.at("seeds").empty()) {
    Json rows = Json::array(), jsd_traces = Json::array(), tvd_traces = Json::array();
    for (const auto& s : c["seeds"]) {
      const std::string name = "seed " + std::to_string(s.at("seed").get<uint64_t>());
      const auto js = s.at("jsd").get<std::vector<double>>(), tv = s.at("tvd").get<std::vector<double>>();
      rows.push_back(Json::array({name, s.at("metrics").at("accuracy"), mean(js), median(js), mean(tv), median(tv)}));
      jsd_traces.push_back(violin(name, js));
      tvd_traces.push_back(violin(name, tv));
    }
    sections.push_back(
        {{"title", "Control: attention variance across random seeds (Wiegreffe & Pinter 2019, 3.2)"},
         {"description", "The base configuration trained again with other seeds. Per test instance: the JSD between "
                         "each seed's attention and the base model's, and the TVD between their outputs. Adversarial "
                         "attention JSDs are only remarkable when they exceed what a change of seed already gives "
                         "at a similar output difference."},
         {"table", {{"columns", {"model", "accuracy", "mean JSD", "median JSD", "mean output TVD", "median output TVD"}},
                    {"rows", rows}}},
         {"figures", Json::array({{{"title", "JSD(seed attention, base attention) per instance"},
                                   {"traces", jsd_traces},
                                   {"layout", {{"yaxis", {{"title", {{"text", "JSD"}}}, {"rangemode", "tozero"}}}}}},
                                  {{"title", "TVD(seed output, base output) per instance"},
                                   {"traces", tvd_traces},
                                   {"layout", {{"yaxis", {{"title", {{"text", "TVD"}}}, {"rangemode", "tozero"}}}}}}})}});
  }
  if (!c["frozen"].is_null()) {
    const Json& f = c["frozen"];
    const std::vector<std::pair<std::string, const Json*>> runs = {{"its own trained attention", &f.at("own")},
                                                                   {"uniform attention", &f.at("uniform")},
                                                                   {"base attention frozen", &f.at("frozen")}};
    Json rows = Json::array(), xs = Json::array(), acc = Json::array(), f1 = Json::array();
    for (const auto& [name, m] : runs) {
      rows.push_back(metrics_row("no-context MLP, " + name, *m));
      xs.push_back(name);
      acc.push_back(m->at("accuracy"));
      f1.push_back(m->at("f1"));
    }
    const Json bars = Json::array({{{"type", "bar"}, {"name", "accuracy"}, {"x", xs}, {"y", acc}},
                                   {{"type", "bar"}, {"name", "F1"}, {"x", xs}, {"y", f1}}});
    sections.push_back(
        {{"title", "Control: attention frozen into a no-context model (Wiegreffe & Pinter 2019, 3.3)"},
         {"description", "An Average (MLP) encoder, whose states see one token each, trained three ways. When the base "
                         "model's attention, frozen, does better than uniform attention, its distributions carry "
                         "information about which tokens matter that is usable outside the base model."},
         {"table", {{"columns", kMetricColumns}, {"rows", rows}}},
         {"figures", Json::array({{{"title", "No-context MLP: test metrics by attention"},
                                   {"traces", bars},
                                   {"layout", {{"barmode", "group"}, {"yaxis", {{"range", {0, 1}}}}}}}})}});
  }
  return sections;
}

}  // namespace lumen::report
