// charnn's WebAssembly SIMD kernels (AssemblyScript): the matrix products, the fused gate
// arithmetic and whole recurrent time loops, on float32 buffers in an imported, shared memory.
// Not here: allocation (the JS side hands out every pointer), threads (the JS side runs one call
// per thread with its own `part`), static data (none, so that instances sharing one memory never
// re-initialise each other). Pointers are bytes, sizes elements, shapes as in src/core/tensor/kernels.ts.

// ---------------------------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------------------------

// Blocking after Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication" (2008):
// a KC-deep slice of op(B) packed into 8-column panels stays in L2 while 6-row slivers of op(A),
// packed 6-interleaved, stream past it; the 6×8 register tile holds 12 accumulators of 4 lanes,
// enough independent chains to cover a 4-to-5-cycle multiply-add latency on two ports, and with
// the two B vectors and one broadcast that is 15 vector registers, what V8 leaves free on x64.
// A sliver of 4 rows or fewer (the last one of a 16-row batch part) runs a 4×8 tile instead.
const MR: i32 = 6;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 72;
const NC: i32 = 512;
const A_PACK_FLOATS: i32 = MC * KC;
const B_PACK_FLOATS: i32 = KC * NC;
const X_FLOATS: i32 = 8192;
const TILE_FLOATS: i32 = MR * NR;

/** Bytes of scratch each thread needs: packed A, packed B, a contiguous copy of x, one tile. */
export function scratchBytesPerPart(): i32 {
  return (A_PACK_FLOATS + B_PACK_FLOATS + X_FLOATS + TILE_FLOATS) * 4;
}

/** Floats a fully packed op(B) (K,N) takes: ⌈N/8⌉ panels of K×8. */
export function packedFloats(K: i32, N: i32): i32 {
  return K * (((N + NR - 1) / NR) * NR);
}

/** This part's own scratch area: parts share one block, scratchBytesPerPart() each. */
@inline function scratchOf(scratch: usize, part: i32): usize {
  return scratch + <usize>part * <usize>scratchBytesPerPart();
}

/** [start, end) of `part` of `count` items split into `parts` nearly equal runs. */
@inline function splitStart(count: i32, part: i32, parts: i32): i32 {
  return <i32>((<i64>count * part) / parts);
}

/** Packs rows i0..i0+mc and columns p0..p0+kc of op(A) as 6-row slivers: dst[s][k][r], rows past mc zero. */
function packA(transA: bool, a: usize, lda: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  const sliverRow = <usize>MR * 4;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    let d = dst + <usize>(ir * kc) * 4;
    if (transA) {
      // op(A)(i, k) = a[k·lda + i]: neighbouring rows are neighbouring floats.
      let src = a + (<usize>p0 * lda + i0 + ir) * 4;
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src)); v128.store64_lane(d + 16, v128.load64_zero(src + 16), 0);
          d += sliverRow; src += <usize>lda * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(d + <usize>r * 4, r < rows ? load<f32>(src + <usize>r * 4) : 0);
          d += sliverRow; src += <usize>lda * 4;
        }
      }
    } else {
      const r0 = a + (<usize>(i0 + ir) * lda + p0) * 4;
      const stride = <usize>lda * 4;
      if (rows == MR) {
        const r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride, r4 = r3 + stride, r5 = r4 + stride;
        for (let k = 0; k < kc; k++) {
          const o = <usize>k * 4;
          store<f32>(d, load<f32>(r0 + o)); store<f32>(d, load<f32>(r1 + o), 4);
          store<f32>(d, load<f32>(r2 + o), 8); store<f32>(d, load<f32>(r3 + o), 12);
          store<f32>(d, load<f32>(r4 + o), 16); store<f32>(d, load<f32>(r5 + o), 20);
          d += sliverRow;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(d + <usize>r * 4, r < rows ? load<f32>(r0 + <usize>r * stride + <usize>k * 4) : 0);
          d += sliverRow;
        }
      }
    }
  }
}

/**
 * Packs rows p0..p0+kc and columns j0..j0+nc of op(B) into 8-column panels, panel q at
 * dst + q·panelStride bytes, row k of it at +k·32. Columns past nc are zero.
 */
function packB(transB: bool, b: usize, ldb: i32, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize, panelStride: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    let d = dst + <usize>(jr / NR) * panelStride;
    if (transB) {
      // op(B)(k, j) = b[j·ldb + k]: a panel row gathers one float from each of 8 rows of b.
      const base = b + (<usize>(j0 + jr) * ldb + p0) * 4;
      const stride = <usize>ldb * 4;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          const s = base + <usize>k * 4;
          store<f32>(d, load<f32>(s)); store<f32>(d, load<f32>(s + stride), 4);
          store<f32>(d, load<f32>(s + 2 * stride), 8); store<f32>(d, load<f32>(s + 3 * stride), 12);
          store<f32>(d, load<f32>(s + 4 * stride), 16); store<f32>(d, load<f32>(s + 5 * stride), 20);
          store<f32>(d, load<f32>(s + 6 * stride), 24); store<f32>(d, load<f32>(s + 7 * stride), 28);
          d += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<f32>(d + <usize>c * 4, c < cols ? load<f32>(base + <usize>c * stride + <usize>k * 4) : 0);
          d += 32;
        }
      }
    } else {
      let src = b + (<usize>p0 * ldb + j0 + jr) * 4;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(d, v128.load(src)); v128.store(d, v128.load(src, 16), 16);
          d += 32; src += <usize>ldb * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<f32>(d + <usize>c * 4, c < cols ? load<f32>(src + <usize>c * 4) : 0);
          d += 32; src += <usize>ldb * 4;
        }
      }
    }
  }
}

/**
 * c + a·b. Built with relaxed SIMD (kernels-relaxed.wasm) it is one fused multiply-add where the
 * processor has one, which rounds once instead of twice: different last bits from the plain
 * build, but the same on every run on one machine, whatever the thread count.
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

@inline function storeRow(c: usize, v0: v128, v1: v128, accumulate: bool): void {
  if (accumulate) {
    v0 = f32x4.add(v128.load(c), v0);
    v1 = f32x4.add(v128.load(c, 16), v1);
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/**
 * The 6×8 register tile: C[0..rows, 0..cols] (+)= Σ_k a[k][0..6] ⊗ b[k][0..8] over kc steps, each
 * element one multiply-add chain over k in order (so the 4×8 tile below gives a row the same bits).
 * A ragged tile is computed whole into `tile` and only its valid part is written.
 */
function microKernel(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, accumulate: bool, rows: i32, cols: i32, tile: usize): void {
  if (rows <= 4) {
    microKernel4(ap, bp, kc, c, ldc, accumulate, rows, cols, tile);
    return;
  }
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    a = v128.load32_splat(ap, 20);
    c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    ap += 24; bp += 32;
  }
  const rowBytes = <usize>ldc * 4;
  if (rows == MR && cols == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + rowBytes, c10, c11, accumulate);
    storeRow(c + 2 * rowBytes, c20, c21, accumulate);
    storeRow(c + 3 * rowBytes, c30, c31, accumulate);
    storeRow(c + 4 * rowBytes, c40, c41, accumulate);
    storeRow(c + 5 * rowBytes, c50, c51, accumulate);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16); v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80); v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144); v128.store(tile, c50, 160); v128.store(tile, c51, 176);
  storeTile(tile, c, rowBytes, accumulate, rows, cols);
}

/** The first four rows of a 6-row sliver against one panel: the tile for slivers of 1 to 4 rows. */
function microKernel4(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, accumulate: bool, rows: i32, cols: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    const a0 = v128.load32_splat(ap), a1 = v128.load32_splat(ap, 4);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(ap, 8), a3 = v128.load32_splat(ap, 12);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    ap += 24; bp += 32;
  }
  const rowBytes = <usize>ldc * 4;
  if (rows == 4 && cols == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + rowBytes, c10, c11, accumulate);
    storeRow(c + 2 * rowBytes, c20, c21, accumulate);
    storeRow(c + 3 * rowBytes, c30, c31, accumulate);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16); v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80); v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  storeTile(tile, c, rowBytes, accumulate, rows, cols);
}

/** Writes (or adds) the valid rows × cols of a tile computed whole. */
function storeTile(tile: usize, c: usize, rowBytes: usize, accumulate: bool, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const p = c + <usize>r * rowBytes + <usize>j * 4;
      const v = load<f32>(tile + <usize>(r * NR + j) * 4);
      store<f32>(p, accumulate ? load<f32>(p) + v : v);
    }
  }
}

