#include "report/page.h"

#include "report/plotly_asset.h"

namespace lumen::report {

std::string script_safe_json(const Json& j) {
  const std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + s.size() / 50);
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

const char* const kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2a44;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{padding:8px 28px 40px;max-width:1400px}section{background:#fff;border-radius:8px;padding:14px 18px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
.fig{border:1px solid #e3e6eb;border-radius:6px;padding:6px}.fig .plot{height:340px}
.fig .dl{text-align:right}.fig button,.controls button{font-size:12px;margin-left:6px;cursor:pointer}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #e3e6eb;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.note{font-size:13px;color:#555}.controls{margin:8px 0}.controls select,.controls input{margin-right:10px}
.inst{border-top:1px solid #e3e6eb;padding:8px 0}.inst .meta{font-size:12px;color:#444;margin-bottom:4px}
.hm{display:flex;align-items:flex-start;margin:2px 0}.hm .lbl{width:88px;flex:none;font-size:11px;color:#555;padding-top:3px}
.hm .toks{display:flex;flex-wrap:wrap;gap:2px}.tk{padding:1px 3px;border-radius:3px;font-size:13px;font-family:ui-monospace,Menlo,monospace}
.tk.rat{outline:1px dashed #2a7}
)CSS";

const char* const kPrelude = R"JS(
'use strict';
const LUMEN = JSON.parse(document.getElementById('lumen-data').textContent);
const errors = [];
function fail(msg) { errors.push(msg); document.body.dataset.errors = String(errors.length); }
window.addEventListener('error', e => fail(String(e.message)));
window.addEventListener('unhandledrejection', e => fail(String(e.reason)));
const consoleError = console.error.bind(console);
console.error = (...a) => { fail(a.map(String).join(' ')); consoleError(...a); };
const pending = [];
let figures = 0;
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function figure(parent, title, traces, layout) {
  const box = el('div', {class: 'fig'});
  const plot = el('div', {class: 'plot'});
  const dl = el('div', {class: 'dl'});
  const name = title.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
  for (const fmt of ['svg', 'png']) {
    const b = el('button', {type: 'button'}, 'Save ' + fmt.toUpperCase());
    b.addEventListener('click', () => Plotly.downloadImage(plot, {format: fmt, filename: name, width: 900, height: 500}));
    dl.appendChild(b);
  }
  if (layout && layout.height) plot.style.height = layout.height + 'px';
  box.appendChild(plot); box.appendChild(dl); parent.appendChild(box);
  const lay = Object.assign({title: {text: title, font: {size: 14}, x: 0.01, xanchor: 'left'}, margin: {l: 55, r: 15, t: 40, b: 45},
                             legend: {orientation: 'h', y: -0.2}}, layout);
  figures++;
  pending.push(Plotly.newPlot(plot, traces, lay, {displaylogo: false, responsive: true}));
}
)JS";

const char* const kEpilogue = R"JS(
try {
  build(document.querySelector('main'));
  Promise.all(pending).then(() => {
    document.body.dataset.figures = String(figures);
    document.body.dataset.status = errors.length ? 'error' : 'ok';
  }, e => { errors.push(String(e)); document.body.dataset.status = 'error'; });
} catch (e) {
  errors.push(String(e));
  document.body.dataset.status = 'error';
  throw e;
}
)JS";

}  // namespace

std::string render_page(const std::string& title, const std::string& subtitle, const Json& data, const char* script) {
  std::string html;
  html.reserve(plotly_js().size() + (1 << 20));
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  html += html_escape(title);
  html += "</title>\n<style>";
  html += kStyle;
  html += "</style>\n<script>/* plotly.js ";
  html += plotly_version();
  html += " (MIT) */\n";
  html += plotly_js();
  html += "\n</script>\n</head>\n<body data-status=\"loading\">\n<header><h1>";
  html += html_escape(title);
  html += "</h1><p>";
  html += html_escape(subtitle);
  html += "</p></header>\n<main></main>\n<script type=\"application/json\" id=\"lumen-data\">";
  html += script_safe_json(data);
  html += "</script>\n<script>";
  html += kPrelude;
  html += script;
  html += kEpilogue;
  html += "</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace lumen::report
