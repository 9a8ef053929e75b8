// What reading a corpus left out, as the note lines train and eval print on stderr: binary
// files, and charnn's own output (run folders, checkpoints) found in a folder of text.
// Not here: deciding what to leave out (src/node/corpus.ts).

import type { Corpus } from "../node/corpus.js";

/** At most this many paths are named in one note; the rest are counted. */
const MAX_NAMED = 5;

function named(paths: readonly string[]): string {
  const shown = paths.slice(0, MAX_NAMED).join(", ");
  return paths.length > MAX_NAMED ? `${shown} and ${paths.length - MAX_NAMED} more` : shown;
}

/** One line per kind of thing left out, without the "note: " prefix; none when nothing was. */
export function corpusNotes(corpus: Pick<Corpus, "skipped" | "leftOut">): string[] {
  const notes: string[] = [];
  const runFolders = corpus.leftOut.filter((entry) => entry.kind === "run-folder").map((entry) => entry.path);
  const checkpoints = corpus.leftOut.filter((entry) => entry.kind === "checkpoint").map((entry) => entry.path);
  if (runFolders.length > 0) notes.push(`left out ${named(runFolders)}: charnn run folder${runFolders.length > 1 ? "s" : ""} (checkpoints, not text)`);
  if (checkpoints.length > 0) notes.push(`left out ${named(checkpoints)}: charnn checkpoint${checkpoints.length > 1 ? "s" : ""}, not text`);
  if (corpus.skipped.length > 0) notes.push(`skipped ${named(corpus.skipped)}: ${corpus.skipped.length > 1 ? "they look" : "looks"} binary`);
  return notes;
}