/** Horizontal sum of four lanes in a fixed order: (l0 + l1) + (l2 + l3). */
@inline function lanesSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** y[j] (+)= Σ_k x[k]·b[j·ldb + k] for j in [n0, n1): rows of b are contiguous, four at a time. */
function gemvRows(x: usize, K: i32, b: usize, ldb: i32, y: usize, n0: i32, n1: i32, accumulate: bool): void {
  const K4 = K & ~3;
  const stride = <usize>ldb * 4;
  let j = n0;
  for (; j + 4 <= n1; j += 4) {
    const r0 = b + <usize>j * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let k = 0; k < K4; k += 4) {
      const o = <usize>k * 4;
      const xv = v128.load(x + o);
      s0 = madd(v128.load(r0 + o), xv, s0);
      s1 = madd(v128.load(r1 + o), xv, s1);
      s2 = madd(v128.load(r2 + o), xv, s2);
      s3 = madd(v128.load(r3 + o), xv, s3);
    }
    let t0 = lanesSum(s0), t1 = lanesSum(s1), t2 = lanesSum(s2), t3 = lanesSum(s3);
    for (let k = K4; k < K; k++) {
      const o = <usize>k * 4;
      const xk = load<f32>(x + o);
      t0 += load<f32>(r0 + o) * xk; t1 += load<f32>(r1 + o) * xk;
      t2 += load<f32>(r2 + o) * xk; t3 += load<f32>(r3 + o) * xk;
    }
    const p = y + <usize>j * 4;
    if (accumulate) { t0 += load<f32>(p); t1 += load<f32>(p, 4); t2 += load<f32>(p, 8); t3 += load<f32>(p, 12); }
    store<f32>(p, t0); store<f32>(p, t1, 4); store<f32>(p, t2, 8); store<f32>(p, t3, 12);
  }
  for (; j < n1; j++) {
    const r = b + <usize>j * stride;
    let s = f32x4.splat(0);
    for (let k = 0; k < K4; k += 4) s = f32x4.add(s, f32x4.mul(v128.load(r + <usize>k * 4), v128.load(x + <usize>k * 4)));
    let t = lanesSum(s);
    for (let k = K4; k < K; k++) t += load<f32>(r + <usize>k * 4) * load<f32>(x + <usize>k * 4);
    const p = y + <usize>j * 4;
    store<f32>(p, accumulate ? load<f32>(p) + t : t);
  }
}

/** y[j] (+)= Σ_k x[k]·b[k·ldb + j] for j in [n0, n1): a sweep down the rows of b, 16 columns at a time. */
function gemvColumns(x: usize, K: i32, b: usize, ldb: i32, y: usize, n0: i32, n1: i32, accumulate: bool): void {
  const stride = <usize>ldb * 4;
  let j = n0;
  for (; j + 16 <= n1; j += 16) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let row = b + <usize>j * 4;
    for (let k = 0; k < K; k++) {
      const xk = v128.load32_splat(x + <usize>k * 4);
      s0 = madd(v128.load(row), xk, s0);
      s1 = madd(v128.load(row, 16), xk, s1);
      s2 = madd(v128.load(row, 32), xk, s2);
      s3 = madd(v128.load(row, 48), xk, s3);
      row += stride;
    }
    const p = y + <usize>j * 4;
    if (accumulate) {
      s0 = f32x4.add(v128.load(p), s0); s1 = f32x4.add(v128.load(p, 16), s1);
      s2 = f32x4.add(v128.load(p, 32), s2); s3 = f32x4.add(v128.load(p, 48), s3);
    }
    v128.store(p, s0); v128.store(p, s1, 16); v128.store(p, s2, 32); v128.store(p, s3, 48);
  }
  for (; j + 4 <= n1; j += 4) {
    let s = f32x4.splat(0);
    let row = b + <usize>j * 4;
    for (let k = 0; k < K; k++) {
      s = f32x4.add(s, f32x4.mul(v128.load(row), v128.load32_splat(x + <usize>k * 4)));
      row += stride;
    }
    const p = y + <usize>j * 4;
    v128.store(p, accumulate ? f32x4.add(v128.load(p), s) : s);
  }
  for (; j < n1; j++) {
    // The same lane arithmetic on a splat, so a ragged column rounds exactly like the others.
    let s = f32x4.splat(0);
    let row = b + <usize>j * 4;
    for (let k = 0; k < K; k++) {
      s = f32x4.add(s, f32x4.mul(v128.load32_splat(row), v128.load32_splat(x + <usize>k * 4)));
      row += stride;
    }
    const p = y + <usize>j * 4;
    const t = f32x4.extract_lane(s, 0);
    store<f32>(p, accumulate ? load<f32>(p) + t : t);
  }
}

/**
 * C[M, n0..n1) (+)= op(A)[M,K] · op(B)[K, n0..n1), the one product every entry point uses.
 * `packed` (0 if none) is op(B) fully packed by pack(); n0 is then a multiple of 8. A single row
 * (M = 1, batch-1 sampling) is matrix-vector work and reads b as it is, packed or not, unless it
 * is one part's share of a taller product (wholeProduct false), which must keep the tiles' bits.
 */
function gemmCore(
  transA: bool, transB: bool, M: i32, n0: i32, n1: i32, K: i32,
  a: usize, lda: i32, b: usize, ldb: i32, packed: usize,
  c: usize, ldc: i32, accumulate: bool, scratch: usize, wholeProduct: bool = true,
): void {
  if (M <= 0 || n1 <= n0) return;
  if (K <= 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(c + (<usize>i * ldc + n0) * 4, 0, <usize>(n1 - n0) * 4);
    return;
  }
  const aPack = scratch;
  const bPack = aPack + <usize>A_PACK_FLOATS * 4;
  const xCopy = bPack + <usize>B_PACK_FLOATS * 4;
  const tile = xCopy + <usize>X_FLOATS * 4;

  if (M == 1 && wholeProduct && b != 0 && (!transA || K <= X_FLOATS)) {
    // A row vector is contiguous unless A is stored transposed; then gather it once.
    let x = a;
    if (transA) {
      for (let k = 0; k < K; k++) store<f32>(xCopy + <usize>k * 4, load<f32>(a + <usize>k * lda * 4));
      x = xCopy;
    }
    if (transB) gemvRows(x, K, b, ldb, c, n0, n1, accumulate);
    else gemvColumns(x, K, b, ldb, c, n0, n1, accumulate);
    return;
  }

  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      let panels: usize, panelStride: usize;
      if (packed != 0) {
        panelStride = <usize>K * NR * 4;
        panels = packed + <usize>(jc / NR) * panelStride + <usize>pc * NR * 4;
      } else {
        panelStride = <usize>kc * NR * 4;
        panels = bPack;
        packB(transB, b, ldb, pc, kc, jc, nc, bPack, panelStride);
      }
      const acc = accumulate || pc > 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(transA, a, lda, ic, mc, pc, kc, aPack);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bp = panels + <usize>(jr / NR) * panelStride;
          for (let ir = 0; ir < mc; ir += MR) {
            microKernel(aPack + <usize>(ir * kc) * 4, bp, kc, c + (<usize>(ic + ir) * ldc + jc + jr) * 4, ldc, acc,
              min(MR, mc - ir), cols, tile);
          }
        }
      }
    }
  }
}

/** This part's column range [n0, n1) of an N-column product: whole 8-column panels each. */
@inline function panelStart(N: i32, part: i32, parts: i32): i32 {
  return min(N, splitStart((N + NR - 1) / NR, part, parts) * NR);
}

/** This part's row range [m0, m1) of an M-row product: whole 6-row slivers each. */
@inline function sliverStart(M: i32, part: i32, parts: i32): i32 {
  return min(M, splitStart((M + MR - 1) / MR, part, parts) * MR);
}

/**
 * C (+)= op(A)·op(B) (see src/core/tensor/kernels.ts for the contract), split between parts by
 * whichever side packs less: each part packs all of the operand the split does not cut, so rows
 * are split when op(A) is the taller one (M > N), columns otherwise. Every element is one chain
 * over k either way, so the split never changes a bit.
 */
export function gemm(
  transA: bool, transB: bool, M: i32, N: i32, K: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
  scratch: usize, part: i32, parts: i32,
): void {
  gemmPart(transA, transB, M, N, K, a, lda, b, ldb, c, ldc, accumulate, scratchOf(scratch, part), part, parts);
}

/** gemm's work for one part, `own` its scratch: the split every product entry point shares. */
function gemmPart(
  transA: bool, transB: bool, M: i32, N: i32, K: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool,
  own: usize, part: i32, parts: i32,
): void {
  if (M > N && parts > 1) {
    const m0 = sliverStart(M, part, parts), m1 = sliverStart(M, part + 1, parts);
    const aRows = a + <usize>m0 * (transA ? 1 : <usize>lda) * 4;
    gemmCore(transA, transB, m1 - m0, 0, N, K, aRows, lda, b, ldb, 0, c + <usize>m0 * ldc * 4, ldc, accumulate, own, false);
    return;
  }
  gemmCore(transA, transB, M, panelStart(N, part, parts), panelStart(N, part + 1, parts), K, a, lda, b, ldb, 0, c, ldc, accumulate, own);
}

/** Packs all of op(B) (K,N) into 8-column panels of K rows (packedFloats(K, N) floats). */
export function pack(transB: bool, K: i32, N: i32, b: usize, ldb: i32, packed: usize, part: i32, parts: i32): void {
  const n0 = panelStart(N, part, parts), n1 = panelStart(N, part + 1, parts);
  if (n1 > n0) packB(transB, b, ldb, 0, K, n0, n1 - n0, packed + <usize>(n0 / NR) * K * NR * 4, <usize>K * NR * 4);
}

// ---------------------------------------------------------------------------------------------
// The ceiling
// ---------------------------------------------------------------------------------------------

