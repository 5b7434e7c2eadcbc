/**
 * @module Small statistics and number formatting for the bench tables.
 */

export interface Spread {
  min: number
  median: number
  max: number
  n: number
}

export function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return { min: NaN, median: NaN, max: NaN, n: 0 }
  const mid = v.length >> 1
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
  return { min: v[0]!, median, max: v[v.length - 1]!, n: v.length }
}

/** The p-th percentile (0–100) of unsorted values, nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const v = Float64Array.from(values).sort()
  const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))
  return v[rank]!
}

/** 37583 → "37,583"; 2_530_000 → "2.53M"; keeps tables narrow. */
export function fmtCount(x: number): string {
  if (!Number.isFinite(x)) return '–'
  const a = Math.abs(x)
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (a >= 1e4) return Math.round(x).toLocaleString('en-US')
  if (a >= 100) return Math.round(x).toLocaleString('en-US')
  if (a >= 10) return x.toFixed(1)
  return x.toFixed(2)
}

export function fmtNum(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–'
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '–'
  return x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`
}

/** "median (min–max)" with a formatter. */
export function fmtSpread(s: Spread, f: (x: number) => string = fmtCount): string {
  if (s.n === 0) return '–'
  if (s.n === 1) return f(s.median)
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

export function fmtBytes(x: number): string {
  if (!Number.isFinite(x)) return '–'
  const a = Math.abs(x)
  if (a >= 1024 * 1024) return `${(x / 1024 / 1024).toFixed(1)} MB`
  if (a >= 1024) return `${(x / 1024).toFixed(1)} KB`
  return `${Math.round(x)} B`
}
