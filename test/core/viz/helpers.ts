// Test helpers for the views: reading plotted points back out of an SVG, the view data out of
// an HTML page, and the patterns by which a page would reach the network. Not a test file.

import type { ActivationView } from "../../../src/core/viz/view.js";

/** The points of <polyline data-series="NAME">, as [x, y] pixel pairs in document order. */
export function plottedPoints(svg: string, series: string): Array<[number, number]> {
  const match = new RegExp(`<polyline data-series="${series}"[^>]* points="([^"]*)"`).exec(svg);
  if (match === null) return [];
  return match[1]!.split(" ").map((pair) => pair.split(",").map(Number) as [number, number]);
}

/** Reasons an HTML file would touch the network. */
export const NETWORK_PATTERNS: RegExp[] = [
  /https?:\/\//i, /\/\/[a-z0-9.-]+\.[a-z]{2,}/i, /\bsrc\s*=/i, /\bhref\s*=/i, /url\s*\(/i, /@import/i,
  /\bfetch\s*\(/, /XMLHttpRequest/, /WebSocket/, /EventSource/, /\bimport\s*\(/, /<link\b/i, /<iframe\b/i, /<img\b/i,
  /<object\b/i, /<embed\b/i, /sendBeacon/,
];

export function dataOf(html: string): ActivationView {
  const match = /<script type="application\/json" id="view-data">([\s\S]*?)<\/script>/.exec(html);
  if (match === null) throw new Error("no view data in the page");
  return JSON.parse(match[1]!) as ActivationView;
}