/**
 * The 128-bit SIMD multiply-add ceiling: `rounds` rounds of 12 independent madds on registers
 * only, 12·4·2 = 96 FLOPs a round (fused in the relaxed build, a multiply then an add in the plain
 * one). Twelve chains cover a 4-cycle latency on 2 FMA ports with room to spare. Starts from, and
 * writes its sum to, out + part·16, so nothing can be computed ahead or left out.
 */
export function simdPeak(rounds: i32, out: usize, part: i32, parts: i32): void {
  const at = out + <usize>part * 16;
  const seed = v128.load(at);
  // a ← a·scale + shift: every multiply waits on its own chain, so none can be shared or hoisted
  // (with the accumulator as the addend, a compiler computes the one product once per round).
  const scale = f32x4.splat(0.9999999), shift = f32x4.splat(1e-7);
  let a0 = seed, a1 = f32x4.add(seed, shift), a2 = f32x4.add(a1, shift), a3 = f32x4.add(a2, shift);
  let a4 = f32x4.add(a3, shift), a5 = f32x4.add(a4, shift), a6 = f32x4.add(a5, shift), a7 = f32x4.add(a6, shift);
  let a8 = f32x4.add(a7, shift), a9 = f32x4.add(a8, shift), a10 = f32x4.add(a9, shift), a11 = f32x4.add(a10, shift);
  for (let r = 0; r < rounds; r++) {
    a0 = madd(a0, scale, shift); a1 = madd(a1, scale, shift); a2 = madd(a2, scale, shift); a3 = madd(a3, scale, shift);
    a4 = madd(a4, scale, shift); a5 = madd(a5, scale, shift); a6 = madd(a6, scale, shift); a7 = madd(a7, scale, shift);
    a8 = madd(a8, scale, shift); a9 = madd(a9, scale, shift); a10 = madd(a10, scale, shift); a11 = madd(a11, scale, shift);
  }
  const sum = f32x4.add(f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  v128.store(at, sum);
}

/**
 * The read bandwidth a matrix-vector product is bounded by: this part's share of `bytes` at `buffer`
 * (whole 128-byte blocks), read once with eight independent sums and nothing else. Batch-1
 * sampling streams every recurrent weight once per character, so this is its ceiling once the
 * weights leave the cache. Writes its sum at out + part·16, so no load can be left out.
 */
export function readStream(buffer: usize, bytes: i32, out: usize, part: i32, parts: i32): void {
  const blocks = bytes >> 7;
  const start = buffer + (<usize>splitStart(blocks, part, parts) << 7), end = buffer + (<usize>splitStart(blocks, part + 1, parts) << 7);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let q = start; q < end; q += 128) {
    a0 = f32x4.add(a0, v128.load(q)); a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32)); a3 = f32x4.add(a3, v128.load(q, 48));
    a4 = f32x4.add(a4, v128.load(q, 64)); a5 = f32x4.add(a5, v128.load(q, 80));
    a6 = f32x4.add(a6, v128.load(q, 96)); a7 = f32x4.add(a7, v128.load(q, 112));
  }
  v128.store(out + <usize>part * 16, f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))));
}

/**
 * The core's clock, measured: `rounds` rounds of 16 integer operations that each wait for the one
 * before (alternating add and xor of values the compiler cannot see, one cycle each), so a round
 * takes 16 cycles. Writes its result at out + part·16.
 */
export function clockProbe(rounds: i32, out: usize, part: i32, parts: i32): void {
  const at = out + <usize>part * 16;
  let v = load<i32>(at);
  const p = load<i32>(at, 4), q = load<i32>(at, 8);
  for (let r = 0; r < rounds; r++) {
    v = ((((v + p) ^ q) + p) ^ q); v = ((((v + p) ^ q) + p) ^ q);
    v = ((((v + p) ^ q) + p) ^ q); v = ((((v + p) ^ q) + p) ^ q);
  }
  store<i32>(at, v, 12);
}

// ---------------------------------------------------------------------------------------------
// Elementwise functions, four lanes at a time
// ---------------------------------------------------------------------------------------------

// exp by range reduction x = n·ln2 + r, |r| ≤ ln2/2, and Cephes' expf minimax polynomial for e^r
// (Moshier, "Methods and Programs for Mathematical Functions", 1989): about 1 ulp. Inputs are
// clamped to [-87, 88] so 2^n stays a normal float; NaN passes through (pmin and pmax return
// their first operand when a comparison fails, and are one instruction each where min and max,
// which must order −0 and +0 and pick a NaN, take several).
// n = round(x·log2 e) comes from adding 1.5·2^23, which rounds to an integer (to even, as
// f32x4.nearest) and leaves it in the low mantissa bits: 2^n is those bits plus 127, shifted into
// the exponent, with no float-to-int conversion (several instructions in V8, to saturate).
@inline function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const magic = f32x4.splat(12582912.0);
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(shifted, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(f32x4.mul(p, r), r, r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.sub(shifted, magic), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

@inline function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

// tanh: Cephes' tanhf, an odd polynomial below |x| = 0.625 (where 1 − 2/(e^{2x}+1) would cancel)
// and (1 − e^{−2|x|}) / (1 + e^{−2|x|}) with the sign of x above it.
@inline function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = madd(p, z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const e = vexp(f32x4.mul(ax, f32x4.splat(-2.0)));
  const one = f32x4.splat(1.0);
  const large = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const signed = v128.or(large, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

// Scalar forms for ragged tails: the lane arithmetic on a splat, so every element of a row rounds
// the same way whatever its position.
@inline function sexp(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }
@inline function ssigmoid(x: f32): f32 { return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0); }
@inline function stanh(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }

/** Natural log in float64 for the loss: x = 2^e·m, m ∈ [√½, √2), log m = 2·atanh((m−1)/(m+1)) as a series. */
function log64(x: f64): f64 {
  if (!(x > 0) || !isFinite(x)) return x == 0 ? -Infinity : (x > 0 ? x : NaN);
  let bits = reinterpret<u64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (e == -1023) return log64(x * 4503599627370496.0) - 36.04365338911715; // subnormal: scale by 2^52
  if (m > 1.4142135623730951) { m *= 0.5; e++; }
  const s = (m - 1) / (m + 1), s2 = s * s;
  let series = 1.0 / 19;
  series = series * s2 + 1.0 / 17; series = series * s2 + 1.0 / 15; series = series * s2 + 1.0 / 13;
  series = series * s2 + 1.0 / 11; series = series * s2 + 1.0 / 9; series = series * s2 + 1.0 / 7;
  series = series * s2 + 1.0 / 5; series = series * s2 + 1.0 / 3; series = series * s2 + 1.0;
  return <f64>e * 0.6931471805599453 + 2 * s * series;
}

// ---------------------------------------------------------------------------------------------
// Pointwise kernels
// ---------------------------------------------------------------------------------------------

/** out[r, :] = W[:, tokens[r]] + bias for rows of this part's gate range (W (G,V)). */
export function oneHotProject(out: usize, tokens: usize, rows: i32, w: usize, bias: usize, G: i32, V: i32, part: i32, parts: i32): void {
  const g0 = splitStart(G, part, parts), g1 = splitStart(G, part + 1, parts);
  // Gate blocks of 16 keep 16 rows of W in L1 while every token row is written.
  for (let gb = g0; gb < g1; gb += 16) {
    const ge = min(g1, gb + 16);
    for (let r = 0; r < rows; r++) {
      const token = load<i32>(tokens + <usize>r * 4);
      const o = out + <usize>r * G * 4;
      for (let g = gb; g < ge; g++) {
        store<f32>(o + <usize>g * 4, load<f32>(w + (<usize>g * V + token) * 4) + load<f32>(bias + <usize>g * 4));
      }
    }
  }
}

/** dW[:, tokens[r]] += dOut[r, :] for this part's gate rows, in row order. */
export function oneHotAccumulate(dW: usize, dOut: usize, tokens: usize, rows: i32, G: i32, V: i32, part: i32, parts: i32): void {
  const g0 = splitStart(G, part, parts), g1 = splitStart(G, part + 1, parts);
  for (let gb = g0; gb < g1; gb += 16) {
    const ge = min(g1, gb + 16);
    for (let r = 0; r < rows; r++) {
      const token = load<i32>(tokens + <usize>r * 4);
      const o = dOut + <usize>r * G * 4;
      for (let g = gb; g < ge; g++) {
        const p = dW + (<usize>g * V + token) * 4;
        store<f32>(p, load<f32>(p) + load<f32>(o + <usize>g * 4));
      }
    }
  }
}

export function embedLookup(out: usize, tokens: usize, rows: i32, e: usize, width: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(out + <usize>r * width * 4, e + <usize>load<i32>(tokens + <usize>r * 4) * width * 4, <usize>width * 4);
  }
}

export function embedAccumulate(dE: usize, dOut: usize, tokens: usize, rows: i32, width: i32): void {
  for (let r = 0; r < rows; r++) add(dE + <usize>load<i32>(tokens + <usize>r * 4) * width * 4, dOut + <usize>r * width * 4, width);
}

/** out[i] += x[i]. */
export function add(out: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(x + o)));
  }
  for (; i < n; i++) store<f32>(out + <usize>i * 4, load<f32>(out + <usize>i * 4) + load<f32>(x + <usize>i * 4));
}

