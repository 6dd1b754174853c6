// Attention views: the layer x head grid of self-attention maps, the bipartite token graph
// (self-attention of one head, or the pooling attention the output reads) and the rollout /
// flow matrices. Maps come from the explain document's "attention" (positions <s> tokens </s>).
import { el, clear } from './dom.js';

function drawMatrix(canvas, m, size) {
  const n = m.length;
  canvas.width = n;
  canvas.height = n;
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  const g = canvas.getContext('2d');
  const img = g.createImageData(n, n);
  let max = 1e-12;
  for (const row of m) for (const v of row) if (v > max) max = v;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const a = Math.min(1, m[i][j] / max);
      const k = 4 * (i * n + j);
      img.data[k] = 255 - Math.round(200 * a);
      img.data[k + 1] = 255 - Math.round(150 * a);
      img.data[k + 2] = 255 - Math.round(60 * a);
      img.data[k + 3] = 255;
    }
  g.putImageData(img, 0, 0);
}

function meanHeads(heads) {
  const n = heads[0].length;
  const out = Array.from({ length: n }, () => new Array(n).fill(0));
  for (const h of heads) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i][j] += h[i][j] / heads.length;
  return out;
}

export function positions(inst) {
  return ['<s>', ...inst.tokens, '</s>'];
}

// Layer x head grid; `selected` {layer, head}; onSelect(layer, head); onUniform(layer, head).
export function renderGrid(container, att, selected, onSelect, onUniform) {
  clear(container);
  if (!att || !att.layers || att.layers.length === 0) {
    container.append(el('p', { class: 'note', text: att && att.omitted ? att.omitted : 'This model has no self-attention layers (only the pooling attention: see the heatmaps and the token graph).' }));
    return;
  }
  const H = att.layers[0].length;
  const grid = el('div', { class: 'grid', id: 'layer-head-grid' });
  grid.style.gridTemplateColumns = `repeat(${H}, 130px)`;
  att.layers.forEach((heads, l) =>
    heads.forEach((m, h) => {
      const c = el('canvas');
      drawMatrix(c, m, 120);
      const fig = el('figure', { class: selected && selected.layer === l && selected.head === h ? 'selected' : '', dataset: { layer: String(l), head: String(h) } },
        c, el('figcaption', { text: `layer ${l} head ${h}` }));
      fig.addEventListener('click', () => onSelect(l, h));
      const u = el('button', { type: 'button', text: 'uniform', title: `make layer ${l} head ${h} uniform` });
      u.addEventListener('click', (ev) => {
        ev.stopPropagation();
        onUniform(l, h);
      });
      fig.append(u);
      grid.append(fig);
    }),
  );
  container.append(el('p', { class: 'legend', text: 'Rows are queries, columns keys (positions <s> tokens </s>). Click a map to show it as a token graph.' }), grid);
}

// The bipartite graph as an SVG string: queries left, keys right, each query's strongest edges.
export function graphSvg(inst, att, selected, pair) {
  const pos = positions(inst);
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rh = 18, top = 30, left = 150, right = 480;
  let title, edges = [], leftLabels;
  if (att && att.layers && att.layers.length > 0) {
    const l = selected ? selected.layer : 0;
    const heads = att.layers[l];
    const m = selected && selected.head >= 0 ? heads[selected.head] : meanHeads(heads);
    title = `self-attention layer ${l}, ${selected && selected.head >= 0 ? 'head ' + selected.head : 'mean of heads'}`;
    leftLabels = pos;
    m.forEach((row, i) => {
      const top3 = row.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 3);
      for (const [v, j] of top3) edges.push([i, j, v]);
    });
  } else if (att && att.pooling) {
    title = pair ? 'pooling attention (the second text queries the first)' : 'pooling attention (the output reads the tokens)';
    leftLabels = [pair ? 'second text' : 'output'];
    att.pooling.forEach((v, j) => edges.push([0, j, v]));
  } else {
    return null;
  }
  const height = top + Math.max(leftLabels.length, pos.length) * rh + 10;
  const max = Math.max(...edges.map((e) => e[2]), 1e-12);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" id="token-graph" width="${right + 160}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`, `<text x="4" y="14" font-weight="bold">${esc(title)}</text>`];
  for (const [i, j, v] of edges) {
    if (v <= 0) continue;
    out.push(`<line x1="${left + 4}" y1="${top + i * rh + 5}" x2="${right - 4}" y2="${top + j * rh + 5}" stroke="#d0742c" stroke-opacity="${(v / max).toFixed(3)}" stroke-width="${(0.5 + 2.5 * v / max).toFixed(2)}"/>`);
  }
  leftLabels.forEach((t, i) => out.push(`<text x="${left - 4}" y="${top + i * rh + 9}" text-anchor="end">${esc(t)}</text>`));
  pos.forEach((t, j) => out.push(`<text x="${right + 4}" y="${top + j * rh + 9}">${esc(t)}</text>`));
  out.push('</svg>');
  return out.join('');
}

export function renderGraph(container, inst, att, selected, pair) {
  clear(container);
  const svg = graphSvg(inst, att, selected, pair);
  if (!svg) {
    container.append(el('p', { class: 'note', text: att && att.omitted ? att.omitted : 'No attention maps for this model.' }));
    return;
  }
  // Parsed as XML: token text was escaped, and an SVG document runs no script here.
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  container.append(document.importNode(doc.documentElement, true));
}

export function renderMatrices(container, att) {
  clear(container);
  const any = att && (att.rollout || att.flow);
  if (!any) {
    container.append(el('p', { class: 'note', text: att && att.omitted ? att.omitted : 'Rollout and flow need self-attention layers (a Transformer run).' }));
    return;
  }
  for (const [name, m] of [['rollout', att.rollout], ['flow', att.flow]]) {
    if (!m) continue;
    const c = el('canvas', { dataset: { matrix: name } });
    drawMatrix(c, m, 360);
    container.append(el('figure', {}, c, el('figcaption', { text: `attention ${name} (rows: positions, columns: what they draw from)` })));
  }
}
