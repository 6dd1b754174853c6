// Small DOM helpers. Text from the server reaches the page only through textContent.
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

export const $ = (sel) => document.querySelector(sel);

export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// A score's colour: red supports the target, blue opposes it; alpha by |score| / scale.
export function scoreColor(score, scale) {
  const a = scale > 0 ? Math.min(1, Math.abs(score) / scale) : 0;
  return score >= 0 ? `rgba(214, 58, 48, ${(0.85 * a).toFixed(3)})` : `rgba(40, 110, 200, ${(0.85 * a).toFixed(3)})`;
}

export function maxAbs(v) {
  let m = 0;
  for (const x of v) if (Math.abs(x) > m) m = Math.abs(x);
  return m;
}

export function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(2);
  return x.toFixed(3);
}

export function download(name, type, data) {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
