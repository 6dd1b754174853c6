#include "app/compare.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "app/analyze.h"
#include "core/error.h"
#include "core/fs.h"
#include "models/checkpoint.h"
#include "report/page.h"

namespace lumen::app {

namespace {

// The compared metrics: key, label, and which way is "more faithful" (or more accurate):
// +1 higher, -1 lower.
struct Metric {
  const char* key;
  const char* label;
  int better;
  const char* reading;  // what a move in the better direction means
};
const Metric kMetrics[] = {
    {"tau_attention_gradient", "tau(attention, gradient)", +1, "attention agrees more with the gradient importance"},
    {"tau_attention_loo", "tau(attention, LOO)", +1, "attention agrees more with leave-one-out"},
    {"permutation_median_tvd", "permutation median TVD", +1, "permuting attention changes the output more"},
    {"adversarial_max_jsd", "adversarial max JSD", -1, "adversarial attention stays closer to the model's own"},
    {"erasure_fraction", "share erased to flip (attention)", -1, "fewer top-attended tokens decide the output"},
    {"erasure_flip_rate", "erasure flip rate (attention)", +1, "erasing by attention flips the decision more often"},
    {"plausibility_f1", "attention token F1 vs rationale", +1, "attention finds the known rationale more often"},
    {"conicity", "conicity of the states", -1, "the states are more diverse"},
};

Json at_path(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return nullptr;
    cur = &(*cur)[k];
  }
  return *cur;
}

std::string last_part(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  const size_t slash = d.find_last_of('/');
  return slash == std::string::npos ? d : d.substr(slash + 1);
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

const char* kScript = R"JS(
function build(root) {
  const d = LUMEN, sec = el('section');
  root.appendChild(sec);
  sec.appendChild(el('p', {class: 'note'}, d.rows.length + ' runs, ' + d.instances + ' instances of the ' + d.split +
    ' split each. Changes are measured against ' + d.baseline + '; the direction says what the measured change means, ' +
    'whatever the fix was meant to do.'));
  const f = x => x === null || x === undefined ? '–' : Number(x).toFixed(3);
  const t = el('table'), head = el('tr');
  for (const h of ['run', 'encoder', 'fix', 'test accuracy', 'Δ accuracy (points)'].concat(d.metrics.map(m => m.label)))
    head.appendChild(el('th', null, h));
  t.appendChild(head);
  for (const r of d.rows) {
    const tr = el('tr');
    const cells = [r.name, r.encoder + ' + ' + r.attention, r.fix, f(r.test_accuracy),
                   r.accuracy_change === null ? '–' : (100 * r.accuracy_change).toFixed(1)];
    for (const c of cells) tr.appendChild(el('td', null, String(c)));
    for (const m of d.metrics) {
      const ch = r.changes[m.key];
      const td = el('td', null, f(r[m.key]) + (ch && ch.direction !== 'same' && ch.direction !== 'baseline' ?
        ' (' + (ch.delta > 0 ? '+' : '') + Number(ch.delta).toFixed(3) + ')' : ''));
      if (ch) td.title = ch.reading || '';
      if (ch && ch.direction === 'better') td.style.color = '#1a7f37';
      if (ch && ch.direction === 'worse') td.style.color = '#b42318';
      tr.appendChild(td);
    }
    t.appendChild(tr);
  }
  sec.appendChild(t);
  sec.appendChild(el('p', {class: 'note'}, 'Green: the change goes the more-faithful way of the metric (hover a cell for its ' +
    'reading); red: the other way. Erasure shares are medians over the instances whose decision flipped.'));
  const grid = el('div', {class: 'grid'});
  sec.appendChild(grid);
  const names = d.rows.map(r => r.name);
  figure(grid, 'Test accuracy', [{type: 'bar', x: names, y: d.rows.map(r => r.test_accuracy)}],
         {yaxis: {title: {text: 'accuracy'}, rangemode: 'tozero'}});
  for (const m of d.metrics) {
    const y = d.rows.map(r => r[m.key]);
    if (y.every(v => v === null || v === undefined)) continue;
    figure(grid, m.label + (m.better > 0 ? ' (higher is better)' : ' (lower is better)'),
           [{type: 'bar', x: names, y: y.map(v => v === null ? NaN : v)}], {yaxis: {title: {text: m.label}}});
  }
}
)JS";

}  // namespace

void CompareRequest::validate() const {
  if (runs.empty()) throw InvalidArgument("compare: --runs needs at least one run directory");
  if (!names.empty() && names.size() != runs.size())
    throw InvalidArgument("compare: --names gives " + std::to_string(names.size()) + " names for " + std::to_string(runs.size()) +
                          " runs");
  options.validate();
}