/** C[r, :] += bias. */
export function addBias(c: usize, rows: i32, cols: i32, bias: usize): void {
  for (let r = 0; r < rows; r++) add(c + <usize>r * cols * 4, bias, cols);
}

/**
 * dBias[k] += Σ_r dC[r, k] for this part's columns, rows in order: 32 columns at a time summed
 * down all the rows in registers (the bias is read and written once, not once a row), then the
 * rest a row at a time. Each column's sum is the same chain either way.
 */
export function sumRows(dBias: usize, dC: usize, rows: i32, cols: i32, part: i32, parts: i32): void {
  const k0 = min(cols, splitStart((cols + 3) / 4, part, parts) * 4), k1 = min(cols, splitStart((cols + 3) / 4, part + 1, parts) * 4);
  const stride = <usize>cols * 4;
  let k = k0;
  for (; k + 32 <= k1; k += 32) {
    const b = dBias + <usize>k * 4;
    let s0 = v128.load(b), s1 = v128.load(b, 16), s2 = v128.load(b, 32), s3 = v128.load(b, 48);
    let s4 = v128.load(b, 64), s5 = v128.load(b, 80), s6 = v128.load(b, 96), s7 = v128.load(b, 112);
    let p = dC + <usize>k * 4;
    for (let r = 0; r < rows; r++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      s4 = f32x4.add(s4, v128.load(p, 64)); s5 = f32x4.add(s5, v128.load(p, 80));
      s6 = f32x4.add(s6, v128.load(p, 96)); s7 = f32x4.add(s7, v128.load(p, 112));
      p += stride;
    }
    v128.store(b, s0); v128.store(b, s1, 16); v128.store(b, s2, 32); v128.store(b, s3, 48);
    v128.store(b, s4, 64); v128.store(b, s5, 80); v128.store(b, s6, 96); v128.store(b, s7, 112);
  }
  if (k < k1) for (let r = 0; r < rows; r++) add(dBias + <usize>k * 4, dC + (<usize>r * cols + k) * 4, k1 - k);
}

/** out[i] = x[i]·mask[i]. */
export function multiply(out: usize, x: usize, mask: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, f32x4.mul(v128.load(x + o), v128.load(mask + o)));
  }
  for (; i < n; i++) store<f32>(out + <usize>i * 4, load<f32>(x + <usize>i * 4) * load<f32>(mask + <usize>i * 4));
}

/** One LSTM step for B rows (see kernels.ts lstmForward): gates activated in place, c, tanh(c), h. */
export function lstmForward(gates: usize, cPrev: usize, c: usize, tanhC: usize, h: usize, B: i32, H: i32): void {
  lstmForwardUnits(gates, cPrev, c, tanhC, h, B, H, 0, H);
}

/** lstmForward for hidden units k0..k1 only (k0 a multiple of 4); each unit rounds the same either way. */
function lstmForwardUnits(gates: usize, cPrev: usize, c: usize, tanhC: usize, h: usize, B: i32, H: i32, k0: i32, k1: i32): void {
  const H4 = k0 + ((k1 - k0) & ~3);
  const gateBytes = <usize>H * 4;
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * 4 * gateBytes, s = <usize>b * gateBytes;
    for (let k = k0; k < H4; k += 4) {
      const o = <usize>k * 4;
      const i = vsigmoid(v128.load(g + o));
      const f = vsigmoid(v128.load(g + gateBytes + o));
      const u = vtanh(v128.load(g + 2 * gateBytes + o));
      const og = vsigmoid(v128.load(g + 3 * gateBytes + o));
      v128.store(g + o, i); v128.store(g + gateBytes + o, f); v128.store(g + 2 * gateBytes + o, u); v128.store(g + 3 * gateBytes + o, og);
      const cNew = f32x4.add(f32x4.mul(f, v128.load(cPrev + s + o)), f32x4.mul(i, u));
      v128.store(c + s + o, cNew);
      const t = vtanh(cNew);
      v128.store(tanhC + s + o, t);
      v128.store(h + s + o, f32x4.mul(og, t));
    }
    for (let k = H4; k < k1; k++) {
      const o = <usize>k * 4;
      const i = ssigmoid(load<f32>(g + o));
      const f = ssigmoid(load<f32>(g + gateBytes + o));
      const u = stanh(load<f32>(g + 2 * gateBytes + o));
      const og = ssigmoid(load<f32>(g + 3 * gateBytes + o));
      store<f32>(g + o, i); store<f32>(g + gateBytes + o, f); store<f32>(g + 2 * gateBytes + o, u); store<f32>(g + 3 * gateBytes + o, og);
      const cNew = f * load<f32>(cPrev + s + o) + i * u;
      store<f32>(c + s + o, cNew);
      const t = stanh(cNew);
      store<f32>(tanhC + s + o, t);
      store<f32>(h + s + o, og * t);
    }
  }
}

/** One LSTM step backward for B rows (see kernels.ts lstmBackward). */
export function lstmBackward(gates: usize, cPrev: usize, tanhC: usize, dh: usize, dc: usize, dGates: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gateBytes = <usize>H * 4;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * 4 * gateBytes, d = dGates + <usize>b * 4 * gateBytes, s = <usize>b * gateBytes;
    for (let k = 0; k < H4; k += 4) {
      const o = <usize>k * 4;
      const i = v128.load(g + o), f = v128.load(g + gateBytes + o), u = v128.load(g + 2 * gateBytes + o), og = v128.load(g + 3 * gateBytes + o);
      const t = v128.load(tanhC + s + o);
      const dhk = v128.load(dh + s + o);
      const dcTotal = f32x4.add(v128.load(dc + s + o), f32x4.mul(f32x4.mul(dhk, og), f32x4.sub(one, f32x4.mul(t, t))));
      v128.store(d + o, f32x4.mul(f32x4.mul(f32x4.mul(dcTotal, u), i), f32x4.sub(one, i)));
      v128.store(d + gateBytes + o, f32x4.mul(f32x4.mul(f32x4.mul(dcTotal, v128.load(cPrev + s + o)), f), f32x4.sub(one, f)));
      v128.store(d + 2 * gateBytes + o, f32x4.mul(f32x4.mul(dcTotal, i), f32x4.sub(one, f32x4.mul(u, u))));
      v128.store(d + 3 * gateBytes + o, f32x4.mul(f32x4.mul(f32x4.mul(dhk, t), og), f32x4.sub(one, og)));
      v128.store(dc + s + o, f32x4.mul(dcTotal, f));
    }
    for (let k = H4; k < H; k++) {
      const o = <usize>k * 4;
      const i = load<f32>(g + o), f = load<f32>(g + gateBytes + o), u = load<f32>(g + 2 * gateBytes + o), og = load<f32>(g + 3 * gateBytes + o);
      const t = load<f32>(tanhC + s + o);
      const dhk = load<f32>(dh + s + o);
      const dcTotal = load<f32>(dc + s + o) + dhk * og * (1 - t * t);
      store<f32>(d + o, dcTotal * u * i * (1 - i));
      store<f32>(d + gateBytes + o, dcTotal * load<f32>(cPrev + s + o) * f * (1 - f));
      store<f32>(d + 2 * gateBytes + o, dcTotal * i * (1 - u * u));
      store<f32>(d + 3 * gateBytes + o, dhk * t * og * (1 - og));
      store<f32>(dc + s + o, dcTotal * f);
    }
  }
}

/** One GRU step for B rows (see kernels.ts gruForward); acts may be xProj itself. */
export function gruForward(xProj: usize, hProj: usize, hPrev: usize, acts: usize, h: usize, B: i32, H: i32): void {
  gruForwardUnits(xProj, hProj, hPrev, acts, h, B, H, 0, H);
}

/** gruForward for hidden units k0..k1 only (k0 a multiple of 4); each unit rounds the same either way. */
function gruForwardUnits(xProj: usize, hProj: usize, hPrev: usize, acts: usize, h: usize, B: i32, H: i32, k0: i32, k1: i32): void {
  const H4 = k0 + ((k1 - k0) & ~3);
  const gb = <usize>H * 4;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const x = xProj + <usize>b * 3 * gb, hp = hProj + <usize>b * 3 * gb, a = acts + <usize>b * 3 * gb, s = <usize>b * gb;
    for (let k = k0; k < H4; k += 4) {
      const o = <usize>k * 4;
      const r = vsigmoid(f32x4.add(v128.load(x + o), v128.load(hp + o)));
      const z = vsigmoid(f32x4.add(v128.load(x + gb + o), v128.load(hp + gb + o)));
      const n = vtanh(f32x4.add(v128.load(x + 2 * gb + o), f32x4.mul(r, v128.load(hp + 2 * gb + o))));
      v128.store(a + o, r); v128.store(a + gb + o, z); v128.store(a + 2 * gb + o, n);
      v128.store(h + s + o, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, v128.load(hPrev + s + o))));
    }
    for (let k = H4; k < k1; k++) {
      const o = <usize>k * 4;
      const r = ssigmoid(load<f32>(x + o) + load<f32>(hp + o));
      const z = ssigmoid(load<f32>(x + gb + o) + load<f32>(hp + gb + o));
      const n = stanh(load<f32>(x + 2 * gb + o) + r * load<f32>(hp + 2 * gb + o));
      store<f32>(a + o, r); store<f32>(a + gb + o, z); store<f32>(a + 2 * gb + o, n);
      store<f32>(h + s + o, (1 - z) * n + z * load<f32>(hPrev + s + o));
    }
  }
}

