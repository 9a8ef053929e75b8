// The page of `charnn serve` and of `charnn export --format html`: loss curves that follow a run's
// event log, sampling from any checkpoint of the folder, and the activation view, all computed
// here in the browser on charnn's portable core, on the WebAssembly kernels inlined in the page
// (wasm-relaxed where the browser validates relaxed SIMD, else wasm, else the js kernels;
// `?kernels=js|wasm|wasm-relaxed` in the address asks for one). Served, it asks the server for
// checkpoints and events; exported, the one checkpoint is inlined and nothing is fetched.
// Not here: the server (src/node/serve/) or the arithmetic (src/core/).

import { parseCheckpoint } from "../core/api/checkpoint-text.js";
import { Model } from "../core/api/model.js";
import { modelFromCheckpoint, type Checkpoint } from "../core/checkpoint/load.js";
import type { Kernels } from "../core/tensor/kernels.js";
import { chooseKernels, kernelCapabilities, kernelsFromBinaries, type KernelBinaries, type KernelChoice, type KernelSetName } from "../core/wasm/load.js";
import { renderLossSvg } from "../core/viz/svg.js";
import { colorOf, valueScale } from "../core/viz/terminal.js";
import { traceText, unitValues, type Trace } from "../core/viz/trace.js";
import { emptyRunState, foldEvents } from "./run-state.js";

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const numberIn = (id: string): number => Number(element<HTMLInputElement>(id).value);
/** The most characters the sampler makes before it shows them. */
const STREAM_CHUNK = 400;

