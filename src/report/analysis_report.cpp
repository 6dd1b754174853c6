#include "report/analysis_report.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/fs.h"
#include "report/plotly_asset.h"

namespace lumen::report {

std::string script_safe_json(const Json& j) {
  const std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + s.size() / 50);
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

AnalysisData AnalysisData::load(const std::string& dir) {
  AnalysisData a;
  a.summary = read_json_file(join_path(dir, "summary.json"));
  a.name = a.summary.value("name", dir);
  const std::string path = join_path(dir, "records.jsonl");
  std::ifstream in(path);
  if (!in) throw IoError("report: cannot read " + path);
  std::string line;
  int64_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    try {
      a.records.push_back(Json::parse(line));
    } catch (const Json::exception& e) {
      throw DataError(path + ":" + std::to_string(no) + ": not a JSON record (" + e.what() + ")");
    }
  }
  return a;
}

namespace {

// 4 significant digits: the page needs no more, and the file stays small.
Json round4(const Json& v) {
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (!std::isfinite(x)) return nullptr;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    return std::stod(buf);
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(round4(e));
    return out;
  }
  return v;
}

Json tau_of(const Json& rec, const char* key) {
  if (!rec.contains("kendall") || !rec["kendall"].contains(key)) return nullptr;
  const Json& k = rec["kendall"][key];
  return Json::array({round4(k.value("tau", Json())), round4(k.value("p_value", Json()))});
}

// The compact per-instance form the page reads.
Json compact(const Json& r) {
  auto get = [&](const char* k) { return r.contains(k) ? round4(r[k]) : Json(nullptr); };
  Json c = {{"i", r.value("index", 0)},
            {"tok", r.value("tokens", Json::array())},
            {"y", r.value("label", Json())},
            {"yhat", r.value("prediction", Json())},
            {"p", get("probs")},
            {"att", get("attention")},
            {"grad", get("gradient")},
            {"loo", get("loo")},
            {"ag", tau_of(r, "attention_gradient")},
            {"al", tau_of(r, "attention_loo")},
            {"gl", tau_of(r, "gradient_loo")}};
  if (r.contains("rationale")) c["rat"] = r["rationale"];
  if (r.contains("permutation")) {
    c["perm"] = round4(r["permutation"]["median_tvd"]);
    c["maxatt"] = round4(r["permutation"]["max_attention"]);
  }
  if (r.contains("adversarial")) {
    c["adv"] = round4(r["adversarial"]["attention"]);
    c["jsd"] = round4(r["adversarial"]["jsd"]);
    c["advtvd"] = round4(r["adversarial"]["tvd"]);
  }
  return c;
}

