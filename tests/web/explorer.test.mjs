// Browser test of the explorer (`lumen serve`), run by `make test` through CTest:
// Playwright (playwright-core from npm) drives Debian's headless Chromium; no browser download.
// Trains two tiny runs (BiLSTM, Transformer), serves them, and in the page: loads, explains a
// typed text, zeroes and drags an attention weight and sees the prediction change, opens every
// view (the adversarial one with the run's editor: counterfactuals and the editor recipes), exports SVG / PNG / state, restores a state from its URL, compares two runs, renders a
// 2,000-token text, and shows markup in tokens as text. Fails on any console error or page
// error. Screenshots go to the artifacts folder (argv[3]).
//   node explorer.test.mjs LUMEN_BINARY PLAYWRIGHT_CORE_DIR ARTIFACTS_DIR
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [lumenArg, pwArg, artifactsArg] = process.argv.slice(2);
const lumen = lumenArg && path.resolve(lumenArg), pwDir = pwArg && path.resolve(pwArg), artifacts = artifactsArg && path.resolve(artifactsArg);
if (!lumen || !pwDir || !artifacts) {
  console.error('usage: explorer.test.mjs LUMEN PLAYWRIGHT_CORE_DIR ARTIFACTS_DIR');
  process.exit(2);
}
const { chromium } = await import(pathToFileURL(path.join(pwDir, 'index.mjs')).href);
fs.mkdirSync(artifacts, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lumen-explorer-'));
const browserPath = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
if (!browserPath) throw new Error('no Chromium: run scripts/install-deps.sh');

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

function train(name, extra) {
  const r = spawnSync(lumen, ['train', '-q', '--data', 'synthetic-keywords?n=400&length=12', '--out', path.join(work, name),
    '--embed-dim', '16', '--epochs', '15', '--lr', '0.01', '--seed', '5', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train ${name} failed: ${r.stdout}${r.stderr}`);
}
train('kw', ['--hidden', '8']);
{
  const r = spawnSync(lumen, ['-q', 'analyze', '--run', path.join(work, 'kw'), '--limit', '20'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`analyze failed: ${r.stdout}${r.stderr}`);
  const e = spawnSync(lumen, ['-q', 'train-editor', '--run', path.join(work, 'kw'), '--epochs', '2', '--model-dim', '32', '--embed-dim', '32',
    '--ff-dim', '64', '--layers', '1'], { encoding: 'utf8' });
  if (e.status !== 0) throw new Error(`train-editor failed: ${e.stdout}${e.stderr}`);
}
train('tf', ['--encoder', 'transformer', '--layers', '2', '--heads', '2', '--model-dim', '16', '--ff-dim', '32']);

const server = spawn(lumen, ['serve', '--run', path.join(work, 'kw'), '--run', path.join(work, 'tf'), '--port', '0', '--workers', '2'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/http:\/\/[^\s]+/);
    if (m) resolve(m[0]);
  });
  server.on('exit', (code) => reject(new Error(`lumen serve exited with ${code}: ${serverLog}`)));
  setTimeout(() => reject(new Error(`lumen serve did not start: ${serverLog}`)), 60000);
});
console.log(`serving at ${url}`);

const browser = await chromium.launch({
  executablePath: browserPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
const errors = [];
async function newPage() {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return page;
}
const ready = (page) => page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status), null, { timeout: 60000 });
async function status(page) {
  return page.evaluate(() => ({ status: document.body.dataset.status, message: document.querySelector('#status').textContent }));
}
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
const probs = (page, edited) => page.$$eval(`#predictions .prediction:first-child .prob${edited ? '.edited' : ':not(.edited)'}`,
  (els) => els.map((e) => Number(e.dataset.p)));

try {
  const page = await newPage();
  // 1. The page loads, lists the runs and explains the first test example.
  await page.goto(url);
  await ready(page);
  let s = await status(page);
  check(s.status === 'ready', `page loads and explains the first example (${s.message})`);
  check((await page.$$('#run option')).length === 2, 'both runs are listed');
  check((await page.$$('#examples li')).length > 0, 'the run\'s examples are listed');
  await shot(page, '01-loaded');

  // The first test example was analysed: its taus and adversarial attention are shown.
  await page.click('#tabs button[data-view="analysis"]');
  const taus = await page.$$('#analysis-taus tr[data-tau]');
  check(taus.length === 3 && (await page.$$('#adversarial-bars rect')).length > 2, `the instance's analysis: ${taus.length} taus and the adversarial attention`);
  const bins = await page.$$('#permutation-histogram rect.bin');
  check(bins.length === 20, `the permutation distribution drawn: ${bins.length} bins`);
  await shot(page, '01-analysis');
  // Its natural-language explanation, each claim with its evidence.
  await page.click('#tabs button[data-view="nle"]');
  await page.waitForSelector('#nle-text', { timeout: 30000 });
  const nleText = await page.textContent('#nle-text');
  const claims = await page.$$eval('#nle-claims li', (els) => els.map((e) => e.dataset.kind));
  check(nleText.startsWith('The model predicts') && claims.includes('prediction') && claims.length >= 2,
    `the natural-language explanation: ${claims.join(', ')}`);
  await shot(page, '01-nle');
  // An adversarial example of it, the changed words marked; no influence results for this run.
  await page.click('#tabs button[data-view="attack"]');
  await page.click('#attack-run');
  await page.waitForSelector('#attack-result', { timeout: 60000 });
  const attackStatus = await page.$eval('#attack-result', (e) => e.dataset.status);
  const marks = (await page.$$('#attack-result mark')).length;
  check(['succeeded', 'failed'].includes(attackStatus) && (attackStatus !== 'succeeded' || marks >= 2), `the adversarial example: ${attackStatus}, ${marks} marked words`);
  const recipes = await page.$$eval('#attack-recipe option', (els) => els.map((e) => e.value));
  check(recipes.includes('bae') && recipes.includes('clare'), `with the run's editor the editor recipes are offered (${recipes.join(', ')})`);
  // Its counterfactuals with the run's editor, the words that differ marked.
  await page.selectOption('#counterfactual-method', 'polyjuice');
  await page.click('#counterfactual-run');
  await page.waitForSelector('#counterfactual-result', { timeout: 60000 });
  const cfFlipped = await page.$eval('#counterfactual-result', (e) => e.dataset.flipped);
  const cfMarks = (await page.$$('#counterfactual-result mark')).length;
  const cfShown = (await page.$$('#counterfactual-result .attack-tokens')).length;
  check(cfFlipped !== undefined && (cfFlipped !== 'true' || (cfMarks >= 1 && cfShown >= 2)),
    `counterfactuals (polyjuice): flipped ${cfFlipped}, ${cfShown / 2} shown, ${cfMarks} marked words`);
  await shot(page, '01-attack');
  await page.click('#tabs button[data-view="influence"]');
  await page.waitForSelector('#influence-missing', { timeout: 30000 });
  check((await page.textContent('#influence-missing')).includes('lumen influence'), 'no influence results: the page says how to make them');
  await page.click('#tabs button[data-view="heatmaps"]');

  // 2. A typed text.
  await page.fill('#text', 'the film was good and the plot was fine but the end was bad');
  await page.click('#explain');
  await ready(page);
  s = await status(page);
  check(s.status === 'ready', `a typed text is explained (${s.message})`);
  const methods = await page.$$eval('#heatmap-box .head .cell', (els) => els.map((e) => e.textContent));
  check(methods.includes('saliency') && methods.includes('loo') && methods.includes('ig'), `heatmaps side by side: ${methods.join(', ')}`);
  const before = await probs(page, false);
  await shot(page, '02-typed');

  // 3. Zero the most attended token: the prediction moves.
  const top = await page.$$eval('#heatmap-box .att', (els) => {
    let best = -1, idx = -1;
    for (const e of els) { const w = Number(e.title.replace('weight ', '')); if (w > best) { best = w; idx = Number(e.dataset.index); } }
    return idx;
  });
  await page.click(`#heatmap-box .att[data-index="${top}"] .zero`);
  await ready(page);
  const zeroed = await probs(page, true);
  check(zeroed.length === before.length && zeroed.some((p, c) => Math.abs(p - before[c]) > 1e-6),
    `zeroing token ${top}'s attention changes the prediction: ${before.map((p) => p.toFixed(4))} -> ${zeroed.map((p) => p.toFixed(4))}`);
  check((await page.$$('#edits li[data-edit="zero:' + top + '"]')).length === 1, 'the edit is listed');
  await shot(page, '03-zeroed');

  // 4. Drag another token's weight to the full width: a pin edit replaces the pooling edits.
  const cell = await page.$(`#heatmap-box .att[data-index="${top === 0 ? 1 : 0}"]`);
  const box = await cell.boundingBox();
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await ready(page);
  const pins = await page.$$eval('#edits li', (els) => els.map((e) => e.dataset.edit || ''));
  const dragged = await probs(page, true);
  check(pins.length === 1 && pins[0].startsWith('pin:'), `dragging a weight pins the distribution (${pins[0] ? pins[0].slice(0, 40) : 'none'})`);
  check(dragged.some((p, c) => Math.abs(p - zeroed[c]) > 1e-6), `the drag moves the prediction again: ${dragged.map((p) => p.toFixed(4))}`);
  await shot(page, '04-dragged');

  // 5. Every view opens; exports.
  for (const v of ['grid', 'graph', 'matrix', 'analysis', 'nle', 'attack', 'influence', 'json', 'heatmaps']) {
    await page.click(`#tabs button[data-view="${v}"]`);
    check(await page.isVisible(`#view-${v}`), `view ${v} opens`);
    await shot(page, `05-view-${v}`);
  }
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
  const svgPath = path.join(artifacts, 'heatmap.svg');
  await svgDownload.saveAs(svgPath);
  const svg = fs.readFileSync(svgPath, 'utf8');
  check(svg.startsWith('<svg') && svg.includes('saliency'), `SVG export (${svg.length} bytes)`);
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const pngPath = path.join(artifacts, 'heatmap.png');
  await pngDownload.saveAs(pngPath);
  check(fs.readFileSync(pngPath).subarray(1, 4).toString() === 'PNG', 'PNG export');
  const [stateDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const statePath = path.join(artifacts, 'state.json');
  await stateDownload.saveAs(statePath);
  const saved = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  check(saved.kind === 'lumen.explorer_state' && saved.state.edits.length === 1, 'state export (JSON)');

  // 6. The URL restores the state in a new page.
  const restoredUrl = page.url();
  const page2 = await newPage();
  await page2.goto(restoredUrl);
  await ready(page2);
  check((await page2.inputValue('#text')) === 'the film was good and the plot was fine but the end was bad', 'the URL restores the text');
  check((await page2.$$('#edits li[data-edit^="pin:"]')).length === 1, 'the URL restores the edits');
  const restoredProbs = await probs(page2, true);
  check(restoredProbs.every((p, c) => Math.abs(p - dragged[c]) < 1e-9), 'the restored page predicts the same');
  await page2.context().close();

  // 7. The Transformer run: layer x head grid, a head as a token graph, rollout and flow; a head made uniform.
  await page.selectOption('#run', 'tf');
  await ready(page);
  await page.click('#tabs button[data-view="grid"]');
  const figures = await page.$$('#layer-head-grid figure');
  check(figures.length === 4, `layer x head grid: ${figures.length} maps`);
  await page.click('#layer-head-grid figure[data-layer="1"][data-head="0"] canvas');
  await page.click('#tabs button[data-view="graph"]');
  check((await page.$$('#token-graph line')).length > 0, 'token graph of layer 1 head 0');
  await shot(page, '07-graph');
  await page.click('#tabs button[data-view="matrix"]');
  check((await page.$$('canvas[data-matrix="rollout"]')).length === 1, 'rollout matrix');
  await shot(page, '07-matrix');
  await page.click('#tabs button[data-view="grid"]');
  await page.click('#layer-head-grid figure[data-layer="0"][data-head="1"] button');
  await ready(page);
  check((await page.$$('#edits li[data-edit="uniform:0:1"]')).length === 1 && (await page.$$('#edited-prediction')).length === 1,
    'a head made uniform gives an edited prediction');
  await page.click('#tabs button[data-view="graph"]');
  const [graphSvg] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
  await graphSvg.saveAs(path.join(artifacts, 'graph.svg'));
  check(fs.readFileSync(path.join(artifacts, 'graph.svg'), 'utf8').includes('<line'), 'token graph SVG export');

  // 8. Two runs side by side.
  await page.click('#edit-clear');
  await ready(page);
  await page.selectOption('#compare', 'kw');
  await ready(page);
  await page.click('#tabs button[data-view="heatmaps"]');
  check((await page.$$('#predictions .prediction')).length === 2 && (await page.$$('.compare > div')).length === 2, 'two runs side by side');
  await shot(page, '08-compare');
  await page.selectOption('#compare', '');
  await ready(page);

  // 9. A split explained in the background: progress, the result list, cancellation.
  await page.selectOption('#run', 'kw');
  await ready(page);
  await page.fill('#job-limit', '10');
  await page.click('#job-start');
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.querySelector('#job-state').dataset.state), null, { timeout: 60000 });
  const jobRows = await page.$$('#job-results tbody tr');
  check(jobRows.length === 10 && (await page.$eval('#job-state', (e) => e.dataset.state)) === 'done', `a background job explains 10 examples (${await page.textContent('#job-state')})`);
  await jobRows[3].click();
  await ready(page);
  check((await status(page)).status === 'ready', 'a job\'s instance opens in the explorer');
  await page.fill('#job-limit', '100000');
  await page.selectOption('#example-split', 'train');
  await page.click('#job-start');
  await page.waitForFunction(() => document.querySelector('#job-state').dataset.state === 'running', null, { timeout: 60000 });
  await page.click('#job-cancel');
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.querySelector('#job-state').dataset.state), null, { timeout: 60000 });
  check((await page.$eval('#job-state', (e) => e.dataset.state)) === 'cancelled', `a running job is cancelled (${await page.textContent('#job-state')})`);
  await page.selectOption('#example-split', 'test');
  await shot(page, '09-jobs');
  // An attack of the split in the background, each result listed.
  await page.selectOption('#job-kind', 'attack:textfooler');
  await page.fill('#job-limit', '6');
  await page.click('#job-start');
  // (The state still reads "cancelled" from the job before until this one's first poll.)
  await page.waitForFunction(() => {
    const s = document.querySelector('#job-state');
    return (s.dataset.state === 'done' && s.textContent.includes('textfooler')) || s.dataset.state === 'failed';
  }, null, { timeout: 120000 });
  const attacked = await page.$$eval('#job-results tbody tr', (els) => els.map((e) => e.dataset.status));
  check(attacked.length === 6 && attacked.every((x) => ['succeeded', 'failed', 'skipped'].includes(x)) && (await page.$eval('#job-state', (e) => e.dataset.state)) === 'done',
    `a background job attacks 6 examples (${await page.textContent('#job-state')})`);
  await shot(page, '09-attack-job');
  // A split's analysis in the background: every instance's taus listed; a row opens the text
  // with the job's analysis of it (the dev split: the run was analysed on test only).
  const jobKinds = await page.$$eval('#job-kind option', (els) => els.map((e) => e.value));
  check(jobKinds.includes('attack:bae') && jobKinds.includes('analyze'), `the run's job kinds: ${jobKinds.join(', ')}`);
  await page.selectOption('#job-kind', 'analyze');
  await page.selectOption('#example-split', 'dev');
  await page.fill('#job-limit', '8');
  await page.click('#job-start');
  await page.waitForFunction(() => {
    const s = document.querySelector('#job-state');
    return (s.dataset.state === 'done' && s.textContent.includes('instances analysed')) || s.dataset.state === 'failed';
  }, null, { timeout: 120000 });
  const analysed = await page.$$('#job-results tbody tr');
  check(analysed.length === 8, `a background job analyses 8 dev examples (${await page.textContent('#job-state')})`);
  await analysed[1].click();
  await ready(page);
  await page.click('#tabs button[data-view="analysis"]');
  const jobTaus = await page.$$('#analysis-taus tr[data-tau]');
  const jobSplit = await page.textContent('#view-analysis p');
  check(jobTaus.length === 3 && jobSplit.includes('dev split') && (await page.$$('#permutation-histogram rect.bin')).length === 20,
    `the job's analysis of an instance is shown (${jobSplit.slice(0, 60)})`);
  await shot(page, '09-analyze-job');
  await page.click('#tabs button[data-view="heatmaps"]');
  await page.selectOption('#example-split', 'test');
  await page.selectOption('#job-kind', 'explain');

  // 10. Markup in a text stays text.
  await page.selectOption('#run', 'kw');
  await ready(page);
  await page.fill('#text', '<img src=x onerror="window.__xss=1"> <b>bold</b> <script>window.__xss=2</script> good');
  await page.click('#explain');
  await ready(page);
  const xss = await page.evaluate(() => ({ flag: window.__xss, b: document.querySelectorAll('#views b, #views img, #views script').length,
    text: [...document.querySelectorAll('#heatmap-box .token')].map((e) => e.textContent).join(' ') }));
  check(xss.flag === undefined && xss.b === 0 && xss.text.includes('<'), `markup in tokens is shown as text (${xss.text.slice(0, 60)})`);
  await shot(page, '10-markup');

  // 11. A 2,000-token text renders and scrolls.
  const words = ['good', 'bad', 'the', 'film', 'plot', 'fine', 'and', 'was', 'a', 'end'];
  const long = Array.from({ length: 2000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
  await page.selectOption('#method-set', 'gradients');
  await ready(page);
  await page.fill('#text', long);
  const t0 = Date.now();
  await page.click('#explain');
  await ready(page);
  const total = Date.now() - t0;
  const drawn = Number(await page.evaluate(() => document.body.dataset.renderMs));
  s = await status(page);
  const rows = await page.$eval('#heatmap-box', (e) => Number(e.dataset.rows));
  const inDom = await page.$$eval('#heatmap-box .hrow', (els) => els.length);
  check(s.status === 'ready' && rows === 2000, `a 2,000-token text is explained (${s.message}; ${total} ms in the browser)`);
  check(drawn <= 2000, `its views are drawn in ${drawn} ms (target <= 2,000)`);
  check(inDom < 200, `only the rows in view are in the DOM (${inDom})`);
  const t1 = Date.now();
  await page.$eval('#heatmap-box', (e) => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); });
  await page.waitForSelector('#heatmap-box .hrow[data-index="1999"]', { timeout: 5000 });
  check(true, `scrolled to token 1999 in ${Date.now() - t1} ms`);
  await shot(page, '11-long');
  const render = await page.evaluate(() => {
    const t = performance.now();
    document.querySelector('#tabs button[data-view="graph"]').click();
    document.querySelector('#tabs button[data-view="heatmaps"]').click();
    return performance.now() - t;
  });
  check(render < 2000, `switching views on the 2,000-token text takes ${render.toFixed(0)} ms`);
  fs.writeFileSync(path.join(artifacts, 'timings.json'), JSON.stringify({ long_text_ms: total, long_text_drawn_ms: drawn, view_switch_ms: render }, null, 1));

  check(errors.length === 0, `no console or page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
} catch (e) {
  check(false, `explorer test stopped: ${e.stack || e}`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
