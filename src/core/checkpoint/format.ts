// The checkpoint format: one compact JSON document with everything an exact resume needs, float
// arrays stored as base64 of their little-endian bytes. Not the store: files, atomic writes and
// the run lock live in store.ts; this file only turns a state into text and text back into a
// checked state (every failure is a one-line CharnnError naming the file, exit code badInput).
//
// The envelope is the same for every version, so any charnn can say what a file is:
//   {"format":"charnn-checkpoint","version":N,<small fields>,<big fields>,"checksum":"sha256:HEX"}\n
// Checksum rule: HEX is the SHA-256 of the UTF-8 text before the final `,"checksum":` with "}"
// appended, i.e. of the document exactly as serialised before the checksum field was added. The
// check is one hash over the text as read (no re-serialisation), and it covers every other byte.

import { createHash } from "node:crypto";
import { CharnnError, ExitCode, badInput } from "../errors.js";

export const CHECKPOINT_FORMAT = "charnn-checkpoint";
export const CHECKPOINT_VERSION = 1;

export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointState {
  charnnVersion: string;
  /** ISO time. */
  createdAt: string;
  /** argv of the run. */
  command: string[];
  /** The resolved config (model + training options); opaque here. */
  config: Record<string, unknown>;
  /** Code points, strictly ascending. */
  vocabulary: number[];
  /** e.g. "weight_ih_l0" -> shape [4H, V]. */
  params: Record<string, TensorRecord>;
  /** Each buffer is as long as the flat parameter vector. */
  optimizer: { type: string; step: number; buffers: Record<string, Float32Array> };
  /** A seedrandom state object (plain JSON); opaque here. */
  rng: unknown;
  cursor: { epoch: number; window: number };
  /** Carried hidden state, flat. */
  hiddenState: Float32Array | null;
  step: number;
  epoch: number;
  /** [step, loss] pairs. */
  history: { train: Array<[number, number]>; validation: Array<[number, number]> };
  bestValidationLoss: number | null;
  corpus: { fingerprint: string; length: number };
  /** Exact resume only holds for the same backend, threads, node and platform. */
  runtime: { backend: string; threads: number; node: string; platform: string };
}

export interface DecodeOptions {
  /** The parameter shapes the config and vocabulary call for; checked against the file's. */
  expectedShapes?: (config: Record<string, unknown>, vocabularySize: number) => Map<string, number[]>;
}

/** Turns a parsed document of one format version into a state; checks every field it reads. */
export type CheckpointLoader = (document: Record<string, unknown>, sourceName: string) => CheckpointState;

type Json = Record<string, unknown>;

const DAMAGED_HINT = "use an earlier ckpt-*.json from the same folder, or train again";
const FOREIGN_HINT = "pass a checkpoint written by charnn train, e.g. checkpoints/latest.json";
const CHECKSUM_PREFIX = ',"checksum":"sha256:';
const CHECKSUM_TAIL = /^,"checksum":"sha256:([0-9a-f]{64})"\}\n?$/;

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The file text for a state. Refuses (CharnnError) a state that could not be read back: NaN or
 * infinite floats (exit code diverged), or a malformed field (exit code failure), so a bad
 * state never replaces a good checkpoint on disk.
 */
export function encodeCheckpoint(state: CheckpointState): string {
  checkSavable(state);
  // Small fields first so `head -c 2000 latest.json` shows what the file is and how it was made.
  const document = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...smallFields(state),
    optimizer: {
      type: state.optimizer.type,
      step: state.optimizer.step,
      buffers: Object.fromEntries(
        Object.entries(state.optimizer.buffers).map(([name, values]) => [name, floatsToBase64(values)]),
      ),
    },
    hiddenState: state.hiddenState === null ? null : floatsToBase64(state.hiddenState),
    params: Object.fromEntries(
      Object.entries(state.params).map(([name, tensor]) => [
        name,
        { shape: tensor.shape, data: floatsToBase64(tensor.data) },
      ]),
    ),
  };
  const body = JSON.stringify(document);
  return `${body.slice(0, -1)}${CHECKSUM_PREFIX}${sha256Hex(body)}"}\n`;
}

