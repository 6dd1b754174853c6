// The side-by-side heatmap: one row per token, one column per method, coloured by score (each
// column scaled by its largest |score|). Only the rows in view are in the DOM, so a
// 2,000-token text scrolls as smoothly as a short one. The attention column is editable: drag
// a token's bar to set its weight, x to zero it.
import { el, clear, scoreColor, maxAbs, fmt } from './dom.js';

const ROW = 22;
const HEAD = 24;

export class Heatmap {
  constructor(container, onEdit) {
    this.container = container;
    this.onEdit = onEdit;
    this.data = null;
    this.box = null;
  }

  // data: {tokens, columns: [{name, scores}], attention: {weights, edited, editable} | null}
  render(data) {
    this.data = data;
    clear(this.container);
    const n = data.tokens.length;
    this.scales = data.columns.map((c) => maxAbs(c.scores));
    // The attention column's full width: twice the largest weight (at most 1), so that a token
    // dragged to the end becomes the most attended one.
    this.attScale = data.attention ? Math.min(1, 2 * Math.max(...data.attention.weights, 1e-12)) : 0;
    const cols = ['3.5em', 'minmax(7em, 12em)'];
    if (data.attention) cols.push('10em');
    for (let i = 0; i < data.columns.length; i++) cols.push('minmax(5.5em, 1fr)');
    this.template = cols.join(' ');
    const box = el('div', { class: 'heatmap', id: 'heatmap-box', dataset: { rows: String(n) } });
    const head = el('div', { class: 'head' });
    head.style.gridTemplateColumns = this.template;
    head.append(el('div', { class: 'cell pos', text: '#' }), el('div', { class: 'cell', text: 'token' }));
    if (data.attention) head.append(el('div', { class: 'cell', text: data.attention.edited ? 'attention (edited)' : 'attention (drag / x)' }));
    for (const c of data.columns) head.append(el('div', { class: 'cell', text: c.name, title: c.name }));
    const spacer = el('div');
    spacer.style.height = `${HEAD + n * ROW}px`;
    this.rows = el('div');
    box.append(head, spacer, this.rows);
    box.style.height = `${Math.min(520, HEAD + n * ROW + 4)}px`;
    box.addEventListener('scroll', () => this.paint());
    this.container.append(
      el('div', { class: 'legend', text: `${n} tokens. Red supports the explained class, blue opposes it; each column is scaled to its largest |score|.` }),
      box,
    );
    this.box = box;
    this.paint();
  }

  paint() {
    const { data, box } = this;
    if (!data || !box) return;
    const n = data.tokens.length;
    const first = Math.max(0, Math.floor((box.scrollTop - HEAD) / ROW) - 10);
    const last = Math.min(n, first + Math.ceil((box.clientHeight || 520) / ROW) + 20);
    clear(this.rows);
    for (let i = first; i < last; i++) this.rows.append(this.row(i));
  }

  row(i) {
    const { data } = this;
    const r = el('div', { class: 'hrow', dataset: { index: String(i) } });
    r.style.gridTemplateColumns = this.template;
    r.style.top = `${HEAD + i * ROW}px`;
    r.append(el('div', { class: 'cell pos', text: String(i) }), el('div', { class: 'cell token', text: data.tokens[i], title: data.tokens[i] }));
    if (data.attention) r.append(this.attentionCell(i));
    data.columns.forEach((c, k) => {
      const v = c.scores[i];
      const cell = el('div', { class: 'cell score', text: fmt(v), title: `${c.name}: ${v}` });
      cell.style.background = scoreColor(v, this.scales[k]);
      r.append(cell);
    });
    return r;
  }

  attentionCell(i) {
    const att = this.data.attention;
    const w = att.weights[i];
    const cell = el('div', { class: `cell att${att.edited ? ' edited' : ''}`, dataset: { index: String(i) }, title: `weight ${w}` });
    const bar = el('div', { class: 'w' });
    bar.style.width = `${Math.min(100, (100 * w) / this.attScale)}%`;
    const zero = el('button', { class: 'zero', type: 'button', title: 'zero this weight', text: 'x' });
    zero.addEventListener('mousedown', (ev) => ev.stopPropagation());
    zero.addEventListener('click', (ev) => {
      ev.stopPropagation();
      this.onEdit({ kind: 'zero', index: i });
    });
    cell.append(bar, el('span', { class: 'v', text: fmt(w) }), zero);
    cell.addEventListener('mousedown', (ev) => this.drag(ev, cell, bar, i));
    return cell;
  }

  drag(ev, cell, bar, i) {
    ev.preventDefault();
    const rect = cell.getBoundingClientRect();
    const scale = this.attScale;
    const weightAt = (x) => Math.max(0, Math.min(1, (x - rect.left) / rect.width)) * scale;
    let weight = weightAt(ev.clientX);
    bar.style.width = `${(100 * weight) / scale}%`;
    const move = (e) => {
      weight = weightAt(e.clientX);
      bar.style.width = `${(100 * weight) / scale}%`;
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      this.onEdit({ kind: 'set', index: i, weight });
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }
}

// The same table as a standalone SVG (every row, not only those in view).
export function heatmapSvg(data, title) {
  const cw = 90, tw = 140, rh = 18, top = 40;
  const cols = data.columns;
  const width = 40 + tw + cols.length * cw;
  const height = top + data.tokens.length * rh + 10;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`, `<text x="4" y="14" font-size="13" font-weight="bold">${esc(title)}</text>`];
  cols.forEach((c, k) => parts.push(`<text x="${40 + tw + k * cw + 4}" y="${top - 6}" font-weight="bold">${esc(c.name)}</text>`));
  const scales = cols.map((c) => maxAbs(c.scores));
  data.tokens.forEach((t, i) => {
    const y = top + i * rh;
    parts.push(`<text x="4" y="${y + 13}" fill="#99a">${i}</text><text x="40" y="${y + 13}">${esc(t)}</text>`);
    cols.forEach((c, k) => {
      parts.push(`<rect x="${40 + tw + k * cw}" y="${y}" width="${cw - 2}" height="${rh - 2}" fill="${scoreColor(c.scores[i], scales[k])}"/>`);
      parts.push(`<text x="${40 + tw + k * cw + 4}" y="${y + 13}">${esc(fmt(c.scores[i]))}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

// A PNG of the table, drawn on a canvas (capped at 4,000 rows).
export function heatmapPng(data, title) {
  const cw = 90, tw = 140, rh = 18, top = 40;
  const rows = Math.min(data.tokens.length, 4000);
  const canvas = document.createElement('canvas');
  canvas.width = 40 + tw + data.columns.length * cw;
  canvas.height = top + rows * rh + 10;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.font = 'bold 13px sans-serif';
  g.fillStyle = '#000';
  g.fillText(title, 4, 14);
  g.font = '11px sans-serif';
  const scales = data.columns.map((c) => maxAbs(c.scores));
  data.columns.forEach((c, k) => g.fillText(c.name, 40 + tw + k * cw + 4, top - 6));
  for (let i = 0; i < rows; i++) {
    const y = top + i * rh;
    g.fillStyle = '#000';
    g.fillText(data.tokens[i], 40, y + 13);
    data.columns.forEach((c, k) => {
      g.fillStyle = scoreColor(c.scores[i], scales[k]);
      g.fillRect(40 + tw + k * cw, y, cw - 2, rh - 2);
      g.fillStyle = '#000';
      g.fillText(fmt(c.scores[i]), 40 + tw + k * cw + 4, y + 13);
    });
  }
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}
