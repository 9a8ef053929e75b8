// Number formatting shared by every face (progress lines, `info`, dry-run estimates, the
// benchmark report), independent of the machine's locale so output compares across hosts.
// Not here: durations or losses, whose formats belong to the reporter that shows them.

/** 1234567 → "1,234,567" (rounded to a whole number first). */
export function formatCount(n: number): string {
  const rounded = Math.round(n);
  const sign = rounded < 0 ? "-" : "";
  return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
