// The instance's natural-language explanation (POST /api/nle): sentences composed from the
// prediction, the tokens the attribution methods agree on, the smallest deletion that flips the
// decision, each with the numbers behind it (click a sentence to see them).
import { el, clear, fmt } from './dom.js';

export function renderNle(container, answer, error) {
  clear(container);
  if (error) {
    container.append(el('p', { class: 'error', text: `natural-language explanation: ${error}` }));
    return;
  }
  if (!answer) {
    container.append(el('p', { class: 'note', text: 'composing...' }));
    return;
  }
  container.append(el('p', { class: answer.hedged ? 'nle-text hedged' : 'nle-text', id: 'nle-text', text: answer.text }));
  container.append(el('p', { class: 'note', text: `Mean top-${answer.options.top_k} overlap of the methods: ${fmt(answer.overlap)}${answer.hedged ? ' (they disagree: the explanation hedges)' : ''}. Of the unedited model.` }));
  const list = el('ol', { id: 'nle-claims' });
  for (const c of answer.claims) {
    const evidence = el('pre', { class: 'evidence', text: JSON.stringify(c.evidence, null, 1) });
    evidence.hidden = true;
    const item = el('li', { dataset: { kind: c.kind } }, el('span', { class: 'label', text: c.kind }), ' ', c.sentence, evidence);
    item.addEventListener('click', () => { evidence.hidden = !evidence.hidden; });
    list.append(item);
  }
  container.append(list);
}
