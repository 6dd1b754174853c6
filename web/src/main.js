// The Lumen explorer: type or pick a text, see the prediction and every method's attribution
// side by side, edit attention and watch both move. The page state lives in the URL (#s=...),
// so a link restores it; "Export state" saves the state and the documents as JSON.
import { api } from './api.js';
import { $, el, clear, fmt, download } from './dom.js';
import { Heatmap, heatmapSvg, heatmapPng } from './heatmap.js';
import { renderGrid, renderGraph, renderMatrices, graphSvg } from './attention.js';
import { bindJobs } from './jobs.js';
import { renderAnalysis } from './analysis.js';
import { renderNle } from './nle.js';
import { renderAttack, renderCounterfactual, renderInfluence } from './instance.js';

const state = { run: '', compare: '', text: '', text_b: '', edits: [], view: 'heatmaps', selected: { layer: 0, head: -1 }, methods: 'fast', original: false };
let runs = [];
let docs = {};          // run name -> explain document of the current text
let analysisAnswer = null;  // the main run's analysis record of the current text
let nleAnswer = null, nleError = '', nleFor = '';  // its natural-language explanation (fetched when shown)
let attackAnswer = null, attackError = '';  // its adversarial example (run on request)
let cfAnswer = null, cfError = '';  // its counterfactuals (run on request, with the run's editor)
let influenceAnswer = null, influenceError = '', influenceFor = '';  // its influential training examples
let heatmaps = [];
let pending = 0;

function setStatus(s, message = '') {
  document.body.dataset.status = s;
  const st = $('#status');
  st.textContent = message;
  st.className = s === 'error' ? 'error' : '';
}

function runInfo(name) {
  return runs.find((r) => r.name === name);
}

function saveHash() {
  const s = { ...state };
  history.replaceState(null, '', `#s=${encodeURIComponent(JSON.stringify(s))}`);
}

