#include "report/analysis_report.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/fs.h"
#include "report/page.h"

namespace lumen::report {

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
  if (r.contains("erasure")) {
    // Per ranking the fraction of the tokens erased at the first decision flip (null: none).
    Json er = Json::object();
    for (const auto& [name, o] : r["erasure"]["orders"].items()) er[name] = round4(o["fraction"]);
    c["er"] = er;
    c["djs"] = round4(r["erasure"]["delta_jsd"]);
  }
  if (r.contains("adversarial")) {
    c["adv"] = round4(r["adversarial"]["attention"]);
    c["jsd"] = round4(r["adversarial"]["jsd"]);
    c["advtvd"] = round4(r["adversarial"]["tvd"]);
  }
  return c;
}



const char* kScript = R"JS(
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
                   'perm. median TVD', 'max JSD mean', 'JSD > 0.4', 'conicity', 'attention F1 vs rationale'])
    head.appendChild(el('th', null, h));
  t.appendChild(head);
  const groups = [['all', s.overall]].concat(Object.entries(s.by_predicted_class || {}).map(([k, v]) => ['predicted ' + k, v]));
  for (const [g, v] of groups) {
    const k = v.kendall || {}, tr = el('tr');
    const tau = x => x ? fmt(x.mean) + ' ± ' + fmt(x.std) : '–';
    const cells = [g, v.instances, tau(k.attention_gradient), k.attention_gradient ? fmt(k.attention_gradient.significant_fraction, 2) : '–',
                   tau(k.attention_loo), k.attention_loo ? fmt(k.attention_loo.significant_fraction, 2) : '–', tau(k.gradient_loo),
                   v.permutation ? fmt(v.permutation.median_tvd.median, 4) : '–',
                   v.adversarial ? fmt(v.adversarial.max_jsd.mean) : '–',
                   v.adversarial ? fmt(v.adversarial['fraction_jsd_above_0.4'], 2) : '–',
                   v.conicity && v.conicity.mean !== null && v.conicity.mean !== undefined ? fmt(v.conicity.mean) : '–',
                   v.plausibility && v.plausibility.attention ? fmt(v.plausibility.attention.token_f1.mean) : '–'];
    for (const c of cells) tr.appendChild(el('td', null, String(c)));
    t.appendChild(tr);
  }
  parent.appendChild(t);
  const sec = s.seconds || {};
  parent.appendChild(el('p', {class: 'note'},
    'Data ' + s.data + ' (' + s.split + '), encoder ' + (s.model ? s.model.encoder + ' + ' + s.model.attention + ' attention' : '?') +
    ', accuracy ' + fmt(s.accuracy) + '. Analysis time ' + fmt(sec.total, 1) + ' s (gradients ' + fmt(sec.gradient, 2) +
    ', leave-one-out ' + fmt(sec.loo, 2) + ', permutations ' + fmt(sec.permutation, 2) + ', adversarial ' +
    fmt(sec.adversarial, 2) + (sec.erasure ? ', erasure ' + fmt(sec.erasure, 2) : '') + ', statistics ' + fmt(sec.statistics, 2) + '). "sig." = fraction of instances with p <= ' +
    (s.options ? s.options.alpha : 0.05) + '.'));
}
function erasureSection(parent, a) {
  // Serrano & Smith (2019): erase the top weights of each ranking until the decision flips.
  const e = (a.summary.overall || {}).erasure;
  if (!e) return;
  const names = Object.keys(e.orders);
  const t = el('table');
  const head = el('tr');
  for (const h of ['erasure order', 'decision flips', 'median share of tokens erased', 'median attention mass erased']) head.appendChild(el('th', null, h));
  t.appendChild(head);
  for (const n of names) {
    const o = e.orders[n], tr = el('tr');
    for (const c of [n, fmt(o.flip_rate, 2), fmt(o.fraction_removed.median), fmt(o.mass_removed.median)]) tr.appendChild(el('td', null, String(c)));
    t.appendChild(tr);
  }
  parent.appendChild(t);
  const f = e.single_flips;
  parent.appendChild(el('p', {class: 'note'}, 'Serrano & Smith\'s erasure test: erasing the top-attended token flips ' +
    (f.top_only + f.both) + ' decisions and a random other token ' + (f.random_only + f.both) + ' (neither: ' + f.neither +
    '); JS(p, p without top) - JS(p, p without random) is positive for ' + fmt(e.fraction_delta_jsd_positive, 2) +
    ' of the instances. Shares are over the instances whose decision flips before one token is left.'));
  const grid = el('div', {class: 'grid'});
  parent.appendChild(grid);
  const traces = names.map((n, i) => ({type: 'box', name: n, marker: {color: COLORS[i % COLORS.length]}, boxmean: true,
    y: a.records.filter(r => r.er && r.er[n] !== null && r.er[n] !== undefined).map(r => r.er[n])}));
  figure(grid, a.name + ': share of tokens erased before the decision flips', traces,
         {yaxis: {title: {text: 'share of tokens erased'}, range: [0, 1]}, showlegend: false});
  const dj = [{type: 'histogram', marker: {color: COLORS[0]}, x: a.records.filter(r => r.djs !== undefined && r.djs !== null).map(r => r.djs), nbinsx: 40}];
  figure(grid, a.name + ': JS(top erased) - JS(random erased)', dj,
         {xaxis: {title: {text: 'delta JS divergence'}}, yaxis: {title: {text: 'instances'}}});
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
  if (has('er')) erasureSection(sec, a);
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
function build(root) {
  comparison(root);
  for (const a of LUMEN.analyses) root.appendChild(modelSection(a));
  controlsSection(root);
  browser(root);
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
  const std::string subtitle = "Lumen: Jain & Wallace (2019), \u201cAttention is not Explanation\u201d, on " +
                               s0.value("data", std::string("?")) + " (" + s0.value("split", std::string("?")) + " split)";
  return render_page(title, subtitle, data, kScript);
}

void write_analysis_report(const std::string& path, const std::vector<AnalysisData>& analyses,
                           const ReportExtras& extras, const std::string& title) {
  write_file_atomic(path, render_analysis_report(analyses, extras, title));
}

}  // namespace lumen::report
