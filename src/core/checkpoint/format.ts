// The checkpoint format: one compact JSON document, float arrays stored as base64 of their
// little-endian bytes. Not the store (files, atomic writes and the lock live in src/node/store/)
// and not the judge of settings or shapes (load.ts holds the document to the model it describes):
// this file only turns a state into text and text back into a state whose every field has the
// type it should, each failure a one-line CharnnError naming the file and the dotted path.
//
// The envelope is the same for every version, so any charnn can say what a file is:
//   {"format":"charnn-checkpoint","version":N,<small fields>,<big fields>,"checksum":"sha256:HEX"}\n
// Checksum rule: HEX is the SHA-256 of the UTF-8 text before the final `,"checksum":` with "}"
// appended, i.e. of the document exactly as serialised before the checksum field was added. The
// check is one hash over the text as read (no re-serialisation), and it covers every other byte.
//
// Version 2 (written now) adds what a run needs beyond an exact resume: the kind of file (a whole
// training state, or weights only), where each setting came from, the corpus's paths, every
// invocation's command line, the schedule's step count, the kernel variant, a start state the
// model knows and what a time-budget chooser measured. Version 1 files are read into the same
// state, with what they could not record filled in as described at loadVersion1.

import { CharnnError, ExitCode, badInput } from "../errors.js";
import { isPlainObject } from "../util/objects.js";
import { base64Length, writeFloatsBase64 } from "./base64.js";
import { portableCodec, type CheckpointCodec } from "./codec.js";

export const CHECKPOINT_FORMAT = "charnn-checkpoint";
export const CHECKPOINT_VERSION = 2;

export interface TensorRecord {
  shape: number[];
  data: Float32Array;
}

/** Where a setting's value came from: the user, charnn's defaults, or charnn's own choice for this run. */
export type SettingSource = "given" | "default" | "chosen";
export const SETTING_SOURCES: readonly SettingSource[] = ["given", "default", "chosen"];

export type CheckpointKind = "training" | "weights";

/** The kernels a run computed with: exact resume holds only for the same variant and threads. */
export type KernelVariant = "js" | "wasm" | "wasm-relaxed";
export const KERNEL_VARIANTS: readonly KernelVariant[] = ["js", "wasm", "wasm-relaxed"];

export interface CorpusRecord {
  /** fingerprintCodePoints of the decoded text. */
  fingerprint: string;
  /** Characters (code points). */
  length: number;
  /** The inputs as given, resolved to absolute paths; "-" for standard input. */
  paths: string[];
}

/** One command line that trained this run. */
export interface Invocation {
  argv: string[];
  /** ISO time. */
  startedAt: string;
  /** The step it started from: 0 for the first, the resumed step for later ones. */
  fromStep: number;
}

export interface RuntimeRecord {
  backend: string;
  threads: number;
  variant: KernelVariant;
  /** process.version of the node that wrote it, e.g. "v20.19.0". */
  node: string;
  /** e.g. "linux-x64". */
  platform: string;
}

export interface ScheduleRecord {
  /** The step count the learning-rate schedule is defined over; null when none is (a time budget alone). */
  totalSteps: number | null;
}

/** What a time-budget chooser measured, and why it chose the settings marked "chosen". */
export interface ChoiceRecord {
  reason: string;
  measured: Record<string, number>;
}

export interface History {
  /** [step, loss] pairs. */
  train: Array<[number, number]>;
  validation: Array<[number, number]>;
}

/** What both kinds hold: the model, and the record of the run that made it. */
export interface CheckpointBase<Config = Record<string, unknown>> {
  charnnVersion: string;
  /** ISO time. */
  createdAt: string;
  /** The run's settings (no per-invocation ones such as out or json); opaque here. */
  config: Config;
  settingSources: Record<string, SettingSource>;
  /** Code points, strictly ascending. */
  vocabulary: number[];
  /** e.g. "weight_ih_l0" -> shape [4H, V]. */
  params: Record<string, TensorRecord>;
  /** A hidden state the model knows, for unprimed samples and per-line scoring ("h", and "c" for lstm: [L, H]). */
  startState: Record<string, TensorRecord> | null;
  /** Null only for weights that did not come from a charnn run (imported). */
  corpus: CorpusRecord | null;
  invocations: Invocation[];
  schedule: ScheduleRecord | null;
  runtime: RuntimeRecord | null;
  choice: ChoiceRecord | null;
  step: number;
  epoch: number;
  history: History;
  bestValidationLoss: number | null;
}