function loadHash() {
  const m = location.hash.match(/^#s=(.*)$/);
  if (!m) return false;
  try {
    const s = JSON.parse(decodeURIComponent(m[1]));
    for (const k of Object.keys(state)) if (k in s) state[k] = s[k];
    return true;
  } catch {
    return false;
  }
}

function requestBody(run, withEdits) {
  const info = runInfo(run);
  const body = { run, text: state.text };
  if (info && info.pair) body.text_b = state.text_b;
  if (withEdits && state.edits.length) body.edits = state.edits;
  const m = methodList(run);
  if (m) body.methods = m;
  return body;
}

// The methods of the chosen set for `run` (undefined: the server's fast set). Removal methods
// (leave-one-out, occlusion) cost a pass per token: the "gradients" set leaves them out.
function methodList(run) {
  if (state.methods === 'all') return 'all';
  if (state.methods === 'gradients') {
    const info = runInfo(run);
    const want = ['attention', 'rollout', 'saliency', 'grad_input', 'ig', 'grad_sam'];
    return want.filter((m) => !info || info.methods.includes(m)).join(',');
  }
  return undefined;
}

async function explain() {
  if (!state.text.trim()) return;
  saveHash();
  const ticket = ++pending;
  setStatus('busy', 'explaining...');
  try {
    const t0 = performance.now();
    const next = {};
    next[state.run] = await api.explain(requestBody(state.run, true));
    if (state.compare && state.compare !== state.run) next[state.compare] = await api.explain(requestBody(state.compare, false));
    const ab = requestBody(state.run, false);
    const analysisNext = await api.analysis({ run: ab.run, text: ab.text, text_b: ab.text_b });
    if (ticket !== pending) return;  // a newer request superseded this one
    docs = next;
    analysisAnswer = analysisNext;
    nleAnswer = null;
    nleError = '';
    nleFor = '';
    attackAnswer = null;
    attackError = '';
    cfAnswer = null;
    cfError = '';
    influenceAnswer = null;
    influenceError = '';
    influenceFor = '';
    const t1 = performance.now();
    render();
    const t2 = performance.now();
    document.body.dataset.renderMs = String(Math.round(t2 - t1));
    setStatus('ready', `explained in ${Math.round(t1 - t0)} ms, drawn in ${Math.round(t2 - t1)} ms`);
  } catch (e) {
    if (ticket !== pending) return;
    setStatus('error', e.message);
  }
}

function instanceView(doc, edited) {
  const inst = doc.instances[0];
  const useEdited = edited && inst.edited;
  const attributions = useEdited ? inst.edited.attributions : inst.attributions;
  const columns = doc.methods.map((m) => ({ name: m.name, scores: attributions[m.name].scores }));
  const att = useEdited ? inst.edited.attention : inst.attention;
  let attention = null;
  if (att && att.pooling) {
    attention = { weights: att.pooling.slice(1, inst.tokens.length + 1), edited: !!useEdited, editable: true };
  }
  return { inst, att, data: { tokens: inst.tokens, columns, attention } };
}

function renderPredictions() {
  const box = clear($('#predictions'));
  for (const [run, doc] of Object.entries(docs)) {
    const inst = doc.instances[0];
    const card = el('div', { class: 'prediction', dataset: { run, prediction: inst.prediction } });
    card.append(el('h3', { text: `${run}: ${inst.prediction}` }));
    const bars = (probs, edited) =>
      doc.labels.forEach((label, c) => {
        const bar = el('span', { class: 'bar' });
        bar.style.width = `${Math.round(120 * probs[c])}px`;
        card.append(el('div', { class: `prob${edited ? ' edited' : ''}`, dataset: { label, p: String(probs[c]) } },
          el('span', { text: `${edited ? 'edited ' : ''}${label}` }), bar, el('span', { text: fmt(probs[c]) })));
      });
    bars(inst.probabilities, false);
    if (inst.edited) {
      card.append(el('div', { class: 'edited-prediction', id: run === state.run ? 'edited-prediction' : undefined, dataset: { prediction: inst.edited.prediction }, text: `after the edits: ${inst.edited.prediction}` }));
      bars(inst.edited.probabilities, true);
    }
    box.append(card);
  }
}

function renderEdits() {
  const list = clear($('#edits'));
  if (!state.edits.length) list.append(el('li', { class: 'note', text: 'none: drag a weight in the attention column, or x to zero it' }));
  state.edits.forEach((e, i) => {
    const rm = el('button', { type: 'button', text: 'remove' });
    rm.addEventListener('click', () => {
      state.edits.splice(i, 1);
      explain();
    });
    const shown = e.length > 80 ? `${e.slice(0, 77)}...` : e;
    list.append(el('li', { dataset: { edit: e } }, el('code', { text: shown }), rm));
  });
}

function isPoolingEdit(e) {
  return /^zero:\d+$/.test(e) || e === 'uniform:pool' || e.startsWith('pin:');
}

function onEdit(ev) {
  const main = docs[state.run];
  if (!main) return;
  if (ev.kind === 'zero') {
    state.edits.push(`zero:${ev.index}`);
  } else if (ev.kind === 'set') {
    // The weights shown already carry every pooling edit: one pin of them replaces those edits.
    const { data } = instanceView(main, true);
    const w = data.attention.weights.slice();
    w[ev.index] = ev.weight;
    state.edits = state.edits.filter((e) => !isPoolingEdit(e));
    state.edits.push(`pin:${w.map((x) => Number(x.toPrecision(6))).join(',')}`);
  }
  explain();
}

function renderViews() {
  const main = docs[state.run];
  if (!main) return;
  const runsShown = Object.keys(docs);
  const edited = state.edits.length > 0 && !state.original;
  const hm = clear($('#view-heatmaps'));
  heatmaps = [];
  const wrap = el('div', { class: runsShown.length > 1 ? 'compare' : '' });
  for (const run of runsShown) {
    const col = el('div', { dataset: { run } });
    col.append(el('h3', { text: run }));
    const v = instanceView(docs[run], run === state.run && edited);
    const flow = el('div', { class: 'flow-text' });
    col.append(flow);
    const target = el('div');
    col.append(target);
    const h = new Heatmap(target, run === state.run ? onEdit : () => {});
    h.render(v.data);
    heatmaps.push(h);
    // The first method's scores over the running text, for reading.
    const first = v.data.columns[0];
    if (first) {
      const scale = Math.max(...first.scores.map(Math.abs), 1e-12);
      flow.append(el('span', { class: 'note', text: `${first.name}: ` }));
      v.data.tokens.slice(0, 600).forEach((t, i) => {
        const s = el('span', { text: t, title: `${first.name} ${first.scores[i]}` });
        const a = Math.min(1, Math.abs(first.scores[i]) / scale);
        s.style.background = first.scores[i] >= 0 ? `rgba(214,58,48,${0.85 * a})` : `rgba(40,110,200,${0.85 * a})`;
        flow.append(s, ' ');
      });
    }
    wrap.append(col);
  }
  hm.append(wrap);
  const v = instanceView(main, edited);
  const pair = runInfo(state.run) && runInfo(state.run).pair;
  renderGrid($('#view-grid'), v.att, state.selected,
    (l, h) => { state.selected = { layer: l, head: h }; saveHash(); renderViews(); },
    (l, h) => { state.edits.push(`uniform:${l}:${h}`); explain(); });
  renderGraph($('#view-graph'), v.inst, v.att, state.selected, pair);
  renderMatrices($('#view-matrix'), v.att);
  renderAnalysis($('#view-analysis'), analysisAnswer);
  renderNle($('#view-nle'), nleAnswer, nleError);
  renderAdversarial();
  renderInfluence($('#view-influence'), influenceAnswer, influenceError);
  $('#json').textContent = JSON.stringify(main, null, 1).slice(0, 200000);
}

function showView(name) {
  state.view = name;
  for (const b of document.querySelectorAll('#tabs button[data-view]')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${name}`;
  if (name === 'heatmaps') for (const h of heatmaps) h.paint();
  if (name === 'nle') loadNle();
  if (name === 'influence') loadInfluence();
  saveHash();
}

// The background jobs the run offers: explain, each attack recipe it serves (the editor's too
// when it has one), analyze.
function jobKinds() {
  const select = $('#job-kind');
  const before = select.value;
  clear(select);
  select.append(el('option', { value: 'explain', text: 'Explain' }));
  for (const r of (runInfo(state.run) || {}).recipes || ['textfooler', 'pwws', 'deepwordbug'])
    select.append(el('option', { value: `attack:${r}`, text: `Attack (${r})` }));
  select.append(el('option', { value: 'analyze', text: 'Analyze (Jain & Wallace)' }));
  if ([...select.options].some((o) => o.value === before)) select.value = before;
}

function renderAdversarial() {
  const info = runInfo(state.run) || {};
  renderAttack($('#attack-box'), attackAnswer, attackError, runAttack, info.recipes || ['textfooler', 'pwws', 'deepwordbug', 'hotflip']);
  renderCounterfactual($('#counterfactual-box'), cfAnswer, cfError, runCounterfactual, !!info.editor);
}

async function runCounterfactual(method) {
  const ab = requestBody(state.run, false);
  setStatus('busy', `counterfactuals with ${method}...`);
  try {
    cfAnswer = await api.counterfactual({ run: ab.run, text: ab.text, text_b: ab.text_b, method });
    cfError = '';
    setStatus('ready', `counterfactual: ${cfAnswer.available ? (cfAnswer.result.flipped ? 'flipped' : 'not flipped') : 'no editor'}`);
  } catch (e) {
    cfError = e.message;
    setStatus('error', e.message);
  }
  renderAdversarial();
}

async function runAttack(recipe) {
  const ab = requestBody(state.run, false);
  setStatus('busy', `attacking with ${recipe}...`);
  try {
    attackAnswer = await api.attack({ run: ab.run, text: ab.text, text_b: ab.text_b, recipe });
    attackError = '';
    setStatus('ready', `attack: ${attackAnswer.result.status}`);
  } catch (e) {
    attackError = e.message;
    setStatus('error', e.message);
  }
  renderAdversarial();
}

async function loadInfluence() {
  const ab = requestBody(state.run, false);
  const key = JSON.stringify([ab.run, ab.text, ab.text_b]);
  if (!ab.text || influenceFor === key) return;
  influenceFor = key;
  try {
    influenceAnswer = await api.influence({ run: ab.run, text: ab.text, text_b: ab.text_b });
    influenceError = '';
  } catch (e) {
    influenceError = e.message;
  }
  if (influenceFor === key) renderInfluence($('#view-influence'), influenceAnswer, influenceError);
}

async function loadNle() {
  const ab = requestBody(state.run, false);
  const key = JSON.stringify([ab.run, ab.text, ab.text_b]);
  if (!ab.text || nleFor === key) return;
  nleFor = key;
  nleAnswer = null;
  nleError = '';
  renderNle($('#view-nle'), null, '');
  try {
    const answer = await api.nle({ run: ab.run, text: ab.text, text_b: ab.text_b });
    if (nleFor !== key) return;
    nleAnswer = answer;
  } catch (e) {
    if (nleFor !== key) return;
    nleError = e.message;
  }
  renderNle($('#view-nle'), nleAnswer, nleError);
  renderAdversarial();
  renderInfluence($('#view-influence'), influenceAnswer, influenceError);
}

function render() {
  $('#result').hidden = false;
  renderPredictions();
  renderEdits();
  renderViews();
  showView(state.view);
}

async function loadExamples() {
  const list = clear($('#examples'));
  try {
    const r = await api.examples(state.run, $('#example-split').value, $('#example-q').value, 50);
    for (const e of r.examples) {
      const li = el('li', { dataset: { index: String(e.index) }, title: e.text },
        el('span', { class: 'label', text: e.label || '' }), e.text_b ? `${e.text} || ${e.text_b}` : e.text);
      li.addEventListener('click', () => {
        state.text = e.text;
        state.text_b = e.text_b || '';
        $('#text').value = state.text;
        $('#text-b').value = state.text_b;
        state.edits = [];
        explain();
      });
      list.append(li);
    }
    if (!r.examples.length) list.append(el('li', { class: 'note', text: 'no example matches' }));
    return r.examples;
  } catch (e) {
    list.append(el('li', { class: 'error', text: `examples: ${e.message}` }));
    return [];
  }
}

function exportName(ext) {
  return `lumen-${state.run}-${state.view}.${ext}`;
}

function currentSvg() {
  const main = docs[state.run];
  const edited = state.edits.length > 0 && !state.original;
  const v = instanceView(main, edited);
  if (state.view === 'graph') return graphSvg(v.inst, v.att, state.selected, runInfo(state.run).pair);
  if (state.view === 'analysis') {
    const svg = document.querySelector('#adversarial-bars');
    if (svg) return new XMLSerializer().serializeToString(svg);
  }
  if (state.view === 'grid' || state.view === 'matrix') {
    const canvases = [...document.querySelectorAll(`#view-${state.view} canvas`)];
    if (!canvases.length) return null;
    const size = 130, cols = state.view === 'grid' ? canvases.length / v.att.layers.length : canvases.length;
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${cols * size}" height="${Math.ceil(canvases.length / cols) * size}">`];
    canvases.forEach((c, k) => parts.push(`<image x="${(k % cols) * size}" y="${Math.floor(k / cols) * size}" width="120" height="120" href="${c.toDataURL('image/png')}"/>`));
    parts.push('</svg>');
    return parts.join('');
  }
  return heatmapSvg(v.data, `${state.run}: ${v.inst.prediction}${edited ? ' (edited)' : ''}`);
}

async function exportPng() {
  const main = docs[state.run];
  if (!main) return;
  const svg = currentSvg();
  if (state.view === 'heatmaps' || state.view === 'json' || !svg) {
    const v = instanceView(main, state.edits.length > 0 && !state.original);
    download(exportName('png'), 'image/png', await heatmapPng(v.data, `${state.run}: ${v.inst.prediction}`));
    return;
  }
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  img.onload = () => {
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    c.getContext('2d').drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    c.toBlob((b) => download(exportName('png'), 'image/png', b), 'image/png');
  };
  img.src = url;
}

function bind() {
  $('#explain').addEventListener('click', () => {
    state.text = $('#text').value;
    state.text_b = $('#text-b').value;
    state.edits = [];
    explain();
  });
  $('#run').addEventListener('change', () => {
    state.run = $('#run').value;
    state.edits = [];
    $('#text-b').hidden = !runInfo(state.run).pair;
    jobKinds();
    loadExamples();
    explain();
  });
  $('#compare').addEventListener('change', () => {
    state.compare = $('#compare').value;
    explain();
  });
  $('#method-set').addEventListener('change', () => {
    state.methods = $('#method-set').value;
    explain();
  });
  let timer = null;
  $('#example-q').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(loadExamples, 200);
  });
  $('#example-split').addEventListener('change', loadExamples);
  $('#edit-uniform').addEventListener('click', () => {
    state.edits = state.edits.filter((e) => !isPoolingEdit(e));
    state.edits.push('uniform:pool');
    explain();
  });
  $('#edit-paste-apply').addEventListener('click', () => {
    const w = $('#edit-paste').value.split(/[\s,;]+/).filter(Boolean).map(Number);
    if (!w.length || w.some((x) => !Number.isFinite(x) || x < 0)) {
      setStatus('error', 'a distribution is a list of non-negative numbers, one per token');
      return;
    }
    state.edits = state.edits.filter((e) => !isPoolingEdit(e));
    state.edits.push(`pin:${w.join(',')}`);
    explain();
  });
  $('#edit-raw-apply').addEventListener('click', () => {
    const e = $('#edit-raw').value.trim();
    if (e) {
      state.edits.push(e);
      explain();
    }
  });
  $('#edit-clear').addEventListener('click', () => {
    state.edits = [];
    explain();
  });
  $('#show-original').addEventListener('change', () => {
    state.original = $('#show-original').checked;
    renderViews();
  });
  for (const b of document.querySelectorAll('#tabs button[data-view]')) b.addEventListener('click', () => showView(b.dataset.view));
  $('#export-svg').addEventListener('click', () => {
    const svg = docs[state.run] && currentSvg();
    if (svg) download(exportName('svg'), 'image/svg+xml', svg);
  });
  $('#export-png').addEventListener('click', exportPng);
  bindJobs((limit) => {
    const [kind, recipe] = $('#job-kind').value.split(':');
    if (kind === 'attack') return { kind, recipe, run: state.run, split: $('#example-split').value, limit };
    if (kind === 'analyze') return { kind, run: state.run, split: $('#example-split').value, limit };
    const body = { kind: 'explain', run: state.run, split: $('#example-split').value, limit };
    const m = methodList(state.run);
    if (m) body.methods = m;
    return body;
  }, (text, textB) => {
    state.text = text;
    state.text_b = textB;
    $('#text').value = text;
    $('#text-b').value = textB;
    state.edits = [];
    explain();
  });
  $('#export-json').addEventListener('click', () => {
    download(`lumen-${state.run}-state.json`, 'application/json', JSON.stringify({ kind: 'lumen.explorer_state', state, documents: docs }, null, 1));
  });
}

async function main() {
  bind();
  try {
    runs = (await api.runs()).runs;
  } catch (e) {
    setStatus('error', `cannot list runs: ${e.message}`);
    return;
  }
  for (const r of runs) {
    $('#run').append(el('option', { value: r.name, text: `${r.name} (${r.model.encoder}${r.pair ? ', pairs' : ''})` }));
    $('#compare').append(el('option', { value: r.name, text: r.name }));
  }
  const restored = loadHash();
  if (!runInfo(state.run)) state.run = runs[0].name;
  $('#run').value = state.run;
  $('#compare').value = state.compare;
  $('#method-set').value = state.methods;
  $('#show-original').checked = state.original;
  $('#text-b').hidden = !runInfo(state.run).pair;
  jobKinds();
  const examples = await loadExamples();
  if (!restored && examples.length) {
    state.text = examples[0].text;
    state.text_b = examples[0].text_b || '';
  }
  $('#text').value = state.text;
  $('#text-b').value = state.text_b;
  if (state.text) await explain();
  else setStatus('ready', 'type a text and press Explain');
}

main();
