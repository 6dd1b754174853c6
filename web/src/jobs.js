// Long work in the background: a split's explanations, attacks or analysis as a server job, its
// progress polled, cancellable; the finished instances listed (click one to open it; an analysed
// instance then shows its analysis).
import { api } from './api.js';
import { $, el, clear, fmt } from './dom.js';

let current = null;

function showState(st) {
  const p = $('#job-progress');
  p.hidden = false;
  p.max = Math.max(1, st.progress.total);
  p.value = st.progress.done;
  const label = st.progress.label ? ` ${st.progress.label}` : '';
  $('#job-state').textContent = `${st.state}${label}: ${st.progress.done}/${st.progress.total} (${st.seconds.toFixed(1)} s)${st.error ? ' ' + st.error : ''}`;
  $('#job-state').dataset.state = st.state;
  $('#job-cancel').hidden = !(st.state === 'queued' || st.state === 'running');
}

function header(table, names) {
  const row = clear(table.querySelector('thead tr'));
  for (const n of names) row.append(el('th', { text: n }));
}

function showAnalyzeResult(doc, onOpen) {
  const table = $('#job-results');
  header(table, ['#', 'label', 'prediction', 'tau(attention, gradient)', 'tau(attention, LOO)', 'permutation median TVD', 'adversarial JSD']);
  const body = clear(table.querySelector('tbody'));
  const k = doc.summary.overall && doc.summary.overall.kendall;
  const mean = (key) => (k && k[key] && k[key].mean !== null && k[key].mean !== undefined ? fmt(k[key].mean) : '?');
  $('#job-state').textContent += ` - ${doc.records.length} instances analysed: mean tau(attention, gradient) ${mean('attention_gradient')}, tau(attention, LOO) ${mean('attention_loo')}`;
  for (const r of doc.records) {
    const tau = (key) => (r.kendall && r.kendall[key] ? fmt(r.kendall[key].tau) : '');
    const tr = el('tr', { class: r.label && r.label !== r.prediction ? 'wrong' : '', dataset: { index: String(r.index) } },
      el('td', { text: String(r.index) }), el('td', { text: r.label || '' }), el('td', { text: r.prediction }),
      el('td', { text: tau('attention_gradient') }), el('td', { text: tau('attention_loo') }),
      el('td', { text: r.permutation ? fmt(r.permutation.median_tvd) : '' }), el('td', { text: r.adversarial ? fmt(r.adversarial.jsd) : '' }));
    tr.addEventListener('click', () => onOpen(r.tokens.join(' '), (r.tokens_b || []).join(' ')));
    body.append(tr);
  }
  table.hidden = false;
}

function showAttackResult(doc, onOpen) {
  const table = $('#job-results');
  header(table, ['#', 'label', 'prediction', 'attacked', 'adversarial text']);
  const body = clear(table.querySelector('tbody'));
  const s = doc.summary;
  $('#job-state').textContent += ` - ${doc.recipe}: ${s.succeeded ?? '?'} succeeded, ${s.failed ?? '?'} failed, ${s.skipped ?? '?'} skipped`;
  doc.results.forEach((r, i) => {
    const changed = r.perturbed && r.status === 'succeeded' ? r.perturbed.tokens.join(' ') : (r.reason || r.status);
    const tr = el('tr', { class: r.status === 'succeeded' ? 'wrong' : '', dataset: { status: r.status } },
      el('td', { text: String(i) }), el('td', { text: r.label || '' }), el('td', { text: r.original.prediction }),
      el('td', { text: r.perturbed ? r.perturbed.prediction : '' }), el('td', { text: changed }));
    const tokens = r.status === 'succeeded' ? r.perturbed.tokens : r.original.tokens;
    tr.addEventListener('click', () => onOpen(tokens.join(' '), ''));
    body.append(tr);
  });
  table.hidden = false;
}

function showResult(doc, onOpen) {
  if (doc.kind === 'attack') return showAttackResult(doc, onOpen);
  if (doc.kind === 'analyze') return showAnalyzeResult(doc, onOpen);
  const table = $('#job-results');
  header(table, ['#', 'label', 'prediction', 'p', 'most important tokens (first method)']);
  const body = clear(table.querySelector('tbody'));
  doc.instances.forEach((inst, i) => {
    const first = doc.methods[0] && inst.attributions[doc.methods[0].name];
    let top = '';
    if (first) {
      top = first.scores.map((s, k) => [s, k]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, k]) => inst.tokens[k]).join(' ');
    }
    const p = inst.probabilities[doc.labels.indexOf(inst.prediction)];
    const tr = el('tr', { class: inst.label && inst.label !== inst.prediction ? 'wrong' : '' },
      el('td', { text: String(i) }), el('td', { text: inst.label || '' }), el('td', { text: inst.prediction }),
      el('td', { text: fmt(p) }), el('td', { text: top }));
    tr.addEventListener('click', () => onOpen(inst.tokens.join(' '), (inst.tokens_b || []).join(' ')));
    body.append(tr);
  });
  table.hidden = false;
}

export function bindJobs(getRequest, onOpen) {
  $('#job-start').addEventListener('click', async () => {
    try {
      const st = await api.submitJob(getRequest(Number($('#job-limit').value) || 100));
      current = st.id;
      showState(st);
      poll(st.id, onOpen);
    } catch (e) {
      $('#job-state').textContent = `job: ${e.message}`;
    }
  });
  $('#job-cancel').addEventListener('click', async () => {
    if (!current) return;
    try {
      showState(await api.cancelJob(current));
    } catch (e) {
      $('#job-state').textContent = `cancel: ${e.message}`;
    }
  });
}

async function poll(id, onOpen) {
  for (;;) {
    if (id !== current) return;
    let st;
    try {
      st = await api.job(id);
    } catch (e) {
      $('#job-state').textContent = `job: ${e.message}`;
      return;
    }
    showState(st);
    if (st.state === 'done') {
      showResult(st.result, onOpen);
      return;
    }
    if (st.state === 'failed' || st.state === 'cancelled') return;
    await new Promise((r) => setTimeout(r, 300));
  }
}