/** The bytes inlined as base64 in the element `id`, or null when there is no such element or it is empty. */
function inlinedBytes(id: string): Uint8Array<ArrayBuffer> | null {
  const holder = document.getElementById(id);
  const text = (holder?.textContent ?? "").trim();
  if (text === "") return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The inlined checkpoint of an exported page (base64 of its UTF-8 bytes, so its checksum holds), or null. */
const embeddedCheckpoint = (): Uint8Array | null => (document.getElementById("charnn-checkpoint") === null ? null : inlinedBytes("charnn-checkpoint") ?? new Uint8Array(0));

const embeddedName = (): string => document.getElementById("charnn-checkpoint")?.dataset.name ?? "checkpoint";

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${(await response.text()).trim()}`);
  return (await response.json()) as T;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

interface CheckpointEntry { name: string; size: number; modified: string }

const embedded = embeddedCheckpoint();
const decoded = new Map<string, { modified: string; state: Checkpoint }>();

async function checkpointState(name: string): Promise<Checkpoint> {
  if (embedded !== null) {
    const cached = decoded.get(name);
    if (cached) return cached.state;
    const state = parseCheckpoint(embedded, name);
    decoded.set(name, { modified: "", state });
    return state;
  }
  // latest.json is replaced while a run trains: fetched again each time it is asked for.
  const response = await fetch(`/api/checkpoints/${encodeURIComponent(name)}`, { cache: "no-store" });
  if (!response.ok) throw new Error(`${name}: ${(await response.text()).trim()}`);
  return parseCheckpoint(new Uint8Array(await response.arrayBuffer()), name);
}

async function refreshCheckpointList(): Promise<void> {
  const select = element<HTMLSelectElement>("checkpoint");
  const names = embedded !== null ? [embeddedName()] : (await fetchJson<CheckpointEntry[]>("/api/checkpoints")).map((entry) => entry.name);
  const chosen = select.value;
  select.innerHTML = "";
  for (const name of names) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.appendChild(option);
  }
  if (names.includes(chosen)) select.value = chosen;
  else if (names.includes("latest.json")) select.value = "latest.json";
}

// ---------------------------------------------------------------------------------------------
// Kernels: chosen once, a new set (with its own memory) for each model

const binaries: KernelBinaries = { simd: inlinedBytes("charnn-kernels-simd"), relaxed: inlinedBytes("charnn-kernels-relaxed") };
let kernelChoice: KernelChoice = { name: "js", reason: "not chosen yet" };

/** ?kernels=NAME in the address, or auto. */
function requestedKernels(): "auto" | KernelSetName {
  const asked = new URLSearchParams(location.search).get("kernels") ?? "auto";
  if (asked === "auto" || asked === "js" || asked === "wasm" || asked === "wasm-relaxed") return asked;
  throw new Error(`?kernels=${asked} is not a kernel set: auto, js, wasm or wasm-relaxed`);
}

/** Shows the set the kernels report themselves as (not the one asked for), so a fallback cannot hide. */
function showKernels(kernels: Kernels): void {
  const shown = element("kernels");
  shown.dataset.name = kernels.name;
  shown.textContent = `kernels: ${kernels.name}`;
  shown.title = kernelChoice.reason === "" ? "the fastest this browser runs" : kernelChoice.reason;
}

/** The model of the last checkpoint state sampled from, kept while that state is the one asked for. */
let current: { state: Checkpoint; model: Model } | null = null;

function modelOf(state: Checkpoint): Model {
  if (current?.state !== state) {
    const kernels = kernelsFromBinaries(kernelChoice.name, binaries);
    current = { state, model: new Model(state, kernels) };
    showKernels(kernels);
  }
  return current.model;
}

// ---------------------------------------------------------------------------------------------
// The run: events in, curves out

const run = emptyRunState();
let eventsCursor: { file: string; offset: number } | null = null;

function drawRun(): void {
  const chart = element("chart");
  chart.innerHTML = renderLossSvg({ train: run.train, validation: run.validation }, { width: 900, height: 320, title: "loss by step" });
  chart.dataset.trainPoints = String(run.train.length);
  chart.dataset.validationPoints = String(run.validation.length);
  if (run.latestSample) element("latest-sample").textContent = `step ${run.latestSample.step}:\n${run.latestSample.text}`;
  element("status").textContent = `${run.train.length} train and ${run.validation.length} validation points${run.ended ? " · run ended" : ""}`;
}

async function pollEvents(): Promise<void> {
  const query = eventsCursor === null ? "" : `?file=${encodeURIComponent(eventsCursor.file)}&offset=${eventsCursor.offset}`;
  const answer = await fetchJson<{ file: string; offset: number; events: object[]; more: boolean; reset: boolean }>(`/api/events${query}`);
  eventsCursor = { file: answer.file, offset: answer.offset };
  // A log replaced by one the page has not seen (the folder was emptied): start over.
  if (answer.reset) Object.assign(run, emptyRunState());
  if (answer.events.length > 0 || answer.reset) {
    foldEvents(run, answer.events);
    drawRun();
  }
  // A long log comes in pieces: the next one at once, not at the next tick.
  if (answer.more) return pollEvents();
  if (run.checkpointsChanged) {
    run.checkpointsChanged = false;
    await refreshCheckpointList();
  }
}

/** A folder without an event log (a run from an older charnn) still shows its saved history. */
async function historyFallback(): Promise<void> {
  if (run.train.length > 0 || !element<HTMLSelectElement>("checkpoint").querySelector('option[value="latest.json"]')) return;
  const state = await checkpointState("latest.json");
  run.train = state.history.train.map(([step, loss]) => [step, loss]);
  run.validation = state.history.validation.map(([step, loss]) => [step, loss]);
  drawRun();
}

function followRun(): void {
  const tick = async () => {
    try {
      await pollEvents();
    } catch (error) {
      element("status").textContent = `cannot read events: ${(error as Error).message}`;
    }
    setTimeout(tick, 1000);
  };
  void pollEvents().then(historyFallback).catch(() => undefined).finally(() => setTimeout(tick, 1000));
}

// ---------------------------------------------------------------------------------------------
// Sampling, streamed into the page a few characters at a time

let sampleGeneration = 0;

async function sample(): Promise<void> {
  const generation = ++sampleGeneration;
  const status = element("sample-status"), out = element("sample-text");
  status.className = "";
  status.textContent = "loading…";
  delete status.dataset.logProbability;
  out.textContent = "";
  element("sample-prime").textContent = "";
  try {
    const name = element<HTMLSelectElement>("checkpoint").value;
    const model = modelOf(await checkpointState(name));
    const seedText = element<HTMLInputElement>("seed").value.trim();
    const prime = element<HTMLInputElement>("prime").value;
    const stream = model.sample({
      length: numberIn("length"), temp: numberIn("temp"), topK: numberIn("top-k"), topP: numberIn("top-p"),
      seed: seedText === "" ? null : Number(seedText), prime: prime === "" ? null : prime,
    });
    element("sample-prime").textContent = stream.prime;
    status.textContent = `generating (seed ${stream.seed})…`;
    let pending = "", last = performance.now();
    for (const character of stream) {
      if (generation !== sampleGeneration) return;
      pending += character;
      // Hand the browser a frame now and then so the text appears as it is made: every 30 ms,
      // and every few hundred characters, since a small model makes thousands in that time.
      if (pending.length >= STREAM_CHUNK || performance.now() - last > 30) {
        out.textContent += pending;
        pending = "";
        await new Promise((resolve) => setTimeout(resolve, 0));
        last = performance.now();
      }
    }
    out.textContent += pending;
    status.textContent = `done · seed ${stream.seed} · ${model.backend.name} kernels`;
    // In full: its last bits tell the kernel sets apart even where their texts agree.
    status.dataset.logProbability = String(stream.logProbability);
    status.dataset.state = "done";
  } catch (error) {
    if (generation !== sampleGeneration) return;
    status.className = "error";
    status.textContent = (error as Error).message;
    status.dataset.state = "error";
  }
}

// ---------------------------------------------------------------------------------------------
// The activation view of the text typed

let viewed: Trace | null = null;

async function showActivations(): Promise<void> {
  const status = element("viz-status"), out = element("viz-output");
  status.className = "";
  try {
    const state = await checkpointState(element<HTMLSelectElement>("checkpoint").value);
    // Kernels of its own: a trace takes buffers for the whole text, which a kept set would never give back.
    const kernels = kernelsFromBinaries(kernelChoice.name, binaries);
    const { model, vocabulary } = modelFromCheckpoint(state, kernels);
    const trace = traceText(model, kernels, vocabulary, element<HTMLTextAreaElement>("viz-input").value);
    const layer = numberIn("viz-layer"), unit = numberIn("viz-unit");
    const stateName = element<HTMLSelectElement>("viz-state").value === "c" ? "c" : "h";
    const values = unitValues(trace, layer, unit, stateName);
    const scale = valueScale(values, stateName);
    viewed = trace;
    out.innerHTML = "";
    trace.characters.forEach((character, t) => {
      const span = document.createElement("span");
      span.textContent = character === "\n" ? "↵\n" : character;
      const [r, g, b] = colorOf(values[t]! / scale);
      span.style.background = `rgb(${r},${g},${b})`;
      span.dataset.t = String(t);
      span.dataset.value = values[t]!.toFixed(4);
      out.appendChild(span);
    });
    const skipped = [...trace.skipped.values()].reduce((a, b) => a + b, 0);
    status.textContent = `${trace.characters.length} characters, layer ${layer} unit ${unit} (${stateName}), colours scaled by ${scale.toFixed(2)}${skipped > 0 ? `; ${skipped} unknown left out` : ""}`;
  } catch (error) {
    status.className = "error";
    status.textContent = (error as Error).message;
  }
}

function describeCharacter(event: Event): void {
  const target = event.target as HTMLElement;
  if (viewed === null || target.dataset.t === undefined) return;
  const t = Number(target.dataset.t);
  const shown = (text: string) => (text === "\n" ? "\\n" : text === " " ? "space" : text);
  for (const previous of element("viz-output").querySelectorAll(".at")) previous.classList.remove("at");
  target.classList.add("at");
  const next = viewed.predictions[t]!.map((p) => `“${shown(p.text)}” ${(100 * p.probability).toFixed(1)}%`).join("   ");
  element("viz-panel").textContent = `character ${t} “${shown(viewed.characters[t]!)}” = ${target.dataset.value}\nnext: ${next}`;
}

// ---------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  kernelChoice = chooseKernels(requestedKernels(), kernelCapabilities(binaries));
  // One set made now, so a browser that cannot instantiate the module says so at once.
  showKernels(kernelsFromBinaries(kernelChoice.name, binaries));
  element("sample").addEventListener("click", () => void sample());
  element("viz-run").addEventListener("click", () => void showActivations());
  element("viz-output").addEventListener("mouseover", describeCharacter);
  if (embedded !== null) {
    document.body.classList.add("offline");
    element("status").textContent = "offline: this file holds the model";
  }
  await refreshCheckpointList();
  if (embedded === null) followRun();
  document.body.dataset.ready = "true";
}

void start().catch((error: Error) => {
  element("status").className = "error";
  element("status").textContent = error.message;
  document.body.dataset.ready = "error";
});
