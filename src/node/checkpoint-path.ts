// Which file a checkpoint argument names: a file as it is, a run folder as its latest.json (or
// best.json when the best one is asked for), and, when there is nothing there, the run folders
// nearby that the caller can suggest instead. Looks at the file system only; it reads no
// checkpoint and names no flag (src/cli/checkpoint-arg.ts turns the outcome into messages).

import { existsSync, readdirSync, statSync, type Dirent } from "node:fs";
import path from "node:path";

export const LATEST_FILE = "latest.json";
export const BEST_FILE = "best.json";

/** How many nearby run folders are offered at most. */
const MAX_SUGGESTIONS = 3;

export type CheckpointLocation =
  /** `file` is the checkpoint to read, relative to cwd when the argument was. */
  | { found: true; file: string }
  /**
   * Nothing to read. `file` is what was looked for; `reason` says why it is not there:
   * - "missing": no such file or folder;
   * - "no-best": the folder has a latest.json but no best.json (no validation pass improved yet);
   * - "not-a-run": a folder without latest.json.
   * `runFolders` are folders below cwd (or below the folder given) that hold a latest.json,
   * the most recently written first, relative to cwd when the argument was.
   */
  | { found: false; file: string; reason: "missing" | "no-best" | "not-a-run"; runFolders: string[] };

const isDirectory = (absolute: string): boolean => {
  try {
    return statSync(absolute).isDirectory();
  } catch {
    return false;
  }
};

const isRunFolder = (absolute: string): boolean => existsSync(path.join(absolute, LATEST_FILE));

/** Subfolders (one and two levels down) of `root` that hold a latest.json, with its mtime. */
function runFoldersBelow(root: string, depth: number): Array<{ absolute: string; mtimeMs: number }> {
  const found: Array<{ absolute: string; mtimeMs: number }> = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    // node_modules and dot folders hold no runs of the user's, and can be large to walk.
    if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const absolute = path.join(root, entry.name);
    if (isRunFolder(absolute)) {
      found.push({ absolute, mtimeMs: statSync(path.join(absolute, LATEST_FILE)).mtimeMs });
    } else if (depth > 1) {
      found.push(...runFoldersBelow(absolute, depth - 1));
    }
  }
  return found;
}

/**
 * Run folders worth suggesting: below the folder given (when it exists), else below cwd.
 * Paths come back relative to cwd, or absolute when `argument` was absolute.
 */
function nearbyRunFolders(argument: string, cwd: string): string[] {
  const absolute = path.resolve(cwd, argument);
  const root = isDirectory(absolute) ? absolute : cwd;
  const folders = runFoldersBelow(root, 2)
    .sort((a, b) => b.mtimeMs - a.mtimeMs || a.absolute.localeCompare(b.absolute))
    .slice(0, MAX_SUGGESTIONS);
  return folders.map(({ absolute: folder }) => (path.isAbsolute(argument) ? folder : path.relative(cwd, folder) || "."));
}

/**
 * The checkpoint a FILE|DIR argument names. `best`: best.json of the run folder (the folder
 * given, or the folder of the file given) instead of the file itself or its latest.json.
 */
export function locateCheckpoint(argument: string, best: boolean, cwd: string): CheckpointLocation {
  const absolute = path.resolve(cwd, argument);
  const folderGiven = isDirectory(absolute);
  const folder = folderGiven ? argument : path.dirname(argument);
  const file = best ? path.join(folder, BEST_FILE) : folderGiven ? path.join(argument, LATEST_FILE) : argument;
  if (existsSync(path.resolve(cwd, file)) && !isDirectory(path.resolve(cwd, file))) return { found: true, file };

  const folderIsRun = isRunFolder(path.resolve(cwd, folder));
  const reason = best && folderIsRun ? "no-best" : folderGiven ? "not-a-run" : "missing";
  return { found: false, file, reason, runFolders: reason === "no-best" ? [] : nearbyRunFolders(argument, cwd) };
}
