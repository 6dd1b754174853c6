// The instance's adversarial example (POST /api/attack: a recipe run live on this text, its
// changed words marked), its counterfactuals (POST /api/counterfactual: MiCE, Polyjuice or
// CREST with the run's editor, the words that differ marked) and its most helpful and harmful
// training examples (POST /api/influence: the run's `lumen influence` results, when they cover
// this text).
import { el, clear, fmt } from './dom.js';

export function renderAttack(container, answer, error, onRun, recipes) {
  clear(container);
  const recipe = el('select', { id: 'attack-recipe' });
  for (const r of recipes) recipe.append(el('option', { value: r, text: r }));
  if (answer) recipe.value = answer.recipe;
  const button = el('button', { type: 'button', id: 'attack-run', text: 'Attack this text' });
  button.addEventListener('click', () => onRun(recipe.value));
  container.append(el('p', {}, 'Recipe ', recipe, ' ', button));
  if (error) container.append(el('p', { class: 'error', text: `attack: ${error}` }));
  if (!answer) return;
  const r = answer.result;
  const box = el('div', { id: 'attack-result', dataset: { status: r.status } });
  if (r.status !== 'succeeded') {
    box.append(el('p', { text: `No adversarial example: ${r.status}${r.reason ? ` (${r.reason})` : ''}, after ${r.queries} model queries.` }));
    container.append(box);
    return;
  }
  const changed = new Set((r.edits || []).map((e) => e.perturbed_position).filter((p) => p !== undefined));
  const removed = new Set((r.edits || []).filter((e) => e.kind !== 'insert').map((e) => e.position));
  box.append(el('p', { text: `${r.original.prediction} -> ${r.perturbed.prediction}: ${r.words_changed} words changed, ${r.queries} model queries, verified: ${answer.verified.violations === 0}.` }));
  box.append(el('div', { class: 'note', text: 'original' }), tokenLine(r.original.tokens, removed, 'removed'));
  box.append(el('div', { class: 'note', text: 'adversarial' }), tokenLine(r.perturbed.tokens, changed, 'added'));
  container.append(box);
}

// Word-level alignment of two token lists (longest common subsequence): the positions of `a`
// and of `b` outside it, i.e. what was removed from `a` and what `b` puts in.
function diff(a, b) {
  const n = a.length, m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const inA = new Set(), inB = new Set();
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { i++; j++; } else if (L[i + 1][j] >= L[i][j + 1]) inA.add(i++); else inB.add(j++);
  }
  while (i < n) inA.add(i++);
  while (j < m) inB.add(j++);
  return { removed: inA, added: inB };
}

function tokenLine(tokens, marks, cls) {
  const p = el('p', { class: 'attack-tokens' });
  tokens.forEach((t, i) => p.append(marks.has(i) ? el('mark', { class: cls, text: t }) : t, ' '));
  return p;
}

export function renderCounterfactual(container, answer, error, onRun, editor) {
  clear(container);
  container.append(el('h3', { text: 'Counterfactuals' }));
  if (!editor && !(answer && answer.available)) {
    container.append(el('p', { class: 'note', id: 'counterfactual-missing', text: answer && answer.hint ? answer.hint
      : 'Counterfactuals (MiCE, Polyjuice, CREST) and the bae, bert-attack and clare recipes need the run\'s editor: lumen train-editor --run RUN, then restart lumen serve or reload.' }));
    return;
  }
  const method = el('select', { id: 'counterfactual-method' });
  for (const m of ['mice', 'polyjuice', 'crest']) method.append(el('option', { value: m, text: m }));
  if (answer && answer.method) method.value = answer.method;
  const button = el('button', { type: 'button', id: 'counterfactual-run', text: 'Find counterfactuals' });
  button.addEventListener('click', () => onRun(method.value));
  container.append(el('p', {}, 'Method ', method, ' ', button));
  if (error) container.append(el('p', { class: 'error', text: `counterfactual: ${error}` }));
  if (!answer) return;
  if (!answer.available) {
    container.append(el('p', { class: 'note', id: 'counterfactual-missing', text: answer.hint }));
    return;
  }
  const r = answer.result;
  const box = el('div', { id: 'counterfactual-result', dataset: { flipped: String(r.flipped) } });
  box.append(el('p', { text: `${r.original.prediction} -> ${r.target}: ${r.flipped ? 'flipped' : `not flipped${r.reason ? ` (${r.reason})` : ''}`}; ${r.editor_passes} editor passes, ${r.queries} model queries, verified: ${answer.verification.violations === 0}.` }));
  for (const c of r.counterfactuals || []) {
    const d = diff(r.original.tokens, c.tokens);
    box.append(el('div', { class: 'note', text: `${c.code}: predicted ${c.prediction}, ${c.distance} words changed (minimality ${fmt(c.minimality)}, fluency ratio ${c.fluency === null ? '?' : fmt(c.fluency)})` }));
    box.append(tokenLine(r.original.tokens, d.removed, 'removed'), tokenLine(c.tokens, d.added, 'added'));
  }
  container.append(box);
}

export function renderInfluence(container, answer, error) {
  clear(container);
  if (error) {
    container.append(el('p', { class: 'error', text: `influence: ${error}` }));
    return;
  }
  if (!answer) return;
  if (!answer.found) {
    container.append(el('p', { class: 'note', id: 'influence-missing', text: answer.hint }));
    return;
  }
  const t = answer.test;
  container.append(el('p', { text: `${answer.method}: test example ${t.test}, label ${t.label_name}, predicted ${t.predicted_name}.` }));
  for (const [side, title] of [['proponents', 'Most helpful training examples'], ['opponents', 'Most harmful training examples']]) {
    container.append(el('h3', { text: title }));
    const table = el('table', { class: 'influence', id: `influence-${side}` },
      el('tr', {}, el('th', { text: 'score' }), el('th', { text: 'label' }), el('th', { text: '#' }), el('th', { text: 'text' })));
    for (const e of t[side] || [])
      table.append(el('tr', {}, el('td', { text: fmt(e.score) }), el('td', { text: e.label_name || '' }), el('td', { text: String(e.train) }), el('td', { text: e.text || '' })));
    container.append(table);
  }
}