/** The state only an exact resume needs. */
export interface TrainingState {
  /** Each buffer is as long as the flat parameter vector. */
  optimizer: { type: string; step: number; buffers: Record<string, Float32Array> };
  /** A seedrandom state object (plain JSON); opaque here. */
  rng: unknown;
  cursor: { epoch: number; window: number };
  /** Carried hidden state, flat. */
  hiddenState: Float32Array | null;
}

/** A whole training state: resumable exactly. */
export interface TrainingCheckpointState<Config = Record<string, unknown>> extends CheckpointBase<Config>, TrainingState {
  kind: "training";
  corpus: CorpusRecord;
  schedule: ScheduleRecord;
  runtime: RuntimeRecord;
}

/** Weights only: for sampling, scoring and starting new runs (--init-from), never resumed. */
export interface WeightsCheckpointState<Config = Record<string, unknown>> extends CheckpointBase<Config> {
  kind: "weights";
}

export type CheckpointState<Config = Record<string, unknown>> = TrainingCheckpointState<Config> | WeightsCheckpointState<Config>;

/** Turns a parsed document of one format version into a state; checks every field it reads. */
export type CheckpointLoader = (document: Record<string, unknown>, sourceName: string, codec?: CheckpointCodec) => CheckpointState;

type Json = Record<string, unknown>;

export const DAMAGED_HINT = "use an earlier ckpt-*.json from the same folder, or train again";
const FOREIGN_HINT = "pass a checkpoint written by charnn train, e.g. checkpoints/latest.json";
/** The stable codes of a load's failures: the file is damaged (or inconsistent), or not a charnn checkpoint at all. */
export const DAMAGED = { code: "checkpoint.damaged" } as const;
export const FOREIGN = { code: "checkpoint.foreign" } as const;
const CHECKSUM_PREFIX = ',"checksum":"sha256:';
const CHECKSUM_TAIL = /^,"checksum":"sha256:([0-9a-f]{64})"\}\n?$/;

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The file text for a state. Refuses (CharnnError) a state that could not be read back: NaN or
 * infinite floats (exit code diverged), or a malformed field (exit code failure), so a bad
 * state never replaces a good checkpoint on disk.
 */
export function encodeCheckpoint(state: CheckpointState, codec: CheckpointCodec = portableCodec): string {
  return new TextDecoder().decode(encodeCheckpointBytes(state, codec));
}

/**
 * The file's UTF-8 bytes for a state (what encodeCheckpoint's text is as bytes), built in one
 * allocation: the float arrays are written as base64 straight into it, never as strings, so a
 * 50 MB checkpoint costs 50 MB to encode and not several copies of it. The bytes are exactly
 * JSON.stringify of the document described at the top of this file (small fields first, then
 * the optimizer, hidden state, start state and parameters), with the checksum after it.
 */
