#include "report/influence_view.h"

#include "core/fs.h"
#include "report/page.h"

namespace lumen::report {

namespace {
const char* kScript = R"JS(
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function fmt(x) { return x === null || x === undefined ? 'n/a' : (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(3)); }
function build(root) {
  const d = LUMEN;
  const t = el('table', 'summary');
  const rows = [['method', d.method], ['parameters', d.parameters.spec + ' (' + d.parameters.count + ' values)'], ['sign', d.sign],
    ['converged', String(d.diagnostics.converged === undefined ? true : d.diagnostics.converged)]];
  if (d.diagnostics.diagnosis) rows.push(['diagnosis', d.diagnostics.diagnosis]);
  if (d.diagnostics.max_relative_residual !== undefined) rows.push(['max solver residual', fmt(d.diagnostics.max_relative_residual)]);
  if (d.diagnostics.seconds !== undefined) rows.push(['seconds', fmt(d.diagnostics.seconds)]);
  for (const [k, v] of rows) { const tr = el('tr'); tr.appendChild(el('th', '', k)); tr.appendChild(el('td', '', String(v))); t.appendChild(tr); }
  root.appendChild(t);
  function entries(title, list, cls) {
    const box = el('div', 'side ' + cls); box.appendChild(el('h4', '', title));
    if (list.length === 0) box.appendChild(el('p', '', 'none'));
    for (const e of list) { const p = el('p', 'entry'); p.appendChild(el('span', 'score', fmt(e.score))); p.appendChild(el('span', 'label', e.label_name)); p.appendChild(el('span', 'text', e.text || ('#' + e.train))); box.appendChild(p); }
    return box;
  }
  for (const ti of d.tests) {
    const s = el('div', 'test');
    s.appendChild(el('h3', '', 'Test ' + ti.test + (ti.source ? ' (' + ti.source + ')' : '') + ': explained label ' + ti.label_name + ', predicted ' + ti.predicted_name + ', loss ' + fmt(ti.loss)));
    s.appendChild(el('p', 'tokens', ti.text || ''));
    const two = el('div', 'two'); two.appendChild(entries('Proponents (helpful)', ti.proponents, 'pro')); two.appendChild(entries('Opponents (harmful)', ti.opponents, 'opp'));
    s.appendChild(two);
    const fig = el('div'); s.appendChild(fig);
    const h = ti.distribution.histogram, w = (ti.distribution.max - ti.distribution.min) / Math.max(h.length, 1);
    figure(fig, 'Scores over the training set', [{type: 'bar', x: h.map((_, i) => ti.distribution.min + (i + 0.5) * w), y: h}], {xaxis: {title: 'score'}, yaxis: {title: 'training examples'}, height: 260});
    root.appendChild(s);
  }
  if (d.self_influence_ranking) {
    root.appendChild(el('h2', '', 'Self-influence (likely mislabelled or unusual first)'));
    root.appendChild(entries('Highest self-influence', d.self_influence_ranking, 'self'));
  }
  const st = el('style'); st.textContent = '.summary th{text-align:left;padding-right:16px}.test{border-top:1px solid #ccc;margin:12px 0}.two{display:flex;gap:16px}.side{flex:1}.entry{margin:4px 0}.score{display:inline-block;width:90px;font-family:monospace}.label{display:inline-block;width:80px;font-weight:bold}.pro .score{color:#060}.opp .score{color:#a00}';
  document.head.appendChild(st);
}
)JS";
}  // namespace

std::string render_influence_view(const Json& document, const std::string& title) {
  return render_page(title, "Which training examples made each prediction", document, kScript);
}

void write_influence_view(const std::string& path, const Json& document, const std::string& title) {
  write_file_atomic(path, render_influence_view(document, title));
}

}  // namespace lumen::report
