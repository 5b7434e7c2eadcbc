/**
 * @module One clock for every bench process: CLOCK_MONOTONIC, which Linux shares across
 * processes, so a timestamp taken in the hub can be compared with one taken in the client.
 */

/** Milliseconds (fractional) on the system-wide monotonic clock. */
export function monoMs(): number {
  const [s, ns] = process.hrtime()
  return s * 1e3 + ns / 1e6
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