/** One GRU step backward for B rows (see kernels.ts gruBackward). */
export function gruBackward(hProj: usize, hPrev: usize, acts: usize, dh: usize, dX: usize, dHh: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gb = <usize>H * 4;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < B; b++) {
    const hp = hProj + <usize>b * 3 * gb, a = acts + <usize>b * 3 * gb, dx = dX + <usize>b * 3 * gb, dhh = dHh + <usize>b * 3 * gb, s = <usize>b * gb;
    for (let k = 0; k < H4; k += 4) {
      const o = <usize>k * 4;
      const r = v128.load(a + o), z = v128.load(a + gb + o), n = v128.load(a + 2 * gb + o);
      const dhk = v128.load(dh + s + o);
      const dnPre = f32x4.mul(f32x4.mul(dhk, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dzPre = f32x4.mul(f32x4.mul(f32x4.mul(dhk, f32x4.sub(v128.load(hPrev + s + o), n)), z), f32x4.sub(one, z));
      const drPre = f32x4.mul(f32x4.mul(f32x4.mul(dnPre, v128.load(hp + 2 * gb + o)), r), f32x4.sub(one, r));
      v128.store(dx + o, drPre); v128.store(dx + gb + o, dzPre); v128.store(dx + 2 * gb + o, dnPre);
      v128.store(dhh + o, drPre); v128.store(dhh + gb + o, dzPre); v128.store(dhh + 2 * gb + o, f32x4.mul(dnPre, r));
      v128.store(dh + s + o, f32x4.mul(dhk, z));
    }
    for (let k = H4; k < H; k++) {
      const o = <usize>k * 4;
      const r = load<f32>(a + o), z = load<f32>(a + gb + o), n = load<f32>(a + 2 * gb + o);
      const dhk = load<f32>(dh + s + o);
      const dnPre = dhk * (1 - z) * (1 - n * n);
      const dzPre = dhk * (load<f32>(hPrev + s + o) - n) * z * (1 - z);
      const drPre = dnPre * load<f32>(hp + 2 * gb + o) * r * (1 - r);
      store<f32>(dx + o, drPre); store<f32>(dx + gb + o, dzPre); store<f32>(dx + 2 * gb + o, dnPre);
      store<f32>(dhh + o, drPre); store<f32>(dhh + gb + o, dzPre); store<f32>(dhh + 2 * gb + o, dnPre * r);
      store<f32>(dh + s + o, dhk * z);
    }
  }
}

/** Elman step: pre[i] = act(pre[i]) in place. */
export function rnnForward(pre: usize, n: i32, relu: bool): void {
  let i = 0;
  const zero = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) {
    const p = pre + <usize>i * 4;
    const v = v128.load(p);
    // v > 0 ? v : 0, as the TypeScript kernels do (NaN and −0 become +0).
    v128.store(p, relu ? v128.and(v, f32x4.gt(v, zero)) : vtanh(v));
  }
  for (; i < n; i++) {
    const p = pre + <usize>i * 4;
    const v = load<f32>(p);
    store<f32>(p, relu ? (v > 0 ? v : 0) : stanh(v));
  }
}

/** dPre[i] = dh[i]·act'(h[i]). */
export function rnnBackward(h: usize, dh: usize, dPre: usize, n: i32, relu: bool): void {
  let i = 0;
  const zero = f32x4.splat(0), one = f32x4.splat(1.0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    const y = v128.load(h + o), d = v128.load(dh + o);
    v128.store(dPre + o, relu ? v128.and(d, f32x4.gt(y, zero)) : f32x4.mul(d, f32x4.sub(one, f32x4.mul(y, y))));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const y = load<f32>(h + o), d = load<f32>(dh + o);
    store<f32>(dPre + o, relu ? (y > 0 ? d : 0) : d * (1 - y * y));
  }
}

/**
 * Softmax cross-entropy over this part's rows: writes gradScale·(softmax − onehot) into dLogits and
 * each row's loss (nats, float64) into rowLoss, for the caller to sum in row order whatever the split.
 */
export function softmaxCrossEntropy(logits: usize, targets: usize, rows: i32, V: i32, dLogits: usize, gradScale: f32, rowLoss: usize, part: i32, parts: i32): void {
  softmaxRows(logits, targets, splitStart(rows, part, parts), splitStart(rows, part + 1, parts), V, dLogits, gradScale, rowLoss);
}

/** softmaxCrossEntropy's work for rows [r0, r1): each row's loss at rowLoss + 8·r. */
function softmaxRows(logits: usize, targets: usize, r0: i32, r1: i32, V: i32, dLogits: usize, gradScale: f32, rowLoss: usize): void {
  const V4 = V & ~3;
  for (let r = r0; r < r1; r++) {
    const l = logits + <usize>r * V * 4, d = dLogits + <usize>r * V * 4;
    let mv = f32x4.splat(-Infinity);
    for (let v = 0; v < V4; v += 4) mv = f32x4.max(mv, v128.load(l + <usize>v * 4));
    let rowMax = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let v = V4; v < V; v++) rowMax = max<f32>(rowMax, load<f32>(l + <usize>v * 4));
    const maxv = f32x4.splat(rowMax);
    let sv = f32x4.splat(0);
    for (let v = 0; v < V4; v += 4) sv = f32x4.add(sv, vexp(f32x4.sub(v128.load(l + <usize>v * 4), maxv)));
    let sum = <f64>lanesSum(sv);
    for (let v = V4; v < V; v++) sum += <f64>sexp(load<f32>(l + <usize>v * 4) - rowMax);
    const logSum = log64(sum) + <f64>rowMax;
    const target = load<i32>(targets + <usize>r * 4);
    store<f64>(rowLoss + <usize>r * 8, logSum - <f64>load<f32>(l + <usize>target * 4));
    const ls = f32x4.splat(<f32>logSum), scale = f32x4.splat(gradScale);
    for (let v = 0; v < V4; v += 4) {
      const o = <usize>v * 4;
      v128.store(d + o, f32x4.mul(vexp(f32x4.sub(v128.load(l + o), ls)), scale));
    }
    for (let v = V4; v < V; v++) {
      const o = <usize>v * 4;
      store<f32>(d + o, sexp(load<f32>(l + o) - <f32>logSum) * gradScale);
    }
    const t = d + <usize>target * 4;
    store<f32>(t, load<f32>(t) - gradScale);
  }
}

/**
 * The decoder and its loss in one call: logits (rows, V) = y (rows, H) · Wᵀ + bias, then, with
 * targets (0: none), softmaxCrossEntropy of them. Rows are split in 6-row slivers, so a part
 * needs no other part's logits and the three steps need no hand-off between them. Each step is
 * the arithmetic of its own kernel (gemm, addBias, softmaxCrossEntropy), so the bits are theirs.
 */
export function decoderForward(rows: i32, V: i32, H: i32, y: usize, w: usize, bias: usize, logits: usize,
  targets: usize, dLogits: usize, gradScale: f32, rowLoss: usize, scratch: usize, part: i32, parts: i32): void {
  const m0 = sliverStart(rows, part, parts), m1 = sliverStart(rows, part + 1, parts);
  if (m1 <= m0) return;
  const own = scratchOf(scratch, part);
  const out = logits + <usize>m0 * V * 4;
  // One row is matrix-vector work only when it is the whole product, as in gemm.
  gemmCore(false, true, m1 - m0, 0, V, H, y + <usize>m0 * H * 4, H, w, H, 0, out, V, false, own, rows == 1);
  addBias(out, m1 - m0, V, bias);
  if (targets != 0) softmaxRows(logits, targets, m0, m1, V, dLogits, gradScale, rowLoss);
}

/**
 * The decoder's gradient in one call: dW (V, H) += dLogitsᵀ · y, dBias += Σ_r dLogits[r], and
 * dY (rows, H) = dLogits · W. The three write apart and read only dLogits, y and W, so each part
 * does its share of each, split as gemm and sumRows split them, with no hand-off between.
 */
export function decoderBackward(rows: i32, V: i32, H: i32, dLogits: usize, y: usize, w: usize, dW: usize, dBias: usize,
  dY: usize, scratch: usize, part: i32, parts: i32): void {
  const own = scratchOf(scratch, part);
  gemmPart(true, false, V, H, rows, dLogits, V, y, H, dW, H, true, own, part, parts);
  sumRows(dBias, dLogits, rows, V, part, parts);
  gemmPart(false, false, rows, H, V, dLogits, V, w, H, dY, H, false, own, part, parts);
}

// ---------------------------------------------------------------------------------------------
// The optimiser
// ---------------------------------------------------------------------------------------------
// Adam (PyTorch 1.13's update, weight decay decoupled) in float64, exactly as the TypeScript loop
// in src/core/optim/optimizers.ts computes it: the same operations in the same order, each stored
// value rounded to float32 and read back before it is used again, no fused multiply-add. IEEE
// arithmetic rounds each of them one way, so the two give the same bits. Two lanes at a time.

