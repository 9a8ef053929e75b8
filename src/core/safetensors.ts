// The safetensors container (github.com/huggingface/safetensors, "Format"), read and written
// strictly: 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a
// multiple of 8 when we write), then the tensor bytes, contiguous, in offset order, little-endian.
// Not here: what the tensors mean (safetensors-model.ts) and files (the CLI reads and writes them).
// Every failure on input is a one-line badInput whose code names the kind of damage.

import { badInput, type CharnnError } from "./errors.js";

/** The dtypes this reader converts to float32; anything else is refused by name. */
export type SafetensorsDType = "F32" | "F16" | "BF16";

const ITEM_SIZE: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };
/** Every dtype the format defines, so a refusal can tell "unsupported" from "not a dtype". */
const KNOWN_DTYPES = new Set(["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]);
/** The reference implementation refuses headers past 100 MB; so does this one. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const SPACE = 0x20;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range in the data section (after the header), [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In offset order. */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
  /** 8 + N: where the data section starts in the file. */
  dataStart: number;
}

/** A float32 tensor to write. */
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

const shapeSize = (shape: readonly number[]): number => shape.reduce((product, size) => product * size, 1);

const fail = (sourceName: string, code: string, message: string, facts: Record<string, unknown> = {}): CharnnError =>
  badInput(`${sourceName}: ${message}`, undefined, { code: `safetensors.${code}`, facts: { file: sourceName, ...facts } });

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * The bytes of a safetensors file holding `tensors` as F32 in the order given, with string
 * metadata. The header is padded with spaces to a multiple of 8 bytes, so every tensor starts
 * 8-byte aligned in the file (as the reference writer does).
 */
export function encodeSafetensors(tensors: ReadonlyArray<[string, Float32Tensor]>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { [METADATA_KEY]: metadata };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === METADATA_KEY) throw new Error(`a tensor cannot be named ${METADATA_KEY}`);
    if (tensor.data.length !== shapeSize(tensor.shape)) throw new Error(`${name}: ${tensor.data.length} values for shape [${tensor.shape.join(",")}]`);
    const bytes = tensor.data.length * 4;
    header[name] = { dtype: "F32", shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(SPACE, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const [, tensor] of tensors) {
    for (let i = 0; i < tensor.data.length; i++, position += 4) view.setFloat32(position, tensor.data[i]!, true);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * The header length from the first 8 bytes of a file of `fileSize` bytes, checked against the
 * file, so a caller reading from disk knows how much more to read before parsing.
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number, sourceName: string): number {
  if (fileSize < 8 || first8.length < 8) {
    throw fail(sourceName, "not-safetensors", `not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`);
  }
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw fail(sourceName, "not-safetensors", `not a safetensors file (its first 8 bytes give a header of ${length} bytes, more than ${MAX_HEADER_BYTES})`);
  }
  const headerLength = Number(length);
  if (headerLength < 2) throw fail(sourceName, "not-safetensors", `not a safetensors file (header length ${headerLength})`);
  if (8 + headerLength > fileSize) {
    throw fail(sourceName, "truncated", `truncated: the header is ${headerLength} bytes but the file ends after ${fileSize - 8}`, { headerLength, fileSize });
  }
  return headerLength;
}

/**
 * The parsed and checked header. `headerBytes` are the N bytes after the length; `fileSize` is
 * the whole file's size, which the tensors must fill exactly (no gap, no overlap, no tail).
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, sourceName: string): SafetensorsHeader {
  if (headerBytes[0] !== 0x7b) throw fail(sourceName, "not-safetensors", "not a safetensors file (the header does not start with '{')");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(sourceName, "not-safetensors", "not a safetensors file (the header is not UTF-8)");
  }
  let document: unknown;
  try {
    // Trailing spaces are the format's padding; JSON.parse takes them as whitespace.
    document = JSON.parse(text);
  } catch {
    throw fail(sourceName, "not-safetensors", "not a safetensors file (the header is not JSON)");
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw fail(sourceName, "not-safetensors", "not a safetensors file (the header is not a JSON object)");
  }
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const tensors: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(document as Record<string, unknown>)) {
    if (name === METADATA_KEY) metadata = readMetadata(value, sourceName);
    else tensors.push(readEntry(name, value, sourceName));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const tensor of tensors) {
    if (tensor.begin < expectedBegin) {
      const other = tensors.find((t) => t !== tensor && t.begin < tensor.end && tensor.begin < t.end)?.name ?? "the tensor before it";
      throw fail(sourceName, "header-lies", `the header lies: ${tensor.name} (bytes ${tensor.begin}..${tensor.end}) overlaps ${other}`, { tensor: tensor.name });
    }
    if (tensor.begin > expectedBegin) {
      throw fail(sourceName, "header-lies", `the header lies: ${tensor.begin - expectedBegin} unclaimed bytes before ${tensor.name} (offsets must be contiguous)`, { tensor: tensor.name });
    }
    if (tensor.end > dataSize) {
      throw fail(sourceName, "truncated", `truncated: ${tensor.name} ends at data byte ${tensor.end} but the file holds ${dataSize}`, { tensor: tensor.name, dataSize });
    }
    expectedBegin = tensor.end;
  }
  if (expectedBegin !== dataSize) {
    throw fail(sourceName, "header-lies", `the header lies: ${dataSize - expectedBegin} bytes after the last tensor belong to none`, { dataSize });
  }
  return { tensors, metadata, dataStart };
}

function readMetadata(value: unknown, sourceName: string): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(sourceName, "bad-metadata", `${METADATA_KEY} must be an object of strings`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") throw fail(sourceName, "bad-metadata", `${METADATA_KEY}.${key} is not a string (metadata values must be strings)`, { key });
  }
  return value as Record<string, string>;
}

function readEntry(name: string, value: unknown, sourceName: string): TensorEntry {
  const bad = (why: string) => fail(sourceName, "bad-entry", `tensor ${name}: ${why}`, { tensor: name });
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("its entry is not an object");
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets") throw bad(`unknown field "${key}"`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || !KNOWN_DTYPES.has(dtype)) throw bad(`dtype ${JSON.stringify(dtype)} is not a safetensors dtype`);
  if (!(dtype in ITEM_SIZE)) {
    throw fail(sourceName, "dtype", `tensor ${name}: dtype ${dtype} is not supported (charnn reads F32, F16 and BF16)`, { tensor: name, dtype });
  }
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) throw bad("shape must be a list of whole numbers");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw bad("data_offsets must be [begin, end] with 0 <= begin <= end");
  }
  const [begin, end] = offsets as [number, number];
  const bytes = shapeSize(shape as number[]) * ITEM_SIZE[dtype as SafetensorsDType];
  if (end - begin !== bytes) {
    throw fail(sourceName, "header-lies", `the header lies: ${name} has shape [${shape.join(",")}] of ${dtype} (${bytes} bytes) but claims ${end - begin}`, { tensor: name });
  }
  return { name, dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], begin, end };
}

/** The header and the tensors, converted to float32, of a whole file's bytes. */
export function decodeSafetensors(bytes: Uint8Array, sourceName: string): { header: SafetensorsHeader; tensors: Map<string, Float32Tensor> } {
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length, sourceName);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.length, sourceName);
  const tensors = new Map<string, Float32Tensor>();
  for (const entry of header.tensors) tensors.set(entry.name, { shape: entry.shape, data: tensorData(bytes, header, entry) });
  return { header, tensors };
}

/** One tensor's values as float32 (F16 and BF16 widened exactly). */
export function tensorData(bytes: Uint8Array, header: SafetensorsHeader, entry: TensorEntry): Float32Array {
  const start = header.dataStart + entry.begin;
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, entry.end - entry.begin);
  const count = shapeSize(entry.shape);
  const out = new Float32Array(count);
  if (entry.dtype === "F32") for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  else if (entry.dtype === "F16") for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  else {
    // bfloat16 is the top half of a float32's bits.
    const word = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      word.setUint32(0, view.getUint16(i * 2, true) << 16);
      out[i] = word.getFloat32(0);
    }
  }
  return out;
}

/** IEEE 754 binary16 to a number (exact: every half is a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