/** Everything but the float arrays, in file order. */
function smallFields(state: CheckpointState): Json {
  return {
    charnnVersion: state.charnnVersion,
    createdAt: state.createdAt,
    command: state.command,
    config: state.config,
    runtime: state.runtime,
    corpus: state.corpus,
    cursor: state.cursor,
    step: state.step,
    epoch: state.epoch,
    bestValidationLoss: state.bestValidationLoss,
    history: state.history,
    vocabulary: state.vocabulary,
    rng: state.rng,
  };
}

function checkSavable(state: CheckpointState): void {
  // JSON has no NaN (it would be written as null), and a non-finite loss means the run diverged.
  const lossProblem = firstNonFiniteLoss(state);
  if (lossProblem) throw refuseDiverged(lossProblem);
  // The small fields go through the same reader a load uses, so what is written can be read.
  try {
    readSmallFields(new FieldReader("checkpoint to save", smallFields(state), ""));
    new FieldReader("checkpoint to save", state.optimizer as unknown as Json, "optimizer.").string("type");
  } catch (error) {
    if (error instanceof CharnnError) {
      throw new CharnnError(`cannot save checkpoint: ${error.message}`, ExitCode.failure);
    }
    throw error;
  }
  if (!Number.isSafeInteger(state.optimizer.step) || state.optimizer.step < 0) {
    throw new CharnnError(`cannot save checkpoint: optimizer.step is ${state.optimizer.step}`, ExitCode.failure);
  }
  let parameterCount = 0;
  for (const [name, tensor] of Object.entries(state.params)) {
    if (!(tensor.data instanceof Float32Array)) {
      throw new CharnnError(`cannot save checkpoint: ${name} is not a Float32Array`, ExitCode.failure);
    }
    const needed = shapeSize(tensor.shape);
    if (needed !== tensor.data.length) {
      throw new CharnnError(
        `cannot save checkpoint: ${name} has ${tensor.data.length} values but shape ${formatShape(tensor.shape)} needs ${needed}`,
        ExitCode.failure,
      );
    }
    parameterCount += needed;
  }
  for (const [name, values] of Object.entries(state.optimizer.buffers)) {
    if (!(values instanceof Float32Array) || values.length !== parameterCount) {
      throw new CharnnError(
        `cannot save checkpoint: optimizer buffer ${name} must be a Float32Array of ${parameterCount} values (one per parameter)`,
        ExitCode.failure,
      );
    }
  }
  if (state.hiddenState !== null && !(state.hiddenState instanceof Float32Array)) {
    throw new CharnnError("cannot save checkpoint: hiddenState is not a Float32Array", ExitCode.failure);
  }
  const problem = firstNonFiniteProblem(state);
  if (problem) throw refuseDiverged(problem);
}

const refuseDiverged = (problem: string): CharnnError =>
  new CharnnError(
    `refusing to save a checkpoint: ${problem}`,
    ExitCode.diverged,
    "the run diverged; lower the learning rate or resume from an earlier checkpoint",
  );

