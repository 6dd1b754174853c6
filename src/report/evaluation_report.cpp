#include "report/evaluation_report.h"

#include "core/error.h"
#include "core/fs.h"
#include "report/page.h"

namespace lumen::report {
namespace {

const char* const kScript = R"JS(
const E = LUMEN;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a', '#637939', '#843c39'];
function fmt(x, d = 3) { return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d); }
function section(root, title, note) {
  const s = el('section');
  s.appendChild(el('h2', {}, title));
  if (note) s.appendChild(el('p', {class: 'note'}, note));
  root.appendChild(s);
  return s;
}
function build(root) {
  const names = E.methods.map(m => m.name);
  const c = E.conventions;
  const rank = section(root, 'Which explanation to believe', `${E.instances} instances. ${c.probability}. Removal: ${c.removal}. ${c.verdict}.`);
  const t = el('table');
  const head = ['rank', 'method', 'verdict', 'AOPC compr. ↑', 'AOPC suff. ↓', 'deletion AOPC MoRF ↑', 'LeRF ↓', 'decorrelation ↑', 'token F1 ↑'];
  t.appendChild(el('tr')).append(...head.map(h => el('th', {}, h)));
  for (const r of E.ranking) {
    const tr = t.appendChild(el('tr'));
    const v = el('td', {}, r.verdict);
    v.style.color = r.verdict === 'faithful' ? '#1a7f37' : '#b42318';
    v.style.textAlign = 'left';
    tr.append(el('td', {}, String(r.rank)), el('td', {}, r.method), v, el('td', {}, fmt(r.aopc_comprehensiveness)),
      el('td', {}, fmt(r.aopc_sufficiency)), el('td', {}, fmt(r.aopc_most_relevant_first)), el('td', {}, fmt(r.aopc_least_relevant_first)),
      el('td', {}, fmt(r.decorrelation)), el('td', {}, fmt(r.token_f1)));
  }
  rank.appendChild(t);
  rank.appendChild(el('p', {class: 'note'}, `Random token order: deletion AOPC ${fmt(E.random_order.aopc)}. ${c.aopc}. ${c.deletion_curve}. ${c.ranking}.`));
  const f = section(root, 'Faithfulness (ERASER)');
  const g = el('div', {class: 'grid'});
  f.appendChild(g);
  const bins = c.bins.map(b => (100 * b) + '%');
  figure(g, 'Comprehensiveness by share of top tokens removed', names.map((n, i) => ({type: 'scatter', mode: 'lines+markers', name: n,
    x: bins, y: E.faithfulness[n].comprehensiveness, line: {color: COLORS[i % COLORS.length]}})), {yaxis: {title: {text: 'p(x) - p(x \\ top)'}}});
  figure(g, 'Sufficiency by share of top tokens kept', names.map((n, i) => ({type: 'scatter', mode: 'lines+markers', name: n,
    x: bins, y: E.faithfulness[n].sufficiency, line: {color: COLORS[i % COLORS.length]}})), {yaxis: {title: {text: 'p(x) - p(top alone)'}}});
  const xs = E.random_order.deletion_curve.map((_, j, a) => j / (a.length - 1));
  figure(g, 'Deletion curves, most relevant first (dashed: random order)', [...names.map((n, i) => ({type: 'scatter', mode: 'lines', name: n,
    x: xs, y: E.faithfulness[n].deletion_curve.most_relevant_first, line: {color: COLORS[i % COLORS.length]}})),
    {type: 'scatter', mode: 'lines', name: 'random', x: xs, y: E.random_order.deletion_curve, line: {color: '#000', dash: 'dash'}}],
    {xaxis: {title: {text: 'share of tokens removed'}}, yaxis: {title: {text: 'p(x) - p(x with removal)'}}});
  figure(g, 'Deletion curves, least relevant first', names.map((n, i) => ({type: 'scatter', mode: 'lines', name: n,
    x: xs, y: E.faithfulness[n].deletion_curve.least_relevant_first, line: {color: COLORS[i % COLORS.length]}})),
    {xaxis: {title: {text: 'share of tokens removed'}}});
  const a = section(root, 'Agreement between methods', 'Mean Kendall tau-b of the scores and overlap of the top 20% tokens, per instance.');
  const ga = el('div', {class: 'grid'});
  a.appendChild(ga);
  const mat = key => names.map(x => names.map(y => {
    if (x === y) return 1;
    const r = E.agreement.find(p => (p.a === x && p.b === y) || (p.a === y && p.b === x));
    return r ? r[key] : null;
  }));
  figure(ga, 'Kendall tau between methods', [{type: 'heatmap', z: mat('kendall_tau'), x: names, y: names, zmin: -1, zmax: 1,
    colorscale: 'RdBu', reversescale: true}], {xaxis: {tickangle: -45, automargin: true}, yaxis: {automargin: true}});
  figure(ga, 'Top-20% overlap between methods', [{type: 'heatmap', z: mat('top_overlap'), x: names, y: names, zmin: 0, zmax: 1,
    colorscale: 'Viridis'}], {xaxis: {tickangle: -45, automargin: true}, yaxis: {automargin: true}});
  if (E.sanity && E.sanity.cascading) {
    const s = section(root, 'Sanity checks (Adebayo et al. 2018)', c.decorrelation + '. An explanation that depends on the model decorrelates as its parameters are randomised.');
    const gs = el('div', {class: 'grid'});
    s.appendChild(gs);
    const steps = E.sanity.cascading.map(x => 'through ' + x.randomised_through);
    figure(gs, 'Cascading randomisation: Spearman of |scores| with the trained model', names.map((n, i) => ({type: 'scatter', mode: 'lines+markers', name: n,
      x: steps, y: E.sanity.cascading.map(x => x.methods[n].spearman_abs), line: {color: COLORS[i % COLORS.length]}})), {yaxis: {range: [-1, 1]}});
    const ind = E.sanity.independent.map(x => x.randomised);
    figure(gs, 'Independent randomisation: Spearman of |scores|', names.map((n, i) => ({type: 'bar', name: n,
      x: ind, y: E.sanity.independent.map(x => x.methods[n].spearman_abs), marker: {color: COLORS[i % COLORS.length]}})), {barmode: 'group', yaxis: {range: [-1, 1]}});
    if (E.sanity.label_permuted)
      figure(gs, 'Model trained on permuted labels: Spearman with the trained model', [
        {type: 'bar', name: 'signed', x: names, y: names.map(n => E.sanity.label_permuted.methods[n].spearman)},
        {type: 'bar', name: '|scores|', x: names, y: names.map(n => E.sanity.label_permuted.methods[n].spearman_abs)}], {barmode: 'group', yaxis: {range: [-1, 1]}});
  }
  if (E.plausibility && Object.keys(E.plausibility).length) {
    const p = section(root, 'Plausibility against the known rationale', 'Token F1 of the top-|rationale| tokens and average precision (AUPRC) of the scores.');
    const gp = el('div', {class: 'grid'});
    p.appendChild(gp);
    figure(gp, 'Recovery of the true rationale', [
      {type: 'bar', name: 'token F1', x: names, y: names.map(n => E.plausibility[n].token_f1)},
      {type: 'bar', name: 'AUPRC', x: names, y: names.map(n => E.plausibility[n].auprc)}], {barmode: 'group', yaxis: {range: [0, 1]}});
  }
}
)JS";

}  // namespace

std::string render_evaluation_report(const Json& eval, const std::string& title) {
  if (!eval.contains("ranking")) throw InvalidArgument("evaluation report: not an evaluation result");
  return render_page(title, "Lumen: faithfulness, agreement and sanity of token attributions", eval, kScript);
}

void write_evaluation_report(const std::string& path, const Json& eval, const std::string& title) {
  write_file_atomic(path, render_evaluation_report(eval, title));
}

}  // namespace lumen::report
