// The seeded random source for initialisation, dropout masks and sampling. Its whole state can
// be saved into a checkpoint and restored, which exact resume depends on. Not for cryptography.

import seedrandom from "seedrandom";

export interface Rng {
  /** A uniform float in [0, 1). */
  next(): number;
  /** The generator's full state, plain JSON. */
  state(): RngState;
}

export interface RngState {
  kind: "alea";
  state: unknown;
}

/**
 * seedrandom's alea: several times faster than its default ARC4, which matters for dropout
 * masks drawn every step, and it saves and restores its state exactly.
 */
export function createRng(seed: number | string, restore?: RngState): Rng {
  const generator = restore
    ? seedrandom.alea("", { state: restore.state as seedrandom.State.Alea })
    : seedrandom.alea(String(seed), { state: true });
  return {
    next: () => generator(),
    state: () => ({ kind: "alea", state: generator.state() }),
  };
}

/** A standard normal draw (Box–Muller); uses two uniforms. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
