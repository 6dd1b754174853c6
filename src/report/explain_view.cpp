#include "report/explain_view.h"

#include "core/error.h"
#include "core/fs.h"
#include "report/page.h"

namespace lumen::report {
namespace {

const char* const kScript = R"JS(
const D = LUMEN;
function fmt(x, d = 3) { return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d); }
function tokColor(v, max) {
  if (!max || v === null || v === undefined) return 'transparent';
  const a = Math.min(1, Math.abs(v) / max);
  return v >= 0 ? `rgba(214,39,40,${a.toFixed(3)})` : `rgba(31,119,180,${a.toFixed(3)})`;
}
function maxAbs(v) { return Math.max(1e-300, ...(v || []).map(x => Math.abs(x || 0))); }
function heatRow(parent, label, toks, scores, rat) {
  const row = el('div', {class: 'hm'});
  row.appendChild(el('div', {class: 'lbl'}, label));
  const t = el('div', {class: 'toks'});
  const m = maxAbs(scores);
  toks.forEach((w, i) => {
    const s = el('span', {class: 'tk' + (rat && rat.has(i) ? ' rat' : ''), title: label + ': ' + fmt(scores && scores[i], 4)}, w);
    s.style.background = tokColor(scores && scores[i], m);
    t.appendChild(s);
  });
  row.appendChild(t);
  parent.appendChild(row);
}
function positions(inst) { return ['<s>', ...inst.tokens, '</s>']; }
function short(toks) { return toks.map((t, i) => (t.length > 12 ? t.slice(0, 11) + '…' : t) + '·' + i); }
function methodHeatmap(parent, inst, attrs, title) {
  const names = D.methods.map(m => m.name);
  const toks = short(inst.tokens);
  const z = names.map(n => { const s = attrs[n].scores; const m = maxAbs(s); return s.map(x => x / m); });
  const text = names.map(n => attrs[n].scores.map(x => fmt(x, 4)));
  figure(parent, title, [{type: 'heatmap', z, x: toks, y: names, text, hovertemplate: '%{y} / %{x}: %{text}<extra></extra>',
    zmin: -1, zmax: 1, colorscale: [[0, '#1f77b4'], [0.5, '#ffffff'], [1, '#d62728']], colorbar: {title: {text: 'score / max |score|'}}}],
    {xaxis: {tickangle: -45, automargin: true}, yaxis: {automargin: true}, margin: {l: 90, b: 90, t: 40, r: 10}});
}
function tokenHeatmaps(parent, inst, attrs) {
  const rat = new Set(inst.rationale || []);
  for (const m of D.methods) heatRow(parent, m.name, inst.tokens, attrs[m.name].scores, rat);
  if (inst.tokens_b) {
    parent.appendChild(el('h3', {}, 'Second text'));
    for (const m of D.methods) if (attrs[m.name].scores_b) heatRow(parent, m.name, inst.tokens_b, attrs[m.name].scores_b, null);
  }
}
function layerGrid(parent, inst, att) {
  const L = att.layers.length, H = att.layers[0].length, labels = short(positions(inst));
  const traces = [], layout = {grid: {rows: L, columns: H, pattern: 'independent'}, height: Math.max(300, 230 * L)};
  let k = 0;
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) {
    k++;
    traces.push({type: 'heatmap', z: att.layers[l][h], x: labels, y: labels, xaxis: 'x' + (k > 1 ? k : ''), yaxis: 'y' + (k > 1 ? k : ''),
      zmin: 0, zmax: 1, colorscale: 'Viridis', showscale: k === 1, hovertemplate: `layer ${l} head ${h}: %{y} → %{x}: %{z:.3f}<extra></extra>`});
    layout['xaxis' + (k > 1 ? k : '')] = {showticklabels: false, title: {text: l === L - 1 ? 'head ' + h : ''}};
    layout['yaxis' + (k > 1 ? k : '')] = {showticklabels: false, autorange: 'reversed', title: {text: h === 0 ? 'layer ' + l : ''}};
  }
  figure(parent, 'Self-attention, layer x head (rows: queries, columns: keys)', traces, layout);
}
function matrixFigure(parent, inst, m, title, label) {
  const labels = short(positions(inst));
  figure(parent, title, [{type: 'heatmap', z: m, x: labels, y: labels, colorscale: 'Viridis', colorbar: {title: {text: label}},
    hovertemplate: '%{y} ← %{x}: %{z:.3f}<extra></extra>'}],
    {yaxis: {autorange: 'reversed', automargin: true}, xaxis: {tickangle: -45, automargin: true}});
}
// Bipartite graph: left column = queries, right column = keys; edges binned by weight.
function bipartite(parent, left, right, weights, title) {
  const bins = [0.02, 0.05, 0.1, 0.2, 0.4, 1.0001], traces = [];
  const yl = i => left.length > 1 ? 1 - i / (left.length - 1) : 0.5, yr = j => right.length > 1 ? 1 - j / (right.length - 1) : 0.5;
  for (let b = 0; b + 1 < bins.length; b++) {
    const x = [], y = [];
    weights.forEach((row, i) => row.forEach((w, j) => {
      if (w >= bins[b] && w < bins[b + 1]) { x.push(0, 1, null); y.push(yl(i), yr(j), null); }
    }));
    traces.push({type: 'scatter', mode: 'lines', x, y, hoverinfo: 'skip', showlegend: true, name: `≥ ${bins[b]}`,
      line: {color: '#d62728', width: 0.5 + 5 * bins[b]}, opacity: Math.min(1, 0.15 + 1.5 * bins[b])});
  }
  traces.push({type: 'scatter', mode: 'text', x: left.map(() => -0.02), y: left.map((_, i) => yl(i)), text: left, textposition: 'middle left', showlegend: false, hoverinfo: 'text'});
  traces.push({type: 'scatter', mode: 'text', x: right.map(() => 1.02), y: right.map((_, j) => yr(j)), text: right, textposition: 'middle right', showlegend: false, hoverinfo: 'text'});
  figure(parent, title, traces, {xaxis: {visible: false, range: [-0.45, 1.45]}, yaxis: {visible: false},
    height: Math.max(340, 16 * Math.max(left.length, right.length))});
}
function attentionGraph(parent, inst, att) {
  const ctl = el('div', {class: 'controls'});
  const box = el('div');
  if (att.layers && att.layers.length) {
    const L = att.layers.length, H = att.layers[0].length;
    const lsel = el('select'), hsel = el('select');
    for (let l = 0; l < L; l++) lsel.appendChild(el('option', {value: l}, 'layer ' + l));
    hsel.appendChild(el('option', {value: -1}, 'mean of heads'));
    for (let h = 0; h < H; h++) hsel.appendChild(el('option', {value: h}, 'head ' + h));
    lsel.value = String(L - 1);
    ctl.append('Bipartite graph: ', lsel, hsel);
    const draw = () => {
      box.textContent = '';
      const l = +lsel.value, h = +hsel.value, toks = positions(inst);
      const maps = att.layers[l];
      const w = h < 0 ? maps[0].map((row, i) => row.map((_, j) => maps.reduce((s, m) => s + m[i][j], 0) / maps.length)) : maps[h];
      bipartite(box, toks, toks, w, `Self-attention graph, layer ${l}, ${h < 0 ? 'mean of heads' : 'head ' + h} (queries → keys)`);
    };
    lsel.addEventListener('change', draw); hsel.addEventListener('change', draw);
    parent.appendChild(ctl); parent.appendChild(box); draw();
  } else if (att.pooling) {
    const left = inst.tokens_b ? ['[' + inst.tokens_b.join(' ') + ']'] : ['[output]'];
    parent.appendChild(box);
    bipartite(box, left, positions(inst), [att.pooling],
      inst.tokens_b ? 'Pooling attention over the first text, conditioned on the second' : 'Pooling attention (output → tokens)');
  }
}
function instanceView(parent, inst) {
  parent.textContent = '';
  const probs = inst.probabilities.map((p, c) => D.labels[c] + ' ' + fmt(p)).join(', ');
  parent.appendChild(el('div', {class: 'meta'}, `${inst.source}  label ${inst.label ?? '–'}, predicted ${inst.prediction} (${probs}); explained class ${inst.target}` +
    (inst.rationale ? '; dashed outline: true rationale' : '')));
  tokenHeatmaps(parent, inst, inst.attributions);
  const grid = el('div', {class: 'grid'});
  parent.appendChild(grid);
  methodHeatmap(grid, inst, inst.attributions, 'Every method over the tokens');
  const att = inst.attention;
  if (att) {
    if (att.omitted) parent.appendChild(el('p', {class: 'note'}, att.omitted));
    attentionGraph(grid, inst, att);
    if (att.layers && att.layers.length) {
      layerGrid(parent, inst, att);
      const g2 = el('div', {class: 'grid'});
      parent.appendChild(g2);
      if (att.rollout) matrixFigure(g2, inst, att.rollout, 'Attention rollout (rows: top positions, columns: inputs)', 'share');
      if (att.flow) matrixFigure(g2, inst, att.flow, 'Attention flow (max flow input → top position)', 'flow');
    }
  }
  if (inst.edited) {
    const sec = el('div');
    sec.appendChild(el('h3', {}, 'After editing attention: ' + D.edits.join('; ')));
    sec.appendChild(el('div', {class: 'meta'}, `prediction ${inst.prediction} → ${inst.edited.prediction}`));
    parent.appendChild(sec);
    const g3 = el('div', {class: 'grid'});
    sec.appendChild(g3);
    figure(g3, 'Output probabilities before and after the edit', [
      {type: 'bar', name: 'before', x: D.labels, y: inst.probabilities},
      {type: 'bar', name: 'after', x: D.labels, y: inst.edited.probabilities}], {barmode: 'group', yaxis: {range: [0, 1]}});
    if (inst.edited.attention && inst.edited.attention.pooling && att && att.pooling) {
      const toks = short(positions(inst));
      figure(g3, 'Pooling attention before and after', [
        {type: 'bar', name: 'before', x: toks, y: att.pooling}, {type: 'bar', name: 'after', x: toks, y: inst.edited.attention.pooling}],
        {barmode: 'group', xaxis: {tickangle: -45, automargin: true}});
    }
    methodHeatmap(g3, inst, inst.edited.attributions, 'Every method after the edit');
    tokenHeatmaps(sec, inst, inst.edited.attributions);
  }
}
function build(root) {
  const intro = el('section');
  intro.appendChild(el('h2', {}, 'Methods'));
  const t = el('table');
  t.appendChild(el('tr')).append(el('th', {}, 'method'), el('th', {}, 'score'), el('th', {}, 'seconds'));
  for (const m of D.methods) t.appendChild(el('tr')).append(el('td', {}, m.name), el('td', {style: 'text-align:left'}, m.description), el('td', {}, fmt(D.seconds[m.name], 3)));
  intro.appendChild(t);
  intro.appendChild(el('p', {class: 'note'}, D.conventions + ' Heatmaps: red supports the explained class, blue opposes it, scaled per method by its largest |score|.'));
  root.appendChild(intro);
  const sec = el('section');
  sec.appendChild(el('h2', {}, 'Instances'));
  const ctl = el('div', {class: 'controls'});
  const sel = el('select');
  D.instances.forEach((inst, i) => sel.appendChild(el('option', {value: i}, `#${i} ${inst.source}: ${inst.tokens.slice(0, 8).join(' ')}`)));
  ctl.append('Instance: ', sel);
  sec.appendChild(ctl);
  const view = el('div', {class: 'inst'});
  sec.appendChild(view);
  root.appendChild(sec);
  sel.addEventListener('change', () => instanceView(view, D.instances[+sel.value]));
  instanceView(view, D.instances[0]);
}
)JS";

}  // namespace

std::string render_explain_view(const Json& doc, const std::string& title) {
  if (!doc.contains("instances") || doc["instances"].empty()) throw InvalidArgument("explain view: no instances");
  return render_page(title, "Lumen: token attributions and attention, one view per instance", doc, kScript);
}

void write_explain_view(const std::string& path, const Json& doc, const std::string& title) {
  write_file_atomic(path, render_explain_view(doc, title));
}

}  // namespace lumen::report
