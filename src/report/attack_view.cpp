#include "report/attack_view.h"

#include "core/fs.h"
#include "report/page.h"

namespace lumen::report {

namespace {
const char* kScript = R"JS(
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function fmt(x, d) { return x === null || x === undefined ? 'n/a' : (typeof x === 'number' ? x.toFixed(d === undefined ? 3 : d) : String(x)); }
function build(root) {
  const s = LUMEN.summary, recs = LUMEN.records;
  const t = el('table', 'summary');
  const rows = [['recipe', s.recipe], ['examples', s.total], ['succeeded / failed / skipped', s.succeeded + ' / ' + s.failed + ' / ' + s.skipped],
    ['original accuracy', fmt(s.original_accuracy)], ['accuracy under attack', fmt(s.accuracy_under_attack)],
    ['attack success rate', fmt(s.success_rate)], ['perturbed word %', fmt(s.perturbed_word_percent, 1)],
    ['words per input', fmt(s.words_per_input, 1)], ['queries per example', fmt(s.queries_per_example, 1)],
    ['examples per second', fmt(s.examples_per_second, 1)], ['model / constraint seconds', fmt(s.timings.model_s, 2) + ' / ' + fmt(s.timings.constraints_s, 2)],
    ['mean model batch', fmt(s.timings.mean_batch, 1)]];
  if (s.verification) rows.push(['re-checked / violations', s.verification.checked + ' / ' + s.verification.violations]);
  if (s.rationale) rows.push(['changed words on the known rationale', fmt(s.rationale.share)]);
  for (const [k, v] of rows) { const tr = el('tr'); tr.appendChild(el('th', '', k)); tr.appendChild(el('td', '', String(v))); t.appendChild(tr); }
  root.appendChild(t);
  const fig = el('div'); root.appendChild(fig);
  const shares = recs.filter(r => r.status === 'succeeded').map(r => 100 * r.perturbed_word_share);
  figure(fig, 'Outcomes', [{type: 'bar', x: ['succeeded', 'failed', 'skipped'], y: [s.succeeded, s.failed, s.skipped]}], {yaxis: {title: 'examples'}});
  const fig2 = el('div'); root.appendChild(fig2);
  figure(fig2, 'Perturbed words of successful attacks', [{type: 'histogram', x: shares}], {xaxis: {title: 'perturbed words (%)'}, yaxis: {title: 'examples'}});
  const filter = el('select'); for (const k of ['succeeded', 'failed', 'skipped', 'all']) { const o = el('option', '', k); o.value = k; filter.appendChild(o); }
  root.appendChild(el('h2', '', 'Examples')); root.appendChild(filter);
  const list = el('div'); root.appendChild(list);
  function text(tokens, changed, cls) { const p = el('p', 'tokens'); tokens.forEach((w, i) => { const sp = el('span', changed.has(i) ? cls : '', w); p.appendChild(sp); p.appendChild(document.createTextNode(' ')); }); return p; }
  function draw() {
    list.textContent = '';
    const shown = recs.filter(r => filter.value === 'all' || r.status === filter.value).slice(0, 500);
    for (const r of shown) {
      const d = el('div', 'example ' + r.status);
      d.appendChild(el('h3', '', '#' + r.index + ' ' + r.status + (r.reason ? ' (' + r.reason + ')' : '') + ', label ' + r.label + ', ' + r.queries + ' queries'));
      const changed = new Set((r.edits || []).filter(e => e.kind !== 'insert').map(e => e.position));
      const landed = new Set((r.edits || []).filter(e => e.kind !== 'delete').map(e => e.perturbed_position ?? e.position));
      d.appendChild(el('div', 'pred', 'original: ' + r.original.prediction + ' (' + fmt(Math.max(...r.original.probabilities)) + ')'));
      d.appendChild(text(r.original.tokens, changed, 'old'));
      if (r.perturbed) {
        d.appendChild(el('div', 'pred', 'perturbed: ' + r.perturbed.prediction + ' (' + fmt(Math.max(...r.perturbed.probabilities)) + ')'));
        d.appendChild(text(r.perturbed.tokens, landed, 'new'));
      }
      list.appendChild(d);
    }
    if (shown.length === 0) list.appendChild(el('p', '', 'No examples with this outcome.'));
  }
  filter.value = recs.some(r => r.status === 'succeeded') ? 'succeeded' : 'all';
  filter.addEventListener('change', draw);
  draw();
  const st = el('style'); st.textContent = '.old{background:#fdd;text-decoration:line-through}.new{background:#dfd;font-weight:bold}.example{border-top:1px solid #ccc;margin:8px 0}.tokens{line-height:1.6}.summary th{text-align:left;padding-right:16px}';
  document.head.appendChild(st);
}
)JS";
}  // namespace

std::string render_attack_view(const Json& summary, const Json& records, const std::string& title) {
  return render_page(title, "Adversarial examples: " + summary.value("recipe", std::string()),
                     Json{{"summary", summary}, {"records", records}}, kScript);
}

void write_attack_view(const std::string& path, const Json& summary, const Json& records, const std::string& title) {
  write_file_atomic(path, render_attack_view(summary, records, title));
}

}  // namespace lumen::report
