// The instance's adversarial example (POST /api/attack: a recipe run live on this text, its
// changed words marked) and its most helpful and harmful training examples (POST
// /api/influence: the run's `lumen influence` results, when they cover this text).
import { el, clear, fmt } from './dom.js';

export function renderAttack(container, answer, error, onRun) {
  clear(container);
  const recipe = el('select', { id: 'attack-recipe' });
  for (const r of ['textfooler', 'pwws', 'deepwordbug', 'hotflip']) recipe.append(el('option', { value: r, text: r }));
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
  const line = (tokens, marks, cls) => {
    const p = el('p', { class: 'attack-tokens' });
    tokens.forEach((t, i) => p.append(marks.has(i) ? el('mark', { class: cls, text: t }) : t, ' '));
    return p;
  };
  box.append(el('p', { text: `${r.original.prediction} -> ${r.perturbed.prediction}: ${r.words_changed} words changed, ${r.queries} model queries, verified: ${answer.verified.violations === 0}.` }));
  box.append(el('div', { class: 'note', text: 'original' }), line(r.original.tokens, removed, 'removed'));
  box.append(el('div', { class: 'note', text: 'adversarial' }), line(r.perturbed.tokens, changed, 'added'));
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