/** f32 pair at p as two f64 lanes. */
@inline function loadPair(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Two f64 lanes rounded to f32 and stored at p; the rounded values, as f64 again. */
@inline function storePair(p: usize, x: v128): v128 {
  const rounded = f32x4.demote_f64x2_zero(x);
  v128.store64_lane(p, rounded, 0);
  return f64x2.promote_low_f32x4(rounded);
}

/**
 * One Adam update of elements [i0, i1) of this part (pairs split between parts): values, m, v in
 * place; grads read. `decayed` with `decay` = 1 − lr·wd first scales each value (AdamW).
 */
export function adamStep(values: usize, grads: usize, m: usize, v: usize, n: i32,
  beta1: f64, oneMinusBeta1: f64, beta2: f64, oneMinusBeta2: f64, stepSize: f64, correction2: f64, eps: f64,
  decay: f64, decayed: bool, part: i32, parts: i32): void {
  const pairs = n >> 1;
  const i0 = splitStart(pairs, part, parts) * 2;
  const i1 = part == parts - 1 ? n : splitStart(pairs, part + 1, parts) * 2;
  const b1 = f64x2.splat(beta1), c1 = f64x2.splat(oneMinusBeta1), b2 = f64x2.splat(beta2), c2 = f64x2.splat(oneMinusBeta2);
  const size = f64x2.splat(stepSize), corr = f64x2.splat(correction2), epsilon = f64x2.splat(eps), dec = f64x2.splat(decay);
  let i = i0;
  for (; i + 2 <= i1; i += 2) {
    const o = <usize>i * 4;
    const g = loadPair(grads + o);
    let x = loadPair(values + o);
    if (decayed) x = storePair(values + o, f64x2.mul(x, dec));
    const mi = storePair(m + o, f64x2.add(f64x2.mul(b1, loadPair(m + o)), f64x2.mul(c1, g)));
    const vi = storePair(v + o, f64x2.add(f64x2.mul(b2, loadPair(v + o)), f64x2.mul(f64x2.mul(c2, g), g)));
    storePair(values + o, f64x2.sub(x, f64x2.div(f64x2.mul(size, mi), f64x2.add(f64x2.div(f64x2.sqrt(vi), corr), epsilon))));
  }
  for (; i < i1; i++) {
    const o = <usize>i * 4;
    const g = <f64>load<f32>(grads + o);
    if (decayed) store<f32>(values + o, <f32>(<f64>load<f32>(values + o) * decay));
    const x = <f64>load<f32>(values + o);
    store<f32>(m + o, <f32>(beta1 * <f64>load<f32>(m + o) + oneMinusBeta1 * g));
    store<f32>(v + o, <f32>(beta2 * <f64>load<f32>(v + o) + oneMinusBeta2 * g * g));
    const mi = <f64>load<f32>(m + o), vi = <f64>load<f32>(v + o);
    store<f32>(values + o, <f32>(x - (stepSize * mi) / (Math.sqrt(vi) / correction2 + eps)));
  }
}

// ---------------------------------------------------------------------------------------------
// Whole time loops, one part of the batch each
// ---------------------------------------------------------------------------------------------
// Streams never mix within a window: row b of h_t depends only on row b of h_{t-1}. So each
// thread runs every step for its own rows with no hand-off, and the results do not depend on how
// the batch was split. The per-step products read W_hh packed once for the window; only a batch
// of one stream reads it as it is (matrix-vector work, summed in another order), never a part
// that happens to hold one row, or its bits would depend on the split. Layouts: src/core/nn/cell.ts.

/** LSTM layer forward, steps 0..T−1, rows of this part (wHhT: W_hh packed as op(B) = W_hhᵀ (H, 4H)). */
export function lstmSequenceForward(T: i32, B: i32, H: i32, gates: usize, hs: usize, cs: usize, tanhC: usize,
  wHh: usize, wHhT: usize, scratch: usize, part: i32, parts: i32): void {
  if (B == 1 && T == 1 && parts > 1) {
    // One stream, one step (sampling): split the hidden units instead. A part computes all four
    // gates of its units, W_hh rows q·H + u for q = i, f, g, o, and needs no other part's result.
    const groups = (H + 3) / 4;
    const u0 = min(H, splitStart(groups, part, parts) * 4), u1 = min(H, splitStart(groups, part + 1, parts) * 4);
    if (u1 <= u0) return;
    for (let q = 0; q < 4; q++) {
      gemvRows(hs, H, wHh + <usize>q * H * H * 4, H, gates + <usize>q * H * 4, u0, u1, true);
    }
    lstmForwardUnits(gates, cs, cs + <usize>H * 4, tanhC, hs + <usize>H * 4, 1, H, u0, u1);
    return;
  }
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  const G = 4 * H;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0);
    const g = gates + row * G * 4;
    gemmCore(false, true, rows, 0, G, H, hs + row * H * 4, H, B == 1 ? wHh : 0, H, wHhT, g, G, true, scratch);
    const next = <usize>((t + 1) * B + b0) * H * 4;
    lstmForward(g, cs + row * H * 4, cs + next, tanhC + row * H * 4, hs + next, rows, H);
  }
}

/** LSTM layer backward, steps T−1..0, rows of this part (wHhP: W_hh packed as op(B) = W_hh (4H, H)). */
export function lstmSequenceBackward(T: i32, B: i32, H: i32, gates: usize, hs: usize, cs: usize, tanhC: usize,
  dOut: usize, dGates: usize, dh: usize, dc: usize, wHh: usize, wHhP: usize, scratch: usize, part: i32, parts: i32): void {
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  const G = 4 * H;
  const dhRows = dh + <usize>b0 * H * 4, dcRows = dc + <usize>b0 * H * 4;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    add(dhRows, dOut + row * H * 4, rows * H);
    const dg = dGates + row * G * 4;
    lstmBackward(gates + row * G * 4, cs + row * H * 4, tanhC + row * H * 4, dhRows, dcRows, dg, rows, H);
    gemmCore(false, false, rows, 0, H, G, dg, G, B == 1 ? wHh : 0, H, wHhP, dhRows, H, false, scratch);
  }
}

/** GRU layer forward (xProj becomes the activations r, z, n in place; hProj keeps W_hh·h + b_hh). */
export function gruSequenceForward(T: i32, B: i32, H: i32, xProj: usize, hProj: usize, hs: usize, bHh: usize,
  wHh: usize, wHhT: usize, scratch: usize, part: i32, parts: i32): void {
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  const G = 3 * H;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0);
    const hp = hProj + row * G * 4, x = xProj + row * G * 4;
    gemmCore(false, true, rows, 0, G, H, hs + row * H * 4, H, B == 1 ? wHh : 0, H, wHhT, hp, G, false, scratch);
    addBias(hp, rows, G, bHh);
    gruForward(x, hp, hs + row * H * 4, x, hs + <usize>((t + 1) * B + b0) * H * 4, rows, H);
  }
}

/** GRU layer backward, rows of this part. */
export function gruSequenceBackward(T: i32, B: i32, H: i32, acts: usize, hProj: usize, hs: usize,
  dOut: usize, dGates: usize, dHh: usize, dh: usize, wHh: usize, wHhP: usize, scratch: usize, part: i32, parts: i32): void {
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  const G = 3 * H;
  const dhRows = dh + <usize>b0 * H * 4;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    add(dhRows, dOut + row * H * 4, rows * H);
    const dhh = dHh + row * G * 4;
    gruBackward(hProj + row * G * 4, hs + row * H * 4, acts + row * G * 4, dhRows, dGates + row * G * 4, dhh, rows, H);
    gemmCore(false, false, rows, 0, H, G, dhh, G, B == 1 ? wHh : 0, H, wHhP, dhRows, H, true, scratch);
  }
}

/** Elman layer forward: hs[t+1] holds the input projection and receives W_hh·h_t, then act. */
export function rnnSequenceForward(T: i32, B: i32, H: i32, hs: usize, relu: bool,
  wHh: usize, wHhT: usize, scratch: usize, part: i32, parts: i32): void {
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  for (let t = 0; t < T; t++) {
    const out = hs + <usize>((t + 1) * B + b0) * H * 4;
    gemmCore(false, true, rows, 0, H, H, hs + <usize>(t * B + b0) * H * 4, H, B == 1 ? wHh : 0, H, wHhT, out, H, true, scratch);
    rnnForward(out, rows * H, relu);
  }
}

/** Elman layer backward, rows of this part. */
export function rnnSequenceBackward(T: i32, B: i32, H: i32, hs: usize, relu: bool, dOut: usize, dGates: usize, dh: usize,
  wHh: usize, wHhP: usize, scratch: usize, part: i32, parts: i32): void {
  const b0 = splitStart(B, part, parts), rows = splitStart(B, part + 1, parts) - b0;
  if (rows <= 0) return;
  scratch = scratchOf(scratch, part);
  const dhRows = dh + <usize>b0 * H * 4;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    add(dhRows, dOut + row * H * 4, rows * H);
    const dp = dGates + row * H * 4;
    rnnBackward(hs + <usize>((t + 1) * B + b0) * H * 4, dhRows, dp, rows * H, relu);
    gemmCore(false, false, rows, 0, H, H, dp, H, B == 1 ? wHh : 0, H, wHhP, dhRows, H, false, scratch);
  }
}

