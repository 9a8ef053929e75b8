// The standalone HTML view: it loads nothing (no URL, no src/href, no fetch; a policy that
// forbids it), carries the view's data intact however odd the text, and escapes the title.

import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../src/core/viz/html.js";
import type { ActivationView } from "../../../src/core/viz/view.js";

/** Reasons an HTML file would touch the network, as patterns; shared with the CLI test. */
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

const view: ActivationView = {
  title: 'a <b>"title"</b>',
  characters: [..."x</script><!--\n😀"],
  predictions: [..."x</script><!--\n😀"].map(() => [{ text: "<", probability: 0.5 }]),
  units: [{ layer: 0, unit: 1, state: "h", label: "layer 0 unit 1 (h)", values: [..."x</script><!--\n😀"].map((_, i) => i / 20), scale: 1 }],
};

describe("renderHtml", () => {
  const html = renderHtml(view);

  it("needs no network: nothing that names a URL or loads a resource, and a policy that forbids loads", () => {
    for (const pattern of NETWORK_PATTERNS) expect(html, String(pattern)).not.toMatch(pattern);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"`);
  });

  it("carries the view intact, with text that would close the script element escaped", () => {
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(dataOf(html)).toEqual(view);
  });

  it("escapes the title", () => {
    expect(html).toContain("<title>a &lt;b&gt;&quot;title&quot;&lt;/b&gt;</title>");
  });
});
