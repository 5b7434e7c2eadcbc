/**
 * @module Response headers joined into one `[name, value]` pair, so a response writes them with a
 * single uWS call: uWS writes `name: value\r\n` verbatim, so a value may carry further
 * `\r\nName: value` lines. Hazard: only the hub's own values (numbers, ETags, the epoch) may be
 * joined, never anything read from a request, or a client could inject headers.
 */

export type HeaderPair = [string, string]

export function joinHeaders(pairs: readonly HeaderPair[]): HeaderPair {
  for (const [k, v] of pairs) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${k} holds a line break`)
  }
  const [first, ...rest] = pairs
  return [first![0], [first![1], ...rest.map(([k, v]) => `${k}: ${v}`)].join('\r\n')]
}