const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2a44;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{padding:8px 28px 40px;max-width:1400px}section{background:#fff;border-radius:8px;padding:14px 18px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
.fig{border:1px solid #e3e6eb;border-radius:6px;padding:6px}.fig .plot{height:340px}
.fig .dl{text-align:right}.fig button,.controls button{font-size:12px;margin-left:6px;cursor:pointer}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #e3e6eb;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.note{font-size:13px;color:#555}.controls{margin:8px 0}.controls select,.controls input{margin-right:10px}
.inst{border-top:1px solid #e3e6eb;padding:8px 0}.inst .meta{font-size:12px;color:#444;margin-bottom:4px}
.hm{display:flex;align-items:flex-start;margin:2px 0}.hm .lbl{width:88px;flex:none;font-size:11px;color:#555;padding-top:3px}
.hm .toks{display:flex;flex-wrap:wrap;gap:2px}.tk{padding:1px 3px;border-radius:3px;font-size:13px;font-family:ui-monospace,Menlo,monospace}
.tk.rat{outline:1px dashed #2a7}
)CSS";

const char* kScript = R"JS(
'use strict';
const LUMEN = JSON.parse(document.getElementById('lumen-data').textContent);
const errors = [];
function fail(msg) { errors.push(msg); document.body.dataset.errors = String(errors.length); }
window.addEventListener('error', e => fail(String(e.message)));
window.addEventListener('unhandledrejection', e => fail(String(e.reason)));
const consoleError = console.error.bind(console);
console.error = (...a) => { fail(a.map(String).join(' ')); consoleError(...a); };
const pending = [];
let figures = 0;
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function figure(parent, title, traces, layout) {
  const box = el('div', {class: 'fig'});
  const plot = el('div', {class: 'plot'});
  const dl = el('div', {class: 'dl'});
  const name = title.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
  for (const fmt of ['svg', 'png']) {
    const b = el('button', {type: 'button'}, 'Save ' + fmt.toUpperCase());
    b.addEventListener('click', () => Plotly.downloadImage(plot, {format: fmt, filename: name, width: 900, height: 500}));
    dl.appendChild(b);
  }
  box.appendChild(plot); box.appendChild(dl); parent.appendChild(box);
  const lay = Object.assign({title: {text: title, font: {size: 14}, x: 0.01, xanchor: 'left'}, margin: {l: 55, r: 15, t: 40, b: 45},
                             legend: {orientation: 'h', y: -0.2}}, layout);
  figures++;
  pending.push(Plotly.newPlot(plot, traces, lay, {displaylogo: false, responsive: true}));
}
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const BINS = [[0, .25], [.25, .5], [.5, .75], [.75, 1.0001]];
const BIN_NAMES = ['[0, .25)', '[.25, .5)', '[.5, .75)', '[.75, 1]'];
function classes(recs) { return [...new Set(recs.map(r => r.yhat))].sort(); }
function fmt(x, d = 3) { return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d); }
function tauHist(parent, a, key, label) {
  const traces = classes(a.records).map((c, i) => ({
    type: 'histogram', name: 'predicted ' + c, opacity: .6, marker: {color: COLORS[i % COLORS.length]},
    x: a.records.filter(r => r.yhat === c && r[key] && r[key][0] !== null).map(r => r[key][0]),
    xbins: {start: -1, end: 1.0001, size: 2 / 30}}));
  figure(parent, a.name + ': Kendall tau, ' + label, traces,
         {barmode: 'overlay', xaxis: {title: {text: 'tau'}, range: [-1, 1]}, yaxis: {title: {text: 'instances'}}});
}
function violinsByMaxAttention(parent, a, key, title, ytitle) {
  const traces = classes(a.records).map((c, i) => {
    const rs = a.records.filter(r => r.yhat === c && r[key] !== undefined && r[key] !== null);
    return {type: 'violin', name: 'predicted ' + c, points: false, box: {visible: true}, meanline: {visible: true},
            line: {color: COLORS[i % COLORS.length]},
            x: rs.map(r => BIN_NAMES[BINS.findIndex(b => r.maxatt >= b[0] && r.maxatt < b[1])]), y: rs.map(r => r[key])};
  });
  figure(parent, a.name + ': ' + title, traces,
         {violinmode: 'group', xaxis: {title: {text: 'maximum attention'}, categoryorder: 'array', categoryarray: BIN_NAMES},
          yaxis: {title: {text: ytitle}, rangemode: 'tozero'}});
}
function jsdHist(parent, a) {
  const traces = classes(a.records).map((c, i) => ({
    type: 'histogram', name: 'predicted ' + c, opacity: .6, marker: {color: COLORS[i % COLORS.length]},
    x: a.records.filter(r => r.yhat === c && r.jsd !== undefined).map(r => r.jsd), xbins: {start: 0, end: 0.7, size: 0.7 / 40}}));
  figure(parent, a.name + ': maximum JSD of adversarial attention', traces,
         {barmode: 'overlay', xaxis: {title: {text: 'max JSD (output TVD <= epsilon)'}, range: [0, 0.7]},
          yaxis: {title: {text: 'instances'}}});
}
function summaryTable(parent, a) {
  const s = a.summary, t = el('table');
  const head = el('tr');
  for (const h of ['group', 'n', 'tau(att, grad)', 'sig.', 'tau(att, LOO)', 'sig.', 'tau(grad, LOO)',
                   'perm. median TVD', 'max JSD mean', 'JSD > 0.4']) head.appendChild(el('th', null, h));
  t.appendChild(head);
  const groups = [['all', s.overall]].concat(Object.entries(s.by_predicted_class || {}).map(([k, v]) => ['predicted ' + k, v]));
  for (const [g, v] of groups) {
    const k = v.kendall || {}, tr = el('tr');
    const tau = x => x ? fmt(x.mean) + ' ± ' + fmt(x.std) : '–';
    const cells = [g, v.instances, tau(k.attention_gradient), k.attention_gradient ? fmt(k.attention_gradient.significant_fraction, 2) : '–',
                   tau(k.attention_loo), k.attention_loo ? fmt(k.attention_loo.significant_fraction, 2) : '–', tau(k.gradient_loo),
                   v.permutation ? fmt(v.permutation.median_tvd.median, 4) : '–',
                   v.adversarial ? fmt(v.adversarial.max_jsd.mean) : '–',
                   v.adversarial ? fmt(v.adversarial['fraction_jsd_above_0.4'], 2) : '–'];
    for (const c of cells) tr.appendChild(el('td', null, String(c)));
    t.appendChild(tr);
  }
  parent.appendChild(t);
  const sec = s.seconds || {};
  parent.appendChild(el('p', {class: 'note'},
    'Data ' + s.data + ' (' + s.split + '), encoder ' + (s.model ? s.model.encoder + ' + ' + s.model.attention + ' attention' : '?') +
    ', accuracy ' + fmt(s.accuracy) + '. Analysis time ' + fmt(sec.total, 1) + ' s (gradients ' + fmt(sec.gradient, 2) +
    ', leave-one-out ' + fmt(sec.loo, 2) + ', permutations ' + fmt(sec.permutation, 2) + ', adversarial ' +
    fmt(sec.adversarial, 2) + ', statistics ' + fmt(sec.statistics, 2) + '). "sig." = fraction of instances with p <= ' +
    (s.options ? s.options.alpha : 0.05) + '.'));
}
function modelSection(a) {
  const sec = el('section');
  sec.appendChild(el('h2', null, a.name));
  summaryTable(sec, a);
  const grid = el('div', {class: 'grid'});
  sec.appendChild(grid);
  const has = k => a.records.some(r => r[k] !== undefined && r[k] !== null);
  if (has('ag')) tauHist(grid, a, 'ag', 'attention vs gradient');
  if (has('al')) tauHist(grid, a, 'al', 'attention vs leave-one-out');
  if (has('perm')) violinsByMaxAttention(grid, a, 'perm', 'permutation: median output TVD', 'median output TVD');
  if (has('jsd')) { jsdHist(grid, a); violinsByMaxAttention(grid, a, 'jsd', 'adversarial max JSD', 'max JSD'); }
  return sec;
}
function comparison(root) {
  if (LUMEN.analyses.length < 2) return;
  const sec = el('section');
  sec.appendChild(el('h2', null, 'Comparison of the models'));
  sec.appendChild(el('p', {class: 'note'}, 'Jain & Wallace found attention far better correlated with the importances for a ' +
    'context-free encoder (Average) than for a BiLSTM.'));
  const grid = el('div', {class: 'grid'});
  sec.appendChild(grid);
  const keys = [['attention_gradient', 'tau(att, grad)'], ['attention_loo', 'tau(att, LOO)'], ['gradient_loo', 'tau(grad, LOO)']];
  const traces = LUMEN.analyses.map((a, i) => ({type: 'bar', name: a.name, marker: {color: COLORS[i % COLORS.length]},
    x: keys.map(k => k[1]),
    y: keys.map(k => { const v = (a.summary.overall.kendall || {})[k[0]]; return v && v.mean !== null ? v.mean : null; }),
    error_y: {type: 'data', visible: true,
              array: keys.map(k => { const v = (a.summary.overall.kendall || {})[k[0]]; return v && v.std !== null ? v.std : 0; })}}));
  figure(grid, 'Mean Kendall tau per model', traces, {barmode: 'group', yaxis: {title: {text: 'mean tau (± std)'}, range: [-1, 1]}});
  const th = LUMEN.analyses.map((a, i) => ({type: 'histogram', name: a.name, opacity: .6, marker: {color: COLORS[i % COLORS.length]},
    x: a.records.filter(r => r.ag && r.ag[0] !== null).map(r => r.ag[0]), xbins: {start: -1, end: 1.0001, size: 2 / 30}}));
  figure(grid, 'tau(attention, gradient) per model', th, {barmode: 'overlay', xaxis: {title: {text: 'tau'}, range: [-1, 1]}});
  if (LUMEN.analyses.every(a => a.records.some(r => r.jsd !== undefined))) {
    const jt = LUMEN.analyses.map((a, i) => ({type: 'violin', name: a.name, points: false, box: {visible: true},
      line: {color: COLORS[i % COLORS.length]}, y: a.records.map(r => r.jsd)}));
    figure(grid, 'Adversarial max JSD per model', jt, {yaxis: {title: {text: 'max JSD'}, rangemode: 'tozero'}});
  }
  root.appendChild(sec);
}
function controlsSection(root) {
  for (const c of LUMEN.controls || []) {
    const sec = el('section');
    sec.appendChild(el('h2', null, c.title));
    sec.appendChild(el('p', {class: 'note'}, c.description));
    if (c.table) {
      const t = el('table');
      const head = el('tr');
      for (const h of c.table.columns) head.appendChild(el('th', null, h));
      t.appendChild(head);
      for (const row of c.table.rows) { const tr = el('tr'); for (const v of row) tr.appendChild(el('td', null, typeof v === 'number' ? fmt(v, 4) : String(v))); t.appendChild(tr); }
      sec.appendChild(t);
    }
    const grid = el('div', {class: 'grid'});
    sec.appendChild(grid);
    for (const f of c.figures || []) figure(grid, f.title, f.traces, f.layout || {});
    root.appendChild(sec);
  }
}
function heatRow(parent, label, tokens, values, rat, color) {
  if (!values) return;
  const row = el('div', {class: 'hm'});
  row.appendChild(el('div', {class: 'lbl'}, label));
  const toks = el('div', {class: 'toks'});
  let mx = 0;
  for (const v of values) if (v !== null && Math.abs(v) > mx) mx = Math.abs(v);
  tokens.forEach((t, i) => {
    const v = values[i], s = el('span', {class: 'tk' + (rat.has(i) ? ' rat' : '')}, t);
    const alpha = v === null || mx === 0 ? 0 : Math.abs(v) / mx;
    s.style.background = 'rgba(' + color + ',' + alpha.toFixed(3) + ')';
    s.title = label + ': ' + (v === null ? 'undefined' : v);
    toks.appendChild(s);
  });
  row.appendChild(toks);
  parent.appendChild(row);
}
function browser(root) {
  const sec = el('section');
  sec.appendChild(el('h2', null, 'Instances'));
  sec.appendChild(el('p', {class: 'note'}, 'Each text as heatmaps (scaled per row to its maximum) of the attention, the ' +
    'gradient and leave-one-out importances, and the adversarial attention that keeps the output within epsilon. ' +
    'Dashed outline: the true rationale (synthetic tasks).'));
  const ctl = el('div', {class: 'controls'});
  const model = el('select'), cls = el('select'), sort = el('select'), search = el('input', {type: 'search', placeholder: 'find a word'});
  LUMEN.analyses.forEach((a, i) => model.appendChild(el('option', {value: i}, a.name)));
  const sorts = [['index', 'in order'], ['ag', 'lowest tau(att, grad)'], ['jsd', 'largest adversarial JSD'], ['perm', 'largest permutation TVD']];
  for (const [v, t] of sorts) sort.appendChild(el('option', {value: v}, t));
  const prev = el('button', {type: 'button'}, '◀'), next = el('button', {type: 'button'}, '▶'), pos = el('span', {class: 'note'});
  for (const x of [el('span', null, 'model '), model, el('span', null, 'class '), cls, el('span', null, 'sort '), sort, search, prev, next, pos]) ctl.appendChild(x);
  sec.appendChild(ctl);
  const list = el('div');
  sec.appendChild(list);
  let page = 0;
  const PER = 15;
  function fillClasses() {
    cls.textContent = '';
    cls.appendChild(el('option', {value: ''}, 'all'));
    for (const c of classes(LUMEN.analyses[model.value].records)) cls.appendChild(el('option', {value: c}, c));
  }
  function render() {
    const a = LUMEN.analyses[model.value];
    let rs = a.records.filter(r => (cls.value === '' || r.yhat === cls.value) &&
                                   (search.value === '' || r.tok.includes(search.value.toLowerCase())));
    const key = sort.value;
    if (key === 'ag') rs = rs.slice().sort((x, y) => (x.ag && x.ag[0] !== null ? x.ag[0] : 2) - (y.ag && y.ag[0] !== null ? y.ag[0] : 2));
    else if (key !== 'index') rs = rs.slice().sort((x, y) => (y[key] || 0) - (x[key] || 0));
    const pages = Math.max(1, Math.ceil(rs.length / PER));
    page = Math.min(Math.max(page, 0), pages - 1);
    pos.textContent = ' page ' + (page + 1) + ' / ' + pages + ' (' + rs.length + ' instances)';
    list.textContent = '';
    for (const r of rs.slice(page * PER, page * PER + PER)) {
      const d = el('div', {class: 'inst'});
      d.appendChild(el('div', {class: 'meta'}, '#' + r.i + '  label ' + r.y + ', predicted ' + r.yhat +
        '  tau(att, grad) ' + fmt(r.ag && r.ag[0]) + '  tau(att, LOO) ' + fmt(r.al && r.al[0]) +
        '  permutation TVD ' + fmt(r.perm, 4) + '  adversarial JSD ' + fmt(r.jsd) + ' (output TVD ' + fmt(r.advtvd, 4) + ')'));
      const rat = new Set(r.rat || []);
      heatRow(d, 'attention', r.tok, r.att, rat, '214,39,40');
      heatRow(d, 'gradient', r.tok, r.grad, rat, '31,119,180');
      heatRow(d, 'leave-one-out', r.tok, r.loo, rat, '44,160,44');
      heatRow(d, 'adversarial', r.tok, r.adv, rat, '148,103,189');
      list.appendChild(d);
    }
  }
  model.addEventListener('change', () => { fillClasses(); page = 0; render(); });
  for (const x of [cls, sort]) x.addEventListener('change', () => { page = 0; render(); });
  search.addEventListener('input', () => { page = 0; render(); });
  prev.addEventListener('click', () => { page--; render(); });
  next.addEventListener('click', () => { page++; render(); });
  fillClasses();
  render();
  root.appendChild(sec);
}
try {
  const root = document.querySelector('main');
  comparison(root);
  for (const a of LUMEN.analyses) root.appendChild(modelSection(a));
  controlsSection(root);
  browser(root);
  Promise.all(pending).then(() => {
    document.body.dataset.figures = String(figures);
    document.body.dataset.status = errors.length ? 'error' : 'ok';
  }, e => { errors.push(String(e)); document.body.dataset.status = 'error'; });
} catch (e) {
  errors.push(String(e));
  document.body.dataset.status = 'error';
  throw e;
}
)JS";

}  // namespace

std::string render_analysis_report(const std::vector<AnalysisData>& analyses, const ReportExtras& extras,
                                   const std::string& title_in) {
  if (analyses.empty()) throw InvalidArgument("report: no analysis to show");
  Json data = {{"analyses", Json::array()}, {"controls", extras.controls}};
  std::string names;
  for (const auto& a : analyses) {
    Json recs = Json::array();
    for (const auto& r : a.records) recs.push_back(compact(r));
    data["analyses"].push_back({{"name", a.name}, {"summary", a.summary}, {"records", std::move(recs)}});
    names += (names.empty() ? "" : ", ") + a.name;
  }
  const std::string title = title_in.empty() ? "Does attention explain? " + names : title_in;
  const Json& s0 = analyses[0].summary;
  std::string html;
  html.reserve(plotly_js().size() + (1 << 20));
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  html += html_escape(title);
  html += "</title>\n<style>";
  html += kStyle;
  html += "</style>\n<script>/* plotly.js ";
  html += plotly_version();
  html += " (MIT) */\n";
  html += plotly_js();
  html += "\n</script>\n</head>\n<body data-status=\"loading\">\n<header><h1>";
  html += html_escape(title);
  html += "</h1><p>Lumen: Jain &amp; Wallace (2019), &ldquo;Attention is not Explanation&rdquo;, on ";
  html += html_escape(s0.value("data", std::string("?")) + " (" + s0.value("split", std::string("?")) + " split)");
  html += "</p></header>\n<main></main>\n<script type=\"application/json\" id=\"lumen-data\">";
  html += script_safe_json(data);
  html += "</script>\n<script>";
  html += kScript;
  html += "</script>\n</body>\n</html>\n";
  return html;
}

void write_analysis_report(const std::string& path, const std::vector<AnalysisData>& analyses,
                           const ReportExtras& extras, const std::string& title) {
  write_file_atomic(path, render_analysis_report(analyses, extras, title));
}

}  // namespace lumen::report