export function encodeCheckpointBytes(state: CheckpointState, codec: CheckpointCodec = portableCodec): Uint8Array {
  checkSavable(state);
  // Small fields first so `head -c 2000 latest.json` shows what the file is and how it was made.
  const head = JSON.stringify({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...smallFields(state) });
  // The rest of the document as JSON.stringify would write it: text pieces, and float arrays
  // whose base64 (which needs no escaping) goes between the quotes the text pieces hold.
  const parts: Array<string | Float32Array> = [head.slice(0, -1)];
  if (state.kind === "training") {
    parts.push(`,"optimizer":{"type":${JSON.stringify(state.optimizer.type)},"step":${JSON.stringify(state.optimizer.step)},"buffers":{`);
    Object.entries(state.optimizer.buffers).forEach(([name, values], index) => {
      parts.push(`${index > 0 ? "," : ""}${JSON.stringify(name)}:"`, values, '"');
    });
    parts.push("}}");
    if (state.hiddenState === null) parts.push(',"hiddenState":null');
    else parts.push(',"hiddenState":"', state.hiddenState, '"');
  }
  parts.push(',"startState":');
  if (state.startState === null) parts.push("null");
  else pushTensors(parts, state.startState);
  parts.push(',"params":');
  pushTensors(parts, state.params);

  const encoder = new TextEncoder();
  const pieces = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const bodyBytes = pieces.reduce((sum, piece) => sum + (piece instanceof Float32Array ? base64Length(piece.byteLength) : piece.length), 0);
  const tailBytes = CHECKSUM_PREFIX.length + 64 + '"}\n'.length;
  const out = new Uint8Array(bodyBytes + tailBytes);
  let offset = 0;
  for (const piece of pieces) {
    if (piece instanceof Float32Array) offset = writeFloatsBase64(piece, out, offset);
    else {
      out.set(piece, offset);
      offset += piece.length;
    }
  }
  // The checksum covers the document as serialised before it was added: these bytes and "}".
  const checksum = codec.sha256Hex([out.subarray(0, offset), "}"]);
  encoder.encodeInto(`${CHECKSUM_PREFIX}${checksum}"}\n`, out.subarray(offset));
  return out;
}

/** `{"name":{"shape":[...],"data":"BASE64"},...}` as pieces. */
function pushTensors(parts: Array<string | Float32Array>, tensors: Record<string, TensorRecord>): void {
  parts.push("{");
  Object.entries(tensors).forEach(([name, tensor], index) => {
    parts.push(`${index > 0 ? "," : ""}${JSON.stringify(name)}:{"shape":${JSON.stringify(tensor.shape)},"data":"`, tensor.data, '"}');
  });
  parts.push("}");
}

/** Everything but the float arrays, in file order. */
function smallFields(state: CheckpointState): Json {
  return {
    kind: state.kind,
    charnnVersion: state.charnnVersion,
    createdAt: state.createdAt,
    config: state.config,
    settingSources: state.settingSources,
    runtime: state.runtime,
    corpus: state.corpus,
    schedule: state.schedule,
    invocations: state.invocations,
    choice: state.choice,
    ...(state.kind === "training" ? { cursor: state.cursor } : {}),
    step: state.step,
    epoch: state.epoch,
    bestValidationLoss: state.bestValidationLoss,
    history: state.history,
    vocabulary: state.vocabulary,
    ...(state.kind === "training" ? { rng: state.rng } : {}),
  };
}

function checkSavable(state: CheckpointState): void {
  // JSON has no NaN (it would be written as null), and a non-finite loss means the run diverged.
  const lossProblem = firstNonFiniteLoss(state);
  if (lossProblem) throw refuseDiverged(lossProblem);
  // The small fields go through the same reader a load uses, so what is written can be read.
  try {
    const fields = new FieldReader("checkpoint to save", smallFields(state), "");
    readSmallFields(fields);
    if (state.kind === "training") {
      fields.jsonObject("rng");
      const cursor = fields.nested("cursor");
      cursor.integer("epoch", 0);
      cursor.integer("window", 0);
      new FieldReader("checkpoint to save", state.optimizer as unknown as Json, "optimizer.").string("type");
    }
  } catch (error) {
    if (error instanceof CharnnError) {
      throw new CharnnError(`cannot save checkpoint: ${error.message}`, ExitCode.failure);
    }
    throw error;
  }
  const parameterCount = checkTensorsSavable(state.params, "");
  if (state.startState !== null) checkTensorsSavable(state.startState, "startState.");
  if (state.kind === "training") {
    if (!Number.isSafeInteger(state.optimizer.step) || state.optimizer.step < 0) {
      throw new CharnnError(`cannot save checkpoint: optimizer.step is ${state.optimizer.step}`, ExitCode.failure);
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
  }
  const problem = firstNonFiniteProblem(state);
  if (problem) throw refuseDiverged(problem);
}

/** Checks each tensor's data against its shape; returns the number of values. */
function checkTensorsSavable(tensors: Record<string, TensorRecord>, prefix: string): number {
  let count = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!(tensor.data instanceof Float32Array)) {
      throw new CharnnError(`cannot save checkpoint: ${prefix}${name} is not a Float32Array`, ExitCode.failure);
    }
    const needed = shapeSize(tensor.shape);
    if (needed !== tensor.data.length) {
      throw new CharnnError(
        `cannot save checkpoint: ${prefix}${name} has ${tensor.data.length} values but shape ${formatShape(tensor.shape)} needs ${needed}`,
        ExitCode.failure,
      );
    }
    count += needed;
  }
  return count;
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