function firstNonFiniteLoss(state: CheckpointState): string | null {
  const { bestValidationLoss, history } = state;
  if (typeof bestValidationLoss === "number" && !Number.isFinite(bestValidationLoss)) {
    return `bestValidationLoss is ${bestValidationLoss}`;
  }
  for (const series of ["train", "validation"] as const) {
    const pairs: unknown = history?.[series];
    if (!Array.isArray(pairs)) continue;
    const index = pairs.findIndex((pair) => Array.isArray(pair) && typeof pair[1] === "number" && !Number.isFinite(pair[1]));
    if (index >= 0) return `the loss at history.${series}[${index}] is ${pairs[index][1]}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The state a checkpoint's text holds, after checking the envelope, checksum and every field. */
export function decodeCheckpoint(text: string, sourceName: string, options: DecodeOptions = {}): CheckpointState {
  const document = parseDocument(text, sourceName);
  checkFormat(document, sourceName);
  verifyChecksum(text, document, sourceName);
  const loader = CHECKPOINT_LOADERS[readVersion(document, sourceName)];
  const state = loader(document, sourceName);
  const problem = firstNonFiniteProblem(state);
  if (problem) throw badInput(`${sourceName}: ${problem}`, DAMAGED_HINT);
  if (options.expectedShapes) {
    let expected: Map<string, number[]>;
    try {
      expected = options.expectedShapes(state.config, state.vocabulary.length);
    } catch (error) {
      // The caller judges the config; the message still has to name the file like every other.
      if (error instanceof CharnnError) throw badInput(`${sourceName}: ${error.message}`, error.hint ?? DAMAGED_HINT);
      throw error;
    }
    checkShapes(state, expected, sourceName);
  }
  return state;
}

function parseDocument(text: string, sourceName: string): Json {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw badInput(`${sourceName}: not a charnn checkpoint (not JSON: ${describeParseError(text, error)})`, FOREIGN_HINT);
  }
  if (!isPlainObject(document)) {
    throw badInput(`${sourceName}: not a charnn checkpoint (a JSON ${describeJsonType(document)}, not an object)`, FOREIGN_HINT);
  }
  return document;
}

function describeParseError(text: string, error: unknown): string {
  if (text.trim().length === 0) return "the file is empty; it may be truncated";
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  // A parse that runs off the end of the text means the writer stopped early: a truncated file.
  const atEnd = /end of JSON input/i.test(message) || (position !== null && Number(position[1]) >= text.trimEnd().length);
  if (atEnd) return "it ends in the middle of the document; the file may be truncated";
  // V8 quotes a slice of the input, which in a binary file holds control bytes: keep one line.
  const oneLine = message.replace(/[^\x20-\x7e]/g, "?");
  const short = oneLine.length > 100 ? `${oneLine.slice(0, 97)}...` : oneLine;
  return short.charAt(0).toLowerCase() + short.slice(1);
}

function checkFormat(document: Json, sourceName: string): void {
  if (!Object.hasOwn(document, "format")) {
    throw badInput(`${sourceName}: not a charnn checkpoint (no "format" field)`, FOREIGN_HINT);
  }
  if (document.format !== CHECKPOINT_FORMAT) {
    throw badInput(
      `${sourceName}: not a charnn checkpoint (format is ${describeValue(document.format)}, expected "${CHECKPOINT_FORMAT}")`,
      FOREIGN_HINT,
    );
  }
}

function verifyChecksum(text: string, document: Json, sourceName: string): void {
  if (!Object.hasOwn(document, "checksum")) {
    throw badInput(`${sourceName}: missing field "checksum"`, DAMAGED_HINT);
  }
  const start = text.lastIndexOf(CHECKSUM_PREFIX);
  const tail = start < 0 ? null : CHECKSUM_TAIL.exec(text.slice(start));
  if (tail === null || document.checksum !== `sha256:${tail[1]}`) {
    throw badInput(
      `${sourceName}: field "checksum" is malformed (expected "sha256:<64 hex digits>" as the last field)`,
      DAMAGED_HINT,
    );
  }
  const actual = createHash("sha256").update(text.slice(0, start), "utf8").update("}", "utf8").digest("hex");
  if (actual !== tail[1]) {
    throw badInput(`${sourceName}: checksum mismatch: the file was changed or damaged after it was written`, DAMAGED_HINT);
  }
}

function readVersion(document: Json, sourceName: string): number {
  const version = document.version;
  if (version === undefined) throw badInput(`${sourceName}: missing field "version"`, DAMAGED_HINT);
  if (typeof version !== "number" || !Number.isSafeInteger(version)) {
    throw badInput(`${sourceName}: field "version" must be a whole number, found ${describeValue(version)}`, DAMAGED_HINT);
  }
  if (version > CHECKPOINT_VERSION) {
    throw badInput(
      `${sourceName}: written by a newer charnn (format ${version}); upgrade charnn`,
      `this charnn reads checkpoint formats ${oldestReadableVersion()} to ${CHECKPOINT_VERSION}`,
    );
  }
  if (!Object.hasOwn(CHECKPOINT_LOADERS, version)) {
    throw badInput(
      `${sourceName}: written by an older charnn (format ${version}), which this charnn no longer reads`,
      `upgrade the file by resuming it once with an earlier charnn release that reads format ${version} ` +
        `(it saves the newest format it knows), or train a new model`,
    );
  }
  return version;
}

const oldestReadableVersion = (): number => Math.min(...Object.keys(CHECKPOINT_LOADERS).map(Number));

function loadVersion1(document: Json, sourceName: string): CheckpointState {
  const fields = new FieldReader(sourceName, document, "");
  const small = readSmallFields(fields);
  const params = readParams(fields.nested("params"));
  const parameterCount = Object.values(params).reduce((sum, tensor) => sum + tensor.data.length, 0);
  const optimizerFields = fields.nested("optimizer");
  const bufferFields = optimizerFields.nested("buffers");
  const buffers: Record<string, Float32Array> = {};
  for (const name of bufferFields.keys()) {
    const values = bufferFields.floats(name);
    if (values.length !== parameterCount) {
      throw fields.fail(
        `optimizer buffer ${name} has ${values.length} values, expected ${parameterCount} (one per parameter)`,
      );
    }
    buffers[name] = values;
  }
  return {
    ...small,
    params,
    optimizer: { type: optimizerFields.string("type"), step: optimizerFields.integer("step", 0), buffers },
    hiddenState: fields.value("hiddenState") === null ? null : fields.floats("hiddenState"),
  };
}

/** Loaders by format version; a new version adds an entry and older files keep loading. */
export const CHECKPOINT_LOADERS: Readonly<Record<number, CheckpointLoader>> = Object.freeze({
  1: loadVersion1,
});

type SmallFields = Omit<CheckpointState, "params" | "optimizer" | "hiddenState">;

function readSmallFields(fields: FieldReader): SmallFields {
  const runtime = fields.nested("runtime");
  const corpus = fields.nested("corpus");
  const cursor = fields.nested("cursor");
  const history = fields.nested("history");
  return {
    charnnVersion: fields.string("charnnVersion"),
    createdAt: fields.isoTime("createdAt"),
    command: fields.stringList("command"),
    config: fields.nested("config").object,
    runtime: {
      backend: runtime.string("backend"),
      threads: runtime.integer("threads", 1),
      node: runtime.string("node"),
      platform: runtime.string("platform"),
    },
    corpus: { fingerprint: corpus.string("fingerprint"), length: corpus.integer("length", 0) },
    cursor: { epoch: cursor.integer("epoch", 0), window: cursor.integer("window", 0) },
    step: fields.integer("step", 0),
    epoch: fields.integer("epoch", 0),
    bestValidationLoss: fields.finiteOrNull("bestValidationLoss"),
    history: { train: history.lossPairs("train"), validation: history.lossPairs("validation") },
    vocabulary: fields.vocabulary("vocabulary"),
    rng: fields.jsonObject("rng"),
  };
}

function readParams(fields: FieldReader): Record<string, TensorRecord> {
  const names = fields.keys();
  if (names.length === 0) throw fields.fail("params holds no parameters");
  const params: Record<string, TensorRecord> = {};
  for (const name of names) {
    const tensor = fields.nested(name);
    const shape = tensor.integerList("shape", 0);
    const data = tensor.floats("data");
    if (data.length !== shapeSize(shape)) {
      throw fields.fail(`${name} has ${data.length} values but its shape ${formatShape(shape)} needs ${shapeSize(shape)}`);
    }
    params[name] = { shape, data };
  }
  return params;
}

function checkShapes(state: CheckpointState, expected: Map<string, number[]>, sourceName: string): void {
  const vocabularySize = state.vocabulary.length;
  for (const [name, expectedShape] of expected) {
    const tensor = state.params[name];
    if (tensor === undefined) {
      throw badInput(`${sourceName}: parameter ${name} is missing (the config does not match the weights)`, DAMAGED_HINT);
    }
    if (!sameShape(tensor.shape, expectedShape)) {
      // Where the expected size is the vocabulary's, the vocabulary is what disagrees.
      const vocabularyDims = expectedShape.some((size, axis) => size !== tensor.shape[axis] && size === vocabularySize);
      const culprit = vocabularyDims ? "the vocabulary" : "the config";
      throw badInput(
        `${sourceName}: ${name} has shape ${formatShape(tensor.shape)}, expected ${formatShape(expectedShape)} (${culprit} does not match the weights)`,
        DAMAGED_HINT,
      );
    }
  }
  for (const name of Object.keys(state.params)) {
    if (!expected.has(name)) {
      throw badInput(`${sourceName}: unexpected parameter ${name} (the config does not match the weights)`, DAMAGED_HINT);
    }
  }
}

/** The first NaN or infinite value in the weights, optimizer state or hidden state, in words. */
function firstNonFiniteProblem(state: CheckpointState): string | null {
  const groups: Array<[string, Array<[string, Float32Array]>]> = [
    ["weights contain", Object.entries(state.params).map(([name, tensor]) => [name, tensor.data])],
    ["optimizer state contains", Object.entries(state.optimizer.buffers)],
    ["hidden state contains", state.hiddenState === null ? [] : [["hiddenState", state.hiddenState]]],
  ];
  for (const [what, arrays] of groups) {
    for (const [name, values] of arrays) {
      for (let index = 0; index < values.length; index++) {
        const value = values[index]!;
        if (!Number.isFinite(value)) return `${what} ${String(value)} (${name}[${index}])`;
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Field reading: each reader sits on one JSON object and names fields by their dotted path.

class FieldReader {
  constructor(
    private readonly sourceName: string,
    readonly object: Json,
    private readonly prefix: string,
  ) {}

  fail(message: string): CharnnError {
    return badInput(`${this.sourceName}: ${message}`, DAMAGED_HINT);
  }

  keys(): string[] {
    return Object.keys(this.object);
  }

  value(key: string): unknown {
    const value = Object.hasOwn(this.object, key) ? this.object[key] : undefined;
    if (value === undefined) throw this.fail(`missing field "${this.prefix}${key}"`);
    return value;
  }

  private wrongType(key: string, wanted: string, found: unknown): CharnnError {
    return this.fail(`field "${this.prefix}${key}" must be ${wanted}, found ${describeValue(found)}`);
  }

  nested(key: string): FieldReader {
    const value = this.value(key);
    if (!isPlainObject(value)) throw this.wrongType(key, "an object", value);
    return new FieldReader(this.sourceName, value, `${this.prefix}${key}.`);
  }

  jsonObject(key: string): unknown {
    const value = this.value(key);
    if (typeof value !== "object" || value === null) throw this.wrongType(key, "an object", value);
    return value;
  }

  string(key: string): string {
    const value = this.value(key);
    if (typeof value !== "string") throw this.wrongType(key, "text", value);
    return value;
  }

  isoTime(key: string): string {
    const value = this.string(key);
    if (Number.isNaN(Date.parse(value))) throw this.wrongType(key, "an ISO time", value);
    return value;
  }

  integer(key: string, minimum: number): number {
    const value = this.value(key);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
      throw this.wrongType(key, `a whole number >= ${minimum}`, value);
    }
    return value;
  }

  finiteOrNull(key: string): number | null {
    const value = this.value(key);
    if (value === null) return null;
    if (typeof value !== "number" || !Number.isFinite(value)) throw this.wrongType(key, "a number or null", value);
    return value;
  }

  stringList(key: string): string[] {
    const value = this.value(key);
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
      throw this.wrongType(key, "a list of text", value);
    }
    return [...value] as string[];
  }

  integerList(key: string, minimum: number): number[] {
    const value = this.value(key);
    if (!Array.isArray(value) || !value.every((item) => Number.isSafeInteger(item) && (item as number) >= minimum)) {
      throw this.wrongType(key, `a list of whole numbers >= ${minimum}`, value);
    }
    return [...value] as number[];
  }

  lossPairs(key: string): Array<[number, number]> {
    const value = this.value(key);
    if (!Array.isArray(value)) throw this.wrongType(key, "a list of [step, loss] pairs", value);
    return value.map((pair: unknown, index) => {
      const valid =
        Array.isArray(pair) &&
        pair.length === 2 &&
        Number.isSafeInteger(pair[0]) &&
        (pair[0] as number) >= 0 &&
        Number.isFinite(pair[1]);
      if (!valid) throw this.wrongType(`${key}[${index}]`, "a [step, loss] pair of numbers", pair);
      return [pair[0], pair[1]] as [number, number];
    });
  }

  vocabulary(key: string): number[] {
    const value = this.value(key);
    const invalid = (why: string): CharnnError => this.fail(`${this.prefix}${key} is invalid: ${why}`);
    if (!Array.isArray(value)) throw invalid(`expected a list of code points, found ${describeValue(value)}`);
    if (value.length === 0) throw invalid("it is empty");
    value.forEach((codePoint: unknown, index) => {
      if (!Number.isInteger(codePoint) || (codePoint as number) < 0 || (codePoint as number) > 0x10ffff) {
        throw invalid(`entry ${index} (${describeValue(codePoint)}) is not a Unicode code point`);
      }
      if (index > 0 && (codePoint as number) <= value[index - 1]) {
        throw invalid(`entry ${index} (${codePoint}) does not come after entry ${index - 1} (${value[index - 1]}); code points must be strictly ascending`);
      }
    });
    return [...value] as number[];
  }

  floats(key: string): Float32Array {
    const value = this.value(key);
    if (typeof value !== "string") throw this.wrongType(key, "base64 text", value);
    const bytes = Buffer.from(value, "base64");
    // Node's decoder skips characters it does not know; re-encoding catches them (and bad padding).
    if (bytes.toString("base64") !== value) throw this.fail(`field "${this.prefix}${key}" is not valid base64`);
    if (bytes.length % 4 !== 0) {
      throw this.fail(`field "${this.prefix}${key}" holds ${bytes.length} bytes, not a whole number of 4-byte floats`);
    }
    return littleEndianBytesToFloats(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function floatsToBase64(values: Float32Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (hostIsLittleEndian) return bytes.toString("base64");
  return Buffer.from(bytes).swap32().toString("base64");
}

function littleEndianBytesToFloats(bytes: Uint8Array): Float32Array {
  // A copy, because a decoded Buffer may sit at an offset that is not a multiple of 4.
  const floats = new Float32Array(bytes.length / 4);
  new Uint8Array(floats.buffer).set(bytes);
  if (!hostIsLittleEndian) Buffer.from(floats.buffer).swap32();
  return floats;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

const shapeSize = (shape: number[]): number => shape.reduce((product, size) => product * size, 1);

const formatShape = (shape: number[]): string => `[${shape.join(",")}]`;

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((size, axis) => size === b[axis]);

function isPlainObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  return typeof value === "string" ? "string" : typeof value;
}

/** A value as it would appear in the file, cut short so a message stays one line. */
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (typeof value === "number" && !Number.isFinite(value)) shown = String(value);
  return shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
}
