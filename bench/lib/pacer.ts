/**
 * @module The change generator shared by the hub process and the bare publish loop: every tick it
 * applies the changes due by now at `rate` per second. When the process falls behind, at most two
 * ticks' worth (at least 20 ms' worth) are applied at once and the rest is shed and counted, so
 * "applied / target" shows a server that could not keep up instead of a burst that hides it.
 */
import { monoMs } from './clock.js'

export interface PaceResult {
  target: number
  applied: number
  shed: number
  elapsedMs: number
}

export function pace(rate: number, seconds: number, tickMs: number, apply: (n: number) => void): Promise<PaceResult> {
  const target = Math.round(rate * seconds)
  // Two ticks' worth, but never less than 20 ms of changes: 1 ms timers are often a few ms late.
  const cap = Math.max(1, Math.ceil((rate * Math.max(tickMs * 2, 20)) / 1000))
  const start = monoMs()
  let accounted = 0
  let applied = 0
  let shed = 0
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = monoMs() - start
      const due = Math.min(target, Math.floor((elapsed / 1000) * rate)) - accounted
      if (due > 0) {
        const now = Math.min(due, cap)
        shed += due - now
        accounted += due
        applied += now
        apply(now)
      }
      if (elapsed >= seconds * 1000 || accounted >= target) {
        clearInterval(timer)
        resolve({ target, applied, shed, elapsedMs: monoMs() - start })
      }
    }
    const timer = setInterval(tick, tickMs)
  })
}