/**
 * The state a checkpoint's text holds, after checking the envelope, the checksum and the type of
 * every field. Whether the settings are allowed and the weights fit them is load.ts's question.
 */
export function parseCheckpoint(text: string, sourceName: string, codec: CheckpointCodec = portableCodec): CheckpointState {
  const document = parseDocument(text, sourceName);
  checkFormat(document, sourceName);
  verifyChecksum(text, document, sourceName, codec);
  const loader = CHECKPOINT_LOADERS[readVersion(document, sourceName)]!;
  const state = loader(document, sourceName, codec);
  const problem = firstNonFiniteProblem(state);
  if (problem) throw badInput(`${sourceName}: ${problem}`, DAMAGED_HINT, DAMAGED);
  return state;
}

function parseDocument(text: string, sourceName: string): Json {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = describeParseError(text, error);
    // A file cut short is a damaged checkpoint; other text that is not JSON was never one.
    throw badInput(`${sourceName}: not a charnn checkpoint (not JSON: ${reason})`, FOREIGN_HINT, /truncated/.test(reason) ? DAMAGED : FOREIGN);
  }
  if (!isPlainObject(document)) {
    throw badInput(`${sourceName}: not a charnn checkpoint (a JSON ${describeJsonType(document)}, not an object)`, FOREIGN_HINT, FOREIGN);
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
    throw badInput(`${sourceName}: not a charnn checkpoint (no "format" field)`, FOREIGN_HINT, FOREIGN);
  }
  if (document.format !== CHECKPOINT_FORMAT) {
    throw badInput(
      `${sourceName}: not a charnn checkpoint (format is ${describeValue(document.format)}, expected "${CHECKPOINT_FORMAT}")`,
      FOREIGN_HINT,
      FOREIGN,
    );
  }
}

function verifyChecksum(text: string, document: Json, sourceName: string, codec: CheckpointCodec): void {
  if (!Object.hasOwn(document, "checksum")) {
    throw badInput(`${sourceName}: missing field "checksum"`, DAMAGED_HINT, DAMAGED);
  }
  const start = text.lastIndexOf(CHECKSUM_PREFIX);
  const tail = start < 0 ? null : CHECKSUM_TAIL.exec(text.slice(start));
  if (tail === null || document.checksum !== `sha256:${tail[1]}`) {
    throw badInput(
      `${sourceName}: field "checksum" is malformed (expected "sha256:<64 hex digits>" as the last field)`,
      DAMAGED_HINT,
      DAMAGED,
    );
  }
  const actual = codec.sha256Hex([text.slice(0, start), "}"]);
  if (actual !== tail[1]) {
    throw badInput(`${sourceName}: checksum mismatch: the file was changed or damaged after it was written`, DAMAGED_HINT, DAMAGED);
  }
}

