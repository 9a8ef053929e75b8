// The activation view as one standalone HTML file: the text with each character's background
// coloured by a unit's value (the terminal view's colours), a unit chooser, and a panel that
// shows, for the character under the pointer, the unit's value and the model's top predictions
// there. Everything is inline (CSS, script, data); the file loads nothing from anywhere.
// Not here: computing the view (view.ts) or writing the file.

import { colorOf } from "./terminal.js";
import type { ActivationView } from "./view.js";

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** JSON safe inside a <script> element: no "</script", no "<!--", whatever the text holds. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

export const VIEW_CSS = `
body { background: #1e1e1e; color: #ddd; font: 14px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; margin: 0; }
header { position: sticky; top: 0; background: #262626; border-bottom: 1px solid #444; padding: 8px 16px; }
header h1 { font-size: 15px; margin: 0 0 6px; font-weight: 600; }
header label { margin-right: 12px; }
#panel { min-height: 2.9em; white-space: pre-wrap; color: #eee; }
#panel .k { color: #999; }
#legend span { display: inline-block; width: 18px; height: 12px; vertical-align: middle; }
#text { white-space: pre-wrap; word-break: break-all; padding: 12px 16px; color: #fff; }
#text span { cursor: default; }
#text span.nl { color: #888; }
#text span.at { outline: 2px solid #fff; outline-offset: -1px; }
`;

/**
 * The page's script: reads the view from the JSON block, draws the spans, recolours them when
 * the unit changes, and fills the panel on hover (or for #at=N in the address, so a screenshot
 * can show it). colorOf's arithmetic is repeated here from the terminal view's constants.
 */
export function viewScript(neutral: readonly number[], positive: readonly number[], negative: readonly number[]): string {
  return `
(function () {
  var view = JSON.parse(document.getElementById("view-data").textContent);
  var NEUTRAL = ${JSON.stringify(neutral)}, POSITIVE = ${JSON.stringify(positive)}, NEGATIVE = ${JSON.stringify(negative)};
  function color(v) {
    v = Math.max(-1, Math.min(1, v || 0));
    var end = v >= 0 ? POSITIVE : NEGATIVE, t = Math.abs(v), rgb = [];
    for (var i = 0; i < 3; i++) rgb.push(Math.round(NEUTRAL[i] + (end[i] - NEUTRAL[i]) * t));
    return "rgb(" + rgb.join(",") + ")";
  }
  var text = document.getElementById("text"), panel = document.getElementById("panel");
  var chooser = document.getElementById("unit"), legend = document.getElementById("legend");
  var spans = [], current = 0, selected = -1;
  view.characters.forEach(function (ch, t) {
    var span = document.createElement("span");
    span.dataset.t = String(t);
    if (ch === "\\n") { span.textContent = "\\u21b5"; span.className = "nl"; }
    else span.textContent = ch;
    text.appendChild(span);
    if (ch === "\\n") text.appendChild(document.createTextNode("\\n"));
    spans.push(span);
  });
  view.units.forEach(function (unit, i) {
    var option = document.createElement("option");
    option.value = String(i);
    option.textContent = unit.label;
    chooser.appendChild(option);
  });
  function shown(ch) { return ch === "\\n" ? "\\\\n" : ch === "\\t" ? "\\\\t" : ch === " " ? "space" : ch; }
  function paint() {
    var unit = view.units[current];
    for (var t = 0; t < spans.length; t++) spans[t].style.background = color(unit.values[t] / unit.scale);
    legend.innerHTML = "";
    legend.appendChild(document.createTextNode((-unit.scale).toFixed(2) + " "));
    for (var i = -5; i <= 5; i++) {
      var swatch = document.createElement("span");
      swatch.style.background = color(i / 5);
      legend.appendChild(swatch);
    }
    legend.appendChild(document.createTextNode(" " + unit.scale.toFixed(2)));
    if (selected >= 0) describe(selected);
  }
  function describe(t) {
    var unit = view.units[current], ch = view.characters[t];
    var next = view.predictions[t].map(function (p) { return "\\u201c" + shown(p.text) + "\\u201d " + (100 * p.probability).toFixed(1) + "%"; });
    panel.innerHTML = "";
    var name = "layer " + unit.layer + " unit " + unit.unit + " (" + unit.state + ")";
    var line1 = "character " + t + " \\u201c" + shown(ch) + "\\u201d   " + name + " = " + unit.values[t].toFixed(4);
    var line2 = "next: " + next.join("   ");
    panel.appendChild(document.createTextNode(line1 + "\\n" + line2));
  }
  function select(t) {
    if (selected >= 0) spans[selected].classList.remove("at");
    selected = t;
    spans[t].classList.add("at");
    describe(t);
  }
  text.addEventListener("mouseover", function (event) {
    var t = event.target && event.target.dataset ? event.target.dataset.t : undefined;
    if (t !== undefined) select(Number(t));
  });
  chooser.addEventListener("change", function () { current = Number(chooser.value); paint(); });
  paint();
  var at = /(?:^#|&)at=(\\d+)/.exec(location.hash);
  if (at && Number(at[1]) < spans.length) select(Number(at[1]));
})();
`;
}

const NEUTRAL = colorOf(0);
const POSITIVE = colorOf(1);
const NEGATIVE = colorOf(-1);

/** The whole document. The view's text only ever enters as JSON data or escaped markup. */
export function renderHtml(view: ActivationView): string {
  const title = escapeHtml(view.title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${title}</title>
<style>${VIEW_CSS}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<label>unit <select id="unit"></select></label><span id="legend"></span>
<div id="panel">hover over a character to see the unit's value there and the model's most likely next characters</div>
</header>
<div id="text"></div>
<script type="application/json" id="view-data">${scriptJson(view)}</script>
<script>${viewScript(NEUTRAL, POSITIVE, NEGATIVE)}</script>
</body>
</html>
`;
}
