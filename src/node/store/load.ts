// Reading a checkpoint file: the first step of the straight-line load (read -> verify -> decode
// -> validate), the rest of which is decodeCheckpoint in the core. Missing files, folders and
// unreadable files get one-line messages that say what to do.

import { join } from "node:path";
import * as fsPromises from "node:fs/promises";
import { badInput } from "../../core/errors.js";
import { decodeCheckpoint, type Checkpoint } from "../../core/checkpoint/load.js";
import { describeErrno, errnoCode } from "./errors.js";
import { nodeCodec } from "../codec.js";

/**
 * The checkpoint at `path`, read, verified, decoded and validated against its own settings
 * (decodeCheckpoint); every failure is a one-line CharnnError naming the file.
 */
export async function loadCheckpointFile(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await fsPromises.readFile(path, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") throw badInput(`no checkpoint at ${path}`, "train one first: charnn train FILE", { code: "checkpoint.missing", facts: { path } });
    if (code === "EISDIR") {
      throw badInput(`${path} is a folder, not a checkpoint`, `pass a checkpoint file such as ${join(path, "latest.json")}`, { code: "checkpoint.missing", facts: { path } });
    }
    throw badInput(`cannot read ${path}: ${describeErrno(error)}`, undefined, { code: "checkpoint.unreadable", facts: { path, errno: code } });
  }
  return decodeCheckpoint(text, path, nodeCodec);
}