function readVersion(document: Json, sourceName: string): number {
  const version = document.version;
  if (version === undefined) throw badInput(`${sourceName}: missing field "version"`, DAMAGED_HINT, DAMAGED);
  if (typeof version !== "number" || !Number.isSafeInteger(version)) {
    throw badInput(`${sourceName}: field "version" must be a whole number, found ${describeValue(version)}`, DAMAGED_HINT, DAMAGED);
  }
  if (version > CHECKPOINT_VERSION) {
    throw badInput(
      `${sourceName}: written by a newer charnn (format ${version}); upgrade charnn`,
      `this charnn reads checkpoint formats ${oldestReadableVersion()} to ${CHECKPOINT_VERSION}`,
      { code: "checkpoint.too-new", facts: { version, newest: CHECKPOINT_VERSION } },
    );
  }
  if (!Object.hasOwn(CHECKPOINT_LOADERS, version)) {
    throw badInput(
      `${sourceName}: written by an older charnn (format ${version}), which this charnn no longer reads`,
      `upgrade the file by resuming it once with an earlier charnn release that reads format ${version} ` +
        `(it saves the newest format it knows), or train a new model`,
      { code: "checkpoint.too-old", facts: { version, oldest: oldestReadableVersion() } },
    );
  }
  return version;
}

const oldestReadableVersion = (): number => Math.min(...Object.keys(CHECKPOINT_LOADERS).map(Number));

/** The optimizer, rng, cursor and carried hidden state of a training checkpoint (both versions). */
function readTrainingState(fields: FieldReader, parameterCount: number): TrainingState {
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
  const cursor = fields.nested("cursor");
  return {
    optimizer: { type: optimizerFields.string("type"), step: optimizerFields.integer("step", 0), buffers },
    rng: fields.jsonObject("rng"),
    cursor: { epoch: cursor.integer("epoch", 0), window: cursor.integer("window", 0) },
    hiddenState: fields.value("hiddenState") === null ? null : fields.floats("hiddenState"),
  };
}

const countValues = (tensors: Record<string, TensorRecord>): number =>
  Object.values(tensors).reduce((sum, tensor) => sum + tensor.data.length, 0);

function loadVersion2(document: Json, sourceName: string, codec: CheckpointCodec = portableCodec): CheckpointState {
  const fields = new FieldReader(sourceName, document, "", codec);
  const kind = fields.oneOf("kind", ["training", "weights"] as const);
  const small = readSmallFields(fields);
  const params = readTensors(fields.nested("params"), true);
  const startState = fields.value("startState") === null ? null : readTensors(fields.nested("startState"), false);
  if (kind === "weights") return { kind, ...small, startState, params };
  for (const key of ["corpus", "schedule", "runtime"] as const) {
    if (small[key] === null) throw fields.fail(`field "${key}" must be an object in a training checkpoint, found null`);
  }
  return {
    kind,
    ...small,
    corpus: small.corpus!,
    schedule: small.schedule!,
    runtime: small.runtime!,
    startState,
    params,
    ...readTrainingState(fields, countValues(params)),
  };
}

/**
 * Format 1 (charnn 0.1): always a whole training state. What it did not record is filled in so
 * the state reads like a version 2 one: settingSources empty (load.ts tells "given" from
 * "default" by the saved command line and the defaults), the one command line it kept as the
 * only invocation (started at 0, at the time the file was written), the corpus paths unknown
 * ([]), the schedule's step count null (a resume derives it from steps and epochs, as 0.1 did),
 * the kernel variant read from the backend name it saved ("js", "wasm" or "wasm-relaxed"), no
 * start state and no choice.
 */
