// The explorer's calls to `lumen serve` (docs/api.md). Errors carry the server's message.
async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data;
  try {
    data = await res.json();
  } catch {
    throw new Error(`${method} ${path}: HTTP ${res.status}`);
  }
  if (!res.ok) {
    const field = data.field ? ` (field ${data.field})` : '';
    throw new Error(`${data.error || 'HTTP ' + res.status}${field}`);
  }
  return data;
}

export const api = {
  runs: () => call('GET', '/api/runs'),
  examples: (run, split, q, limit = 50) =>
    call('GET', `/api/runs/${encodeURIComponent(run)}/examples?split=${encodeURIComponent(split)}&q=${encodeURIComponent(q)}&limit=${limit}`),
  explain: (body) => call('POST', '/api/explain', body),
  predict: (body) => call('POST', '/api/predict', body),
  analysis: (body) => call('POST', '/api/analysis', body),
  nle: (body) => call('POST', '/api/nle', body),
  attack: (body) => call('POST', '/api/attack', body),
  influence: (body) => call('POST', '/api/influence', body),
  counterfactual: (body) => call('POST', '/api/counterfactual', body),
  submitJob: (body) => call('POST', '/api/jobs', body),
  job: (id) => call('GET', `/api/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id) => call('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
};
