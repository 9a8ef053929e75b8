// Number formatting shared by every face (progress lines, `eval`, `info`, dry-run estimates, the
// benchmark report), independent of the machine's locale so output compares across hosts:
// thousands separated by commas, a point for decimals, units written after a space where a
// reader needs them. Not here: `--json` output, which keeps plain numbers.

/** 1234567 → "1,234,567" (rounded to a whole number first). */
export function formatCount(n: number): string {
  const rounded = Math.round(n);
  const sign = rounded < 0 ? "-" : "";
  return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 12345.678, 2 → "12,345.68"; a value that is not finite → "-" (nothing to show). */
export function formatDecimal(n: number, digits: number): string {
  if (!Number.isFinite(n)) return "-";
  const [whole, fraction] = Math.abs(n).toFixed(digits).split(".");
  const sign = n < 0 && Number(`${whole}.${fraction ?? 0}`) !== 0 ? "-" : "";
  return sign + whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (fraction === undefined ? "" : `.${fraction}`);
}

/** Bytes in decimal units, one decimal: 950 → "950 B", 1_234_567 → "1.2 MB", 5e12 → "5,000.0 GB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${formatCount(bytes)} B`;
  if (bytes < 1e6) return `${formatDecimal(bytes / 1e3, 1)} kB`;
  if (bytes < 1e9) return `${formatDecimal(bytes / 1e6, 1)} MB`;
  return `${formatDecimal(bytes / 1e9, 1)} GB`;
}

/** "0.4ms", "850ms", "12.3s", "3m07s", "1h02m", "1,234h05m": short enough for a progress line. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  // A tiny model's step takes well under a millisecond: one decimal keeps it from reading "0ms".
  if (ms < 9.95) return `${formatDecimal(ms, 1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${formatDecimal(ms / 1000, 1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m${pad(totalSeconds % 60)}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${formatCount(Math.floor(totalMinutes / 60))}h${pad(totalMinutes % 60)}m`;
}