function loadVersion1(document: Json, sourceName: string, codec: CheckpointCodec = portableCodec): CheckpointState {
  const fields = new FieldReader(sourceName, document, "", codec);
  const runtime = fields.nested("runtime");
  const corpus = fields.nested("corpus");
  const history = fields.nested("history");
  const createdAt = fields.isoTime("createdAt");
  const savedBackend = runtime.string("backend");
  const variant = (KERNEL_VARIANTS as readonly string[]).includes(savedBackend) ? (savedBackend as KernelVariant) : "js";
  const params = readTensors(fields.nested("params"), true);
  return {
    kind: "training",
    charnnVersion: fields.string("charnnVersion"),
    createdAt,
    config: fields.nested("config").object,
    settingSources: {},
    vocabulary: fields.vocabulary("vocabulary"),
    params,
    startState: null,
    corpus: { fingerprint: corpus.string("fingerprint"), length: corpus.integer("length", 0), paths: [] },
    invocations: [{ argv: fields.stringList("command"), startedAt: createdAt, fromStep: 0 }],
    schedule: { totalSteps: null },
    runtime: {
      backend: variant === "js" ? "js" : "wasm",
      threads: runtime.integer("threads", 1),
      variant,
      node: runtime.string("node"),
      platform: runtime.string("platform"),
    },
    choice: null,
    step: fields.integer("step", 0),
    epoch: fields.integer("epoch", 0),
    history: { train: history.lossPairs("train"), validation: history.lossPairs("validation") },
    bestValidationLoss: fields.finiteOrNull("bestValidationLoss"),
    ...readTrainingState(fields, countValues(params)),
  };
}

/** Loaders by format version; a new version adds an entry and older files keep loading. */
export const CHECKPOINT_LOADERS: Readonly<Record<number, CheckpointLoader>> = Object.freeze({
  1: loadVersion1,
  2: loadVersion2,
});

type SmallFields = Omit<CheckpointBase, "params" | "startState">;

/** The version 2 fields both kinds share, but the tensors. */
function readSmallFields(fields: FieldReader): SmallFields {
  const history = fields.has("history") ? fields.nested("history") : null;
  const kind = fields.oneOf("kind", ["training", "weights"] as const);
  // A weights-only file may leave its history out; a training one may not.
  if (history === null && kind === "training") fields.value("history");
  return {
    charnnVersion: fields.string("charnnVersion"),
    createdAt: fields.isoTime("createdAt"),
    config: fields.nested("config").object,
    settingSources: fields.settingSources("settingSources"),
    runtime: fields.nullable("runtime", (runtime) => ({
      backend: runtime.string("backend"),
      threads: runtime.integer("threads", 1),
      variant: runtime.oneOf("variant", KERNEL_VARIANTS),
      node: runtime.string("node"),
      platform: runtime.string("platform"),
    })),
    corpus: fields.nullable("corpus", (corpus) => ({
      fingerprint: corpus.string("fingerprint"),
      length: corpus.integer("length", 0),
      paths: corpus.stringList("paths"),
    })),
    schedule: fields.nullable("schedule", (schedule) => ({ totalSteps: schedule.integerOrNull("totalSteps", 1) })),
    invocations: fields.list("invocations", (invocation) => ({
      argv: invocation.stringList("argv"),
      startedAt: invocation.isoTime("startedAt"),
      fromStep: invocation.integer("fromStep", 0),
    })),
    choice: fields.nullable("choice", (choice) => ({ reason: choice.string("reason"), measured: choice.numberRecord("measured") })),
    step: fields.integer("step", 0),
    epoch: fields.integer("epoch", 0),
    bestValidationLoss: fields.finiteOrNull("bestValidationLoss"),
    history: history === null ? { train: [], validation: [] } : { train: history.lossPairs("train"), validation: history.lossPairs("validation") },
    vocabulary: fields.vocabulary("vocabulary"),
  };
}

function readTensors(fields: FieldReader, required: boolean): Record<string, TensorRecord> {
  const names = fields.keys();
  if (required && names.length === 0) throw fields.fail("params holds no parameters");
  const tensors: Record<string, TensorRecord> = {};
  for (const name of names) {
    const tensor = fields.nested(name);
    const shape = tensor.integerList("shape", 0);
    const data = tensor.floats("data");
    if (data.length !== shapeSize(shape)) {
      throw fields.fail(`${fields.path}${name} has ${data.length} values but its shape ${formatShape(shape)} needs ${shapeSize(shape)}`);
    }
    tensors[name] = { shape, data };
  }
  return tensors;
}

