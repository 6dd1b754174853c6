#include "app/drift.h"

#include "analysis/attention_drift.h"
#include "app/inputs.h"
#include "core/error.h"
#include "core/fs.h"
#include "report/page.h"

namespace lumen::app {

namespace {
const char* kScript = R"JS(
function build(root) {
  const d = LUMEN, sec = el('section');
  root.appendChild(sec);
  sec.appendChild(el('p', {class: 'note'}, d.instances + ' instances of the ' + d.split + ' split of ' + d.data +
    '. Each saved checkpoint\'s pooling attention against the final model\'s (epoch ' + d.final_epoch + '): Kendall tau-b and JSD.'));
  const grid = el('div', {class: 'grid'});
  sec.appendChild(grid);
  if (d.checkpoints.length) {
    const x = d.checkpoints.map(c => c.epoch);
    figure(grid, 'Attention across training: tau with the final model', [
      {type: 'scatter', mode: 'lines+markers', name: 'mean tau', x, y: d.checkpoints.map(c => c.tau_mean)},
      {type: 'scatter', mode: 'lines+markers', name: 'median tau', x, y: d.checkpoints.map(c => c.tau_median)}],
      {xaxis: {title: {text: 'epoch'}}, yaxis: {title: {text: 'Kendall tau-b'}, range: [-1, 1]}});
    figure(grid, 'Attention across training: JSD from the final model', [
      {type: 'scatter', mode: 'lines+markers', name: 'mean JSD', x, y: d.checkpoints.map(c => c.jsd_mean)},
      {type: 'scatter', mode: 'lines+markers', name: 'median JSD', x, y: d.checkpoints.map(c => c.jsd_median)}],
      {xaxis: {title: {text: 'epoch'}}, yaxis: {title: {text: 'JSD'}, rangemode: 'tozero'}});
  } else {
    sec.appendChild(el('p', {class: 'note'}, 'The run kept no checkpoints.'));
  }
  if (d.compare.length) {
    const t = el('table'), head = el('tr');
    for (const h of ['other run', 'mean tau', 'median tau', 'mean JSD', 'median JSD']) head.appendChild(el('th', null, h));
    t.appendChild(head);
    const f = x => x === null ? '–' : Number(x).toFixed(3);
    for (const c of d.compare) {
      const tr = el('tr');
      for (const v of [c.run, f(c.tau_mean), f(c.tau_median), f(c.jsd_mean), f(c.jsd_median)]) tr.appendChild(el('td', null, String(v)));
      t.appendChild(tr);
    }
    sec.appendChild(t);
  }
}
)JS";
}  // namespace

Json attention_drift(const models::Run& run, const DriftRequest& q) {
  if (q.limit < 0) throw InvalidArgument("drift: --limit must be >= 0");
  bool pair = false;
  const std::vector<data::Example> examples = split_examples(run, q.data, q.split, q.limit, "drift", &pair);
  models::TextClassifier model = run.model;  // a holder of the caller's replica
  const auto final_attention = analysis::pooling_attention(model, examples, run.vocab, pair);
  Json out = {{"kind", "lumen.attention_drift"}, {"run", run.dir}, {"data", q.data.empty() || q.data == "run" ? run.data_spec : q.data},
              {"split", q.split}, {"instances", examples.size()}};
  // The final model is the epoch training kept (metrics.json's best_epoch).
  const std::string metrics = join_path(run.dir, "metrics.json");
  out["final_epoch"] = path_exists(metrics) ? read_json_file(metrics).value("best_epoch", Json(nullptr)) : Json(nullptr);
  Json checkpoints = Json::array();
  for (const auto& c : models::list_checkpoints(run)) {
    models::TextClassifier m(run.model_config);
    models::load_weights(m, c.path);
    Json a = analysis::compare_attention(analysis::pooling_attention(m, examples, run.vocab, pair), final_attention).to_json();
    a["epoch"] = c.epoch;
    checkpoints.push_back(a);
  }
  out["checkpoints"] = checkpoints;
  Json compare = Json::array();
  for (const auto& dir : q.compare) {
    models::Run other = models::load_run(dir);
    if (other.model_config.pair != run.model_config.pair)
      throw InvalidArgument("drift: " + dir + " and " + run.dir + " are not both pair (or both single-text) models");
    std::vector<data::Example> again = examples;  // the same words, the other run's vocabulary
    Json a = analysis::compare_attention(analysis::pooling_attention(other.model, again, other.vocab, pair), final_attention).to_json();
    a["run"] = other.dir;
    compare.push_back(a);
  }
  out["compare"] = compare;
  if (!q.out.empty()) {
    make_dirs(q.out);
    write_json_file(join_path(q.out, "drift.json"), out);
    write_file_atomic(join_path(q.out, "drift.html"),
                      report::render_page("Attention across training", run.dir, out, kScript));
  }
  return out;
}

}  // namespace lumen::app
