/** Small pieces every benchmark uses: integer knobs from the environment, and the median of figures. */

/** The integer env var `name` (default `dflt`), floored and clamped to [1, max]. */
export function envInt(name: string, dflt: number, max: number): number {
  const v = Number(process.env[name] ?? dflt);
  return Math.min(Math.max(Number.isFinite(v) ? Math.floor(v) : dflt, 1), max);
}

/** The median of `xs` (NaN when empty). */
export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