// ---------------------------------------------------------------------------------------------
// Batch-1 steps: every layer and the decoder for one token in one call (sampling)
// ---------------------------------------------------------------------------------------------
// The weights are laid out once per load (stepPack) so a step reads each of them exactly once,
// front to back: per layer, 4-row blocks of [W_ih | W_hh] interleaved four floats at a time, so
// the input and recurrent products of a layer are one pass over one stream. Each row keeps the
// arithmetic gemvRows gives it in the Workspace's batch-1 forward (one 4-lane sum per row over
// k in order, lanes summed (l0 + l1) + (l2 + l3), the K mod 4 tail added after, the rows past
// the last whole block of 4 without fused multiply-adds), and the biases go in in the order the
// Workspace adds them, so the logits are the same bits and the sampled text the same characters.
// Layer 0's one-hot input projection is a row of a table made at pack time: column `token` of
// W_ih plus the biases, added as oneHotProject and addBias add them.

const STEP_LSTM: i32 = 0;
const STEP_GRU: i32 = 1;

// The step plan: a header of i32 fields written once by the caller (src/node/wasm/kernels.ts
// stepper), then one record per layer. Offsets in bytes.
const PLAN_CELL = 0;
const PLAN_RELU = 4;
const PLAN_LAYERS = 8;
const PLAN_HIDDEN = 12;
const PLAN_VOCAB = 16;
const PLAN_EMBED = 20;
/** Parts that reached each barrier of the current call (zeroed by the caller before a split call). */
const PLAN_BARRIER = 24;
const PLAN_DECODER = 28;
const PLAN_DECODER_BIAS = 32;
const PLAN_LOGITS = 36;
const PLAN_EMBEDDING = 40;
const PLAN_HEADER_BYTES = 64;
// Per layer:
const LAYER_PACKED = 0;
const LAYER_TABLE = 4;
const LAYER_BIH = 8;
const LAYER_BHH = 12;
/** (H) the state this step reads and replaces; (H) the LSTM cell state, updated in place. */
const LAYER_H = 16;
const LAYER_C = 20;
/** (H) the new h while the step runs (the products read the old one to the end). */
const LAYER_H_NEW = 24;
/** (G) the input product's sums; (G) the recurrent product's; (H) tanh(c) (unused, the step kernel writes it). */
const LAYER_SUMS_X = 28;
const LAYER_SUMS_H = 32;
const LAYER_TANH_C = 36;
const LAYER_BYTES = 64;

/** Bytes of a step plan for L layers. */
export function stepPlanBytes(L: i32): i32 {
  return PLAN_HEADER_BYTES + L * LAYER_BYTES;
}

/**
 * Lays out rows 0..N of [A | B] (A (N,K1) with leading dimension lda, B (N,K2) with ldb; K1 may
 * be 0) for stepRows: N·(K1+K2) floats at dst. Whole 4-row blocks first, each [A part, A tail,
 * B part, B tail]: a part holds, for every 4 columns, the 4 rows' 4 floats; a tail, for each of
 * the last K mod 4 columns, the 4 rows' floats. Then the rows past the last whole block, each
 * its A row and B row as they are.
 */
export function stepPack(a: usize, K1: i32, lda: i32, b: usize, K2: i32, ldb: i32, N: i32, dst: usize): void {
  const N4 = N & ~3;
  let d = dst;
  for (let j = 0; j < N4; j += 4) {
    d = packBlockSegment(a, K1, lda, j, d);
    d = packBlockSegment(b, K2, ldb, j, d);
  }
  for (let j = N4; j < N; j++) {
    memory.copy(d, a + <usize>j * lda * 4, <usize>K1 * 4); d += <usize>K1 * 4;
    memory.copy(d, b + <usize>j * ldb * 4, <usize>K2 * 4); d += <usize>K2 * 4;
  }
}

/** Rows j..j+4 of m (K columns, leading dimension ld) in the block layout at d; returns the end. */
function packBlockSegment(m: usize, K: i32, ld: i32, j: i32, d: usize): usize {
  const K4 = K & ~3;
  const stride = <usize>ld * 4;
  const r0 = m + <usize>j * stride;
  for (let k = 0; k < K4; k += 4) {
    for (let r = 0; r < 4; r++) { v128.store(d, v128.load(r0 + <usize>r * stride + <usize>k * 4)); d += 16; }
  }
  for (let k = K4; k < K; k++) {
    for (let r = 0; r < 4; r++) { store<f32>(d, load<f32>(r0 + <usize>r * stride + <usize>k * 4)); d += 4; }
  }
  return d;
}

/**
 * table[v·G + g] = (W[g·V + v] + bIh[g]) + bHh[g] (bHh 0: no second bias): layer 0's whole
 * input term for token v, with the additions of oneHotProject then addBias.
 */
export function stepTable(w: usize, bIh: usize, bHh: usize, G: i32, V: i32, table: usize): void {
  for (let v = 0; v < V; v++) {
    const row = table + <usize>v * G * 4;
    for (let g = 0; g < G; g++) {
      let s = load<f32>(w + (<usize>g * V + v) * 4) + load<f32>(bIh + <usize>g * 4);
      if (bHh != 0) s += load<f32>(bHh + <usize>g * 4);
      store<f32>(row + <usize>g * 4, s);
    }
  }
}

/** One 4-row block over one K-long segment: sums[0..4]. */
@inline function blockDot(pa: usize, x: usize, K: i32, sums: usize): void {
  const K4 = K & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) {
    const xv = v128.load(x + <usize>k * 4);
    a0 = madd(v128.load(pa), xv, a0); a1 = madd(v128.load(pa, 16), xv, a1);
    a2 = madd(v128.load(pa, 32), xv, a2); a3 = madd(v128.load(pa, 48), xv, a3);
    pa += 64;
  }
  let s0 = lanesSum(a0), s1 = lanesSum(a1), s2 = lanesSum(a2), s3 = lanesSum(a3);
  for (let k = K4; k < K; k++) {
    const xk = load<f32>(x + <usize>k * 4);
    s0 += load<f32>(pa) * xk; s1 += load<f32>(pa, 4) * xk; s2 += load<f32>(pa, 8) * xk; s3 += load<f32>(pa, 12) * xk;
    pa += 16;
  }
  store<f32>(sums, s0); store<f32>(sums, s1, 4); store<f32>(sums, s2, 8); store<f32>(sums, s3, 12);
}

/**
 * Six rows over one K-long segment: the 4 of the block at pa and 2 of the block at pb (rows
 * `pair`·2 and `pair`·2 + 1 of it), each summed exactly as blockDot sums it. Six chains in flight
 * instead of four, closer to what two multiply-add ports need to cover their latency; eight
 * would, but V8 then loads all eight weight vectors ahead and spills a sum inside the loop.
 */
@inline function blockDot6(pa: usize, pb: usize, pair: i32, x: usize, K: i32, sumsA: usize, sumsB: usize): void {
  const K4 = K & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let pr = pb + <usize>pair * 32;
  for (let k = 0; k < K4; k += 4) {
    const xv = v128.load(x + <usize>k * 4);
    a0 = madd(v128.load(pa), xv, a0); a1 = madd(v128.load(pa, 16), xv, a1);
    a2 = madd(v128.load(pa, 32), xv, a2); a3 = madd(v128.load(pa, 48), xv, a3);
    b0 = madd(v128.load(pr), xv, b0); b1 = madd(v128.load(pr, 16), xv, b1);
    pa += 64; pr += 64;
  }
  let s0 = lanesSum(a0), s1 = lanesSum(a1), s2 = lanesSum(a2), s3 = lanesSum(a3);
  let t0 = lanesSum(b0), t1 = lanesSum(b1);
  // The tails: for each of the last K mod 4 columns, a block's 4 rows' floats.
  pr = pr - <usize>pair * 32 + <usize>pair * 8;
  for (let k = K4; k < K; k++) {
    const xk = load<f32>(x + <usize>k * 4);
    s0 += load<f32>(pa) * xk; s1 += load<f32>(pa, 4) * xk; s2 += load<f32>(pa, 8) * xk; s3 += load<f32>(pa, 12) * xk;
    t0 += load<f32>(pr) * xk; t1 += load<f32>(pr, 4) * xk;
    pa += 16; pr += 16;
  }
  store<f32>(sumsA, s0); store<f32>(sumsA, s1, 4); store<f32>(sumsA, s2, 8); store<f32>(sumsA, s3, 12);
  store<f32>(sumsB, t0); store<f32>(sumsB, t1, 4);
}

/** One row past the last whole block, multiply then add as gemvRows does there: Σ_k r[k]·x[k]. */
@inline function rowDot(r: usize, x: usize, K: i32): f32 {
  const K4 = K & ~3;
  let s = f32x4.splat(0);
  for (let k = 0; k < K4; k += 4) s = f32x4.add(s, f32x4.mul(v128.load(r + <usize>k * 4), v128.load(x + <usize>k * 4)));
  let t = lanesSum(s);
  for (let k = K4; k < K; k++) t += load<f32>(r + <usize>k * 4) * load<f32>(x + <usize>k * 4);
  return t;
}