std::string describe_fix(const Json& config) {
  const Json model = config.value("model", Json::object()), train = config.value("train", Json::object());
  const std::string encoder = model.value("encoder", std::string("lstm"));
  std::vector<std::string> parts;
  if (encoder == "ortho-lstm") parts.push_back("orthogonal");
  const double diversity = train.value("diversity_weight", 0.0), rationale = train.value("rationale_weight", 0.0);
  if (diversity > 0) parts.push_back("diversity " + number(diversity));
  if (rationale > 0) parts.push_back("rationale " + number(rationale));
  const double faithfulness = train.value("faithfulness_weight", 0.0);
  if (faithfulness > 0) parts.push_back("faithfulness " + number(faithfulness));
  if (model.value("attention", std::string()) == "uniform") parts.push_back("uniform attention");
  if (config.contains("augment")) parts.push_back("adversarially augmented");
  if (config.contains("init_from")) parts.push_back("fine-tuned");
  if (config.contains("adversary")) parts.push_back("adversary lambda " + number(config["adversary"].value("lambda", 0.0)));
  if (parts.empty()) return "vanilla";
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

Json compare_runs(const CompareRequest& q) {
  q.validate();
  analysis::AnalysisOptions options = q.options;
  options.erasure = true;
  Json rows = Json::array();
  int64_t instances = -1;
  for (size_t k = 0; k < q.runs.size(); ++k) {
    const auto start = std::chrono::steady_clock::now();
    const models::Run run = models::load_run(q.runs[k]);
    const AnalysisInput input = analysis_input(run, q.data, q.split);
    const int64_t n = input.count(options);
    if (instances >= 0 && n != instances)
      throw InvalidArgument("compare: " + run.dir + " reads " + std::to_string(n) + " instances of the split, the first run " +
                            std::to_string(instances) + "; give the runs the same data with --data");
    instances = n;
    AnalyzeRequest request;
    request.split = q.split;
    request.options = options;
    request.options.progress = false;
    const Json s = analyze(run, input, request).summary;
    const Json o = s.value("overall", Json::object());
    Json row = {{"name", q.names.empty() ? last_part(run.dir) : q.names[k]},
                {"run", run.dir},
                {"encoder", run.model_config.encoder},
                {"attention", run.model_config.attention},
                {"fix", describe_fix(run.config)},
                {"diversity_weight", at_path(run.config, {"train", "diversity_weight"})},
                {"rationale_weight", at_path(run.config, {"train", "rationale_weight"})},
                {"faithfulness_weight", at_path(run.config, {"train", "faithfulness_weight"})},
                {"accuracy", s.value("accuracy", Json(nullptr))}};
    const std::string metrics = join_path(run.dir, "metrics.json");
    row["test_accuracy"] = path_exists(metrics) ? at_path(read_json_file(metrics), {"test", "accuracy"}) : Json(nullptr);
    row["tau_attention_gradient"] = at_path(o, {"kendall", "attention_gradient", "mean"});
    row["tau_attention_loo"] = at_path(o, {"kendall", "attention_loo", "mean"});
    row["permutation_median_tvd"] = at_path(o, {"permutation", "median_tvd", "median"});
    row["adversarial_max_jsd"] = at_path(o, {"adversarial", "max_jsd", "mean"});
    row["erasure_fraction"] = at_path(o, {"erasure", "orders", "attention", "fraction_removed", "median"});
    row["erasure_flip_rate"] = at_path(o, {"erasure", "orders", "attention", "flip_rate"});
    row["random_erasure_fraction"] = at_path(o, {"erasure", "orders", "random", "fraction_removed", "median"});
    row["plausibility_f1"] = at_path(o, {"plausibility", "attention", "token_f1", "mean"});
    row["conicity"] = at_path(o, {"conicity", "mean"});
    rows.push_back(row);
    if (q.log) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      q.log("compare: " + row["name"].get<std::string>() + " (" + row["fix"].get<std::string>() + ") analysed in " +
            number(std::round(secs * 10) / 10) + " s");
    }
  }
  // Changes against the baseline, read by each metric's definition.
  const Json& base = rows[0];
  for (auto& row : rows) {
    const bool is_base = &row == &rows[0];
    const Json a = row["test_accuracy"], b = base["test_accuracy"];
    row["accuracy_change"] = a.is_number() && b.is_number() ? Json(a.get<double>() - b.get<double>()) : Json(nullptr);
    Json changes = Json::object();
    for (const Metric& m : kMetrics) {
      const Json x = row[m.key], y = base[m.key];
      if (!x.is_number() || !y.is_number()) continue;
      const double delta = x.get<double>() - y.get<double>();
      std::string direction = is_base ? "baseline" : std::abs(delta) < 1e-9 ? "same" : (delta * m.better > 0 ? "better" : "worse");
      changes[m.key] = {{"delta", delta}, {"direction", direction}, {"reading", m.reading}};
    }
    row["changes"] = changes;
  }
  Json metrics = Json::array();
  for (const Metric& m : kMetrics) metrics.push_back({{"key", m.key}, {"label", m.label}, {"better", m.better}, {"reading", m.reading}});
  Json out = {{"kind", "lumen.compare"},
              {"split", q.split},
              {"data", q.data.empty() ? Json("each run's own") : Json(q.data)},
              {"instances", instances},
              {"options", options.to_json()},
              {"baseline", rows[0]["name"]},
              {"rows", rows},
              {"metrics", metrics}};
  if (!q.out.empty()) {
    make_dirs(q.out);
    write_json_file(join_path(q.out, "compare.json"), out);
    write_file_atomic(join_path(q.out, "compare.html"),
                      report::render_page("Attention fixes compared", std::to_string(rows.size()) + " runs", out, kScript));
  }
  return out;
}

}  // namespace lumen::app
