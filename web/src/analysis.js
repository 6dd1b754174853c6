// The instance's "Attention is not Explanation" analysis (`lumen analyze`'s record for these
// tokens, when the run was analysed): Kendall tau of attention against gradients and
// leave-one-out, the permutation test, and the adversarial attention that keeps the prediction,
// drawn beside the model's own attention; the permutation test's distribution as a histogram.
import { el, clear, fmt } from './dom.js';

function bars(tokens, series) {
  // SVG string: per token one bar per series ([{name, values, color}]).
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rh = 16, left = 140, width = 360, top = 24;
  const max = Math.max(1e-12, ...series.flatMap((s) => s.values));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" id="adversarial-bars" width="${left + width + 80}" height="${top + tokens.length * rh * series.length + 10}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="#fff"/>'];
  series.forEach((s, k) => parts.push(`<rect x="${left + k * 150}" y="4" width="10" height="10" fill="${s.color}"/><text x="${left + k * 150 + 14}" y="13">${esc(s.name)}</text>`));
  tokens.forEach((t, i) => {
    const y = top + i * rh * series.length;
    parts.push(`<text x="${left - 4}" y="${y + rh - 4}" text-anchor="end">${esc(t)}</text>`);
    series.forEach((s, k) => parts.push(`<rect x="${left}" y="${y + k * rh + 2}" width="${(width * s.values[i]) / max}" height="${rh - 4}" fill="${s.color}"/>`));
  });
  parts.push('</svg>');
  return parts.join('');
}

function histogram(values, bins = 20) {
  // SVG string: the permutation test's output TVDs, binned; the median marked.
  const w = 420, h = 140, left = 40, bottom = 24, top = 10;
  const max = Math.max(1e-9, ...values);
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))] += 1;
  const peak = Math.max(1, ...counts);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const bw = (w - left - 10) / bins, plotH = h - bottom - top;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" id="permutation-histogram" width="${w}" height="${h}" font-family="sans-serif" font-size="10">`,
    '<rect width="100%" height="100%" fill="#fff"/>'];
  counts.forEach((c, i) => parts.push(`<rect class="bin" x="${left + i * bw + 1}" y="${top + plotH - (plotH * c) / peak}" width="${bw - 2}" height="${(plotH * c) / peak}" fill="#4a78c2"><title>${c}</title></rect>`));
  const mx = left + ((w - left - 10) * mid) / max;
  parts.push(`<line x1="${mx}" x2="${mx}" y1="${top}" y2="${top + plotH}" stroke="#d0742c" stroke-width="2"/>`);
  parts.push(`<text x="${left}" y="${h - 8}">0</text><text x="${w - 10}" y="${h - 8}" text-anchor="end">${max.toPrecision(3)}</text>`);
  parts.push(`<text x="${(left + w) / 2}" y="${h - 8}" text-anchor="middle">output TVD under permuted attention (median in orange)</text>`);
  parts.push(`<text x="4" y="${top + 8}">${peak}</text></svg>`);
  return parts.join('');
}

function appendSvg(container, svg) {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  container.append(document.importNode(doc.documentElement, true));
}

export function renderAnalysis(container, answer) {
  clear(container);
  if (!answer) return;
  if (!answer.found) {
    container.append(el('p', { class: 'note', id: 'analysis-missing', text: answer.hint }));
    return;
  }
  const r = answer.record;
  container.append(el('p', { text: `Analysed instance ${r.index} of the ${answer.split} split: label ${r.label ?? '?'}, predicted ${r.prediction}.` }));
  const table = el('table', { class: 'taus', id: 'analysis-taus' },
    el('tr', {}, el('th', { text: 'Kendall tau' }), el('th', { text: 'this instance' }), el('th', { text: 'p' }), el('th', { text: 'mean over the split' })));
  const names = { attention_gradient: 'attention vs gradient', attention_loo: 'attention vs leave-one-out', gradient_loo: 'gradient vs leave-one-out' };
  for (const [k, label] of Object.entries(names)) {
    const t = r.kendall && r.kendall[k];
    if (!t) continue;
    const overall = answer.overall && answer.overall.kendall && answer.overall.kendall[k];
    table.append(el('tr', { dataset: { tau: k } }, el('td', { text: label }), el('td', { text: fmt(t.tau) }), el('td', { text: fmt(t.p_value) }),
      el('td', { text: overall && overall.mean !== undefined ? fmt(overall.mean) : '' })));
  }
  container.append(table);
  if (r.permutation) {
    container.append(el('p', { text: `Permutation test: median TVD of the output over random permutations of the attention ${fmt(r.permutation.median_tvd)} (mean ${fmt(r.permutation.mean_tvd)}), with the largest attention weight ${fmt(r.permutation.max_attention)}. A small TVD means the output hardly depends on which token gets which weight.` }));
    if (r.permutation.tvds && r.permutation.tvds.length) appendSvg(container, histogram(r.permutation.tvds));
  }
  if (r.adversarial) {
    const a = r.adversarial;
    container.append(el('p', { text: `Adversarial attention: JSD ${fmt(a.jsd)} from the model's attention while the output moves by TVD ${fmt(a.tvd)} (within epsilon: ${a.within_epsilon}). A large JSD at a small TVD is a very different attention that keeps the prediction.` }));
    const svg = bars(r.tokens, [{ name: 'model attention', values: r.attention, color: '#4a78c2' }, { name: 'adversarial attention', values: a.attention, color: '#d0742c' }]);
    appendSvg(container, svg);
  }
}