/**
 * Rows [j0, j1) (j0 a multiple of 4) of a stepPack'ed [A | B] with N rows: sumsA[j] = A_j·x
 * (when K1 > 0) and sumsB[j] = B_j·y.
 */
function stepRows(packed: usize, K1: i32, x: usize, K2: i32, y: usize, N: i32, j0: i32, j1: i32, sumsA: usize, sumsB: usize): void {
  const N4 = N & ~3;
  const rowFloats = K1 + K2;
  const blockBytes = <usize>rowFloats * 16;
  const ySegment = <usize>K1 * 16;
  const blockEnd = min(j1, N4);
  // Three blocks at a time as two runs of six rows (blockDot6), then a block at a time.
  let j = j0;
  for (; j + 12 <= blockEnd; j += 12) {
    const p0 = packed + <usize>(j >> 2) * blockBytes, p1 = p0 + blockBytes, p2 = p1 + blockBytes;
    const a = sumsA + <usize>j * 4, b = sumsB + <usize>j * 4;
    if (K1 > 0) {
      blockDot6(p0, p1, 0, x, K1, a, a + 16);
      blockDot6(p2, p1, 1, x, K1, a + 32, a + 24);
    }
    blockDot6(p0 + ySegment, p1 + ySegment, 0, y, K2, b, b + 16);
    blockDot6(p2 + ySegment, p1 + ySegment, 1, y, K2, b + 32, b + 24);
  }
  for (; j < blockEnd; j += 4) {
    const pa = packed + <usize>(j >> 2) * blockBytes;
    if (K1 > 0) blockDot(pa, x, K1, sumsA + <usize>j * 4);
    blockDot(pa + ySegment, y, K2, sumsB + <usize>j * 4);
  }
  for (j = max(j, N4); j < j1; j++) {
    const r = packed + <usize>N4 * rowFloats * 4 + <usize>(j - N4) * rowFloats * 4;
    if (K1 > 0) store<f32>(sumsA + <usize>j * 4, rowDot(r, x, K1));
    store<f32>(sumsB + <usize>j * 4, rowDot(r + <usize>K1 * 4, y, K2));
  }
}

/**
 * out[j] = sumsH[j] + in[j] for j in [j0, j1), where in[j] is table[j] when there is a table,
 * else (sumsX[j] + bIh[j]) + bHh[j] (bHh 0: no second bias): the recurrent sum added last, as
 * the time loops add it into the input projection. out may be sumsH.
 */
function stepCombine(sumsH: usize, sumsX: usize, table: usize, bIh: usize, bHh: usize, out: usize, j0: i32, j1: i32): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const o = <usize>j * 4;
    let input: v128;
    if (table != 0) input = v128.load(table + o);
    else {
      input = f32x4.add(v128.load(sumsX + o), v128.load(bIh + o));
      if (bHh != 0) input = f32x4.add(input, v128.load(bHh + o));
    }
    v128.store(out + o, f32x4.add(v128.load(sumsH + o), input));
  }
  for (; j < j1; j++) {
    const o = <usize>j * 4;
    let input: f32;
    if (table != 0) input = load<f32>(table + o);
    else {
      input = load<f32>(sumsX + o) + load<f32>(bIh + o);
      if (bHh != 0) input += load<f32>(bHh + o);
    }
    store<f32>(out + o, load<f32>(sumsH + o) + input);
  }
}

/** out[j] = a[j] + b[j] for j in [j0, j1) (a bias added as addBias adds it). */
function addRange(a: usize, b: usize, out: usize, j0: i32, j1: i32): void {
  let j = j0;
  for (; j + 4 <= j1; j += 4) v128.store(out + <usize>j * 4, f32x4.add(v128.load(a + <usize>j * 4), v128.load(b + <usize>j * 4)));
  for (; j < j1; j++) store<f32>(out + <usize>j * 4, load<f32>(a + <usize>j * 4) + load<f32>(b + <usize>j * 4));
}

/**
 * Waits until `target` parts have arrived at the counter (this one included). Spins first (the
 * parts of a step are about equal, so the others come within microseconds); one that keeps
 * waiting sleeps in short naps, so a part that lost its core gets one back.
 */
function stepBarrier(counter: usize, target: i32): void {
  atomic.add<i32>(counter, 1);
  let spins = 0;
  for (let seen = atomic.load<i32>(counter); seen < target; seen = atomic.load<i32>(counter)) {
    if (++spins > 20000) memory.atomic.wait32(counter, seen, 20000);
  }
}

/**
 * One batch-1 step of the plan at `plan` for `token`: every layer, then the decoder's logits.
 * A part computes the hidden units [u0, u1) of every layer (all of their gates) and a range of
 * the logits; the parts meet after each layer, since the next one reads all of its h. Split
 * calls need H a multiple of 4 (the caller checks), so every part's rows are whole blocks.
 */
export function step(plan: usize, token: i32, part: i32, parts: i32): void {
  const cell = load<i32>(plan, PLAN_CELL), relu = load<i32>(plan, PLAN_RELU) != 0;
  const L = load<i32>(plan, PLAN_LAYERS), H = load<i32>(plan, PLAN_HIDDEN);
  const V = load<i32>(plan, PLAN_VOCAB), E = load<i32>(plan, PLAN_EMBED);
  const gates = cell == STEP_LSTM ? 4 : cell == STEP_GRU ? 3 : 1;
  const G = gates * H;
  let u0 = 0, u1 = H;
  if (parts > 1) {
    u0 = splitStart(H >> 2, part, parts) * 4;
    u1 = splitStart(H >> 2, part + 1, parts) * 4;
  }
  let below: usize = 0;
  for (let l = 0; l < L; l++) {
    const layer = plan + PLAN_HEADER_BYTES + <usize>l * LAYER_BYTES;
    const packed = <usize>load<i32>(layer, LAYER_PACKED);
    const h = <usize>load<i32>(layer, LAYER_H), hNew = <usize>load<i32>(layer, LAYER_H_NEW);
    const sumsX = <usize>load<i32>(layer, LAYER_SUMS_X), sumsH = <usize>load<i32>(layer, LAYER_SUMS_H);
    const bIh = <usize>load<i32>(layer, LAYER_BIH), bHh = <usize>load<i32>(layer, LAYER_BHH);
    let table: usize = 0, x: usize = below, K1 = H;
    if (l == 0) {
      if (E > 0) { x = <usize>load<i32>(plan, PLAN_EMBEDDING) + <usize>token * E * 4; K1 = E; }
      else { table = <usize>load<i32>(layer, LAYER_TABLE) + <usize>token * G * 4; K1 = 0; x = 0; }
    }
    if (u1 > u0) {
      // The gate rows of units [u0, u1): all G rows in one range on one part, so that a hidden
      // size that is not a multiple of 4 keeps gemvRows's blocks.
      const ranges = parts > 1 ? gates : 1;
      for (let q = 0; q < ranges; q++) {
        const j0 = parts > 1 ? q * H + u0 : 0, j1 = parts > 1 ? q * H + u1 : G;
        stepRows(packed, K1, x, H, h, G, j0, j1, sumsX, sumsH);
        if (cell == STEP_GRU) {
          // xProj = W_ih·x + b_ih (into sumsX), hProj = W_hh·h + b_hh (into sumsH), as the GRU keeps them apart.
          if (table != 0) memory.copy(sumsX + <usize>j0 * 4, table + <usize>j0 * 4, <usize>(j1 - j0) * 4);
          else addRange(sumsX, bIh, sumsX, j0, j1);
          addRange(sumsH, bHh, sumsH, j0, j1);
        } else {
          stepCombine(sumsH, sumsX, table, bIh, bHh, cell == STEP_LSTM ? sumsH : hNew, j0, j1);
        }
      }
      if (cell == STEP_LSTM) {
        const c = <usize>load<i32>(layer, LAYER_C);
        lstmForwardUnits(sumsH, c, c, <usize>load<i32>(layer, LAYER_TANH_C), hNew, 1, H, u0, u1);
      } else if (cell == STEP_GRU) {
        gruForwardUnits(sumsX, sumsH, h, sumsX, hNew, 1, H, u0, u1);
      } else {
        rnnForward(hNew + <usize>u0 * 4, u1 - u0, relu);
      }
    }
    if (parts > 1) stepBarrier(plan + PLAN_BARRIER, (l + 1) * parts);
    // Every part is past this layer's products, so the old h is no longer read.
    if (u1 > u0) memory.copy(h + <usize>u0 * 4, hNew + <usize>u0 * 4, <usize>(u1 - u0) * 4);
    below = hNew;
  }
  // The logits: rows in whole blocks of 4 per part, the last part taking the ragged end.
  const V4 = V & ~3;
  const v0 = parts > 1 ? splitStart(V4 >> 2, part, parts) * 4 : 0;
  const v1 = parts > 1 && part < parts - 1 ? splitStart(V4 >> 2, part + 1, parts) * 4 : V;
  if (v1 > v0) {
    const logits = <usize>load<i32>(plan, PLAN_LOGITS);
    stepRows(<usize>load<i32>(plan, PLAN_DECODER), 0, 0, H, below, V, v0, v1, 0, logits);
    addRange(logits, <usize>load<i32>(plan, PLAN_DECODER_BIAS), logits, v0, v1);
  }
}
