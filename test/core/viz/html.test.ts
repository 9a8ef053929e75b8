// The standalone HTML view: it loads nothing (no URL, no src/href, no fetch; a policy that
// forbids it), carries the view's data intact however odd the text, and escapes the title.

import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../src/core/viz/html.js";
import type { ActivationView } from "../../../src/core/viz/view.js";
import { dataOf, NETWORK_PATTERNS } from "./helpers.js";

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
