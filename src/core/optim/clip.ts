// Gradient clipping over the flat gradient buffer, as torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_ do it. Both return the norm before clipping, which training reports (a norm
// that keeps hitting the limit says the learning rate is too high).

import type { FloatArray } from "../tensor/arena.js";

export function gradientNorm(grads: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i]! * grads[i]!;
  return Math.sqrt(sum);
}

/** Scales all gradients by maxNorm/(norm + 1e-6) when the global L2 norm exceeds maxNorm. */
export function clipByNorm(grads: FloatArray, maxNorm: number): number {
  const norm = gradientNorm(grads);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! * scale;
  return norm;
}

/** Clamps every gradient into [−limit, limit]. */
export function clipByValue(grads: FloatArray, limit: number): number {
  const norm = gradientNorm(grads);
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i]!;
    if (g > limit) grads[i] = limit;
    else if (g < -limit) grads[i] = -limit;
  }
  return norm;
}

export type ClipMode = "norm" | "value";

/** limit 0 means no clipping; the norm is still returned. */
export function clipGradients(grads: FloatArray, mode: ClipMode, limit: number): number {
  if (limit <= 0) return gradientNorm(grads);
  return mode === "norm" ? clipByNorm(grads, limit) : clipByValue(grads, limit);
}