/** The first NaN or infinite value in the weights, start state, optimizer state or hidden state, in words. */
function firstNonFiniteProblem(state: CheckpointState): string | null {
  const groups: Array<[string, Array<[string, Float32Array]>]> = [
    ["weights contain", Object.entries(state.params).map(([name, tensor]) => [name, tensor.data])],
    ["start state contains", Object.entries(state.startState ?? {}).map(([name, tensor]) => [`startState.${name}`, tensor.data])],
  ];
  if (state.kind === "training") {
    groups.push(["optimizer state contains", Object.entries(state.optimizer.buffers)]);
    groups.push(["hidden state contains", state.hiddenState === null ? [] : [["hiddenState", state.hiddenState]]]);
  }
  for (const [what, arrays] of groups) {
    for (const [name, values] of arrays) {
      // The built-in searches scan a clean array far faster than a loop that has not been
      // optimised yet (a sample's load runs this once); the loop only finds where the bad value is.
      if (!values.includes(Number.NaN) && !values.includes(Infinity) && !values.includes(-Infinity)) continue;
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
    /** Decodes the float arrays (the caller's fast one, or the portable one). */
    private readonly codec: CheckpointCodec = portableCodec,
  ) {}

  fail(message: string): CharnnError {
    return badInput(`${this.sourceName}: ${message}`, DAMAGED_HINT, DAMAGED);
  }

  keys(): string[] {
    return Object.keys(this.object);
  }

  value(key: string): unknown {
    const value = Object.hasOwn(this.object, key) ? this.object[key] : undefined;
    if (value === undefined) throw this.fail(`missing field "${this.prefix}${key}"`);
    return value;
  }

  wrongType(key: string, wanted: string, found: unknown): CharnnError {
    return this.fail(`field "${this.prefix}${key}" must be ${wanted}, found ${describeValue(found)}`);
  }

  nested(key: string): FieldReader {
    const value = this.value(key);
    if (!isPlainObject(value)) throw this.wrongType(key, "an object", value);
    return new FieldReader(this.sourceName, value, `${this.prefix}${key}.`, this.codec);
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
    const floats = this.codec.base64ToFloats(value);
    if (typeof floats === "string") throw this.fail(`field "${this.prefix}${key}" ${floats}`);
    return floats;
  }

  /** The dotted path of this object, with a trailing dot ("" at the top). */
  get path(): string {
    return this.prefix;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.object, key) && this.object[key] !== undefined;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const value = this.value(key);
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      throw this.wrongType(key, `one of ${choices.map((choice) => `"${choice}"`).join(", ")}`, value);
    }
    return value as T;
  }

  /** null, or the object at `key` read by `read`. */
  nullable<T>(key: string, read: (fields: FieldReader) => T): T | null {
    if (this.value(key) === null) return null;
    return read(this.nested(key));
  }

  /** A list of objects, each read by `read`. */
  list<T>(key: string, read: (fields: FieldReader) => T): T[] {
    const value = this.value(key);
    if (!Array.isArray(value)) throw this.wrongType(key, "a list", value);
    return value.map((item: unknown, index) => {
      if (!isPlainObject(item)) throw this.wrongType(`${key}[${index}]`, "an object", item);
      return read(new FieldReader(this.sourceName, item, `${this.prefix}${key}[${index}].`, this.codec));
    });
  }

  integerOrNull(key: string, minimum: number): number | null {
    return this.value(key) === null ? null : this.integer(key, minimum);
  }

  numberRecord(key: string): Record<string, number> {
    const fields = this.nested(key);
    const record: Record<string, number> = {};
    for (const name of fields.keys()) {
      const value = fields.value(name);
      if (typeof value !== "number" || !Number.isFinite(value)) throw fields.wrongType(name, "a number", value);
      record[name] = value;
    }
    return record;
  }

  settingSources(key: string): Record<string, SettingSource> {
    const fields = this.nested(key);
    const sources: Record<string, SettingSource> = {};
    for (const name of fields.keys()) sources[name] = fields.oneOf(name, SETTING_SOURCES);
    return sources;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const shapeSize = (shape: number[]): number => shape.reduce((product, size) => product * size, 1);

export const formatShape = (shape: number[]): string => `[${shape.join(",")}]`;


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
