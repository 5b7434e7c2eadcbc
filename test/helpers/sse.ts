/**
 * @module An SSE client for tests: the answer, and its events as they are read. Reading starts
 * with `read()` (openSse starts it at once), so a test can hold a stream open without reading it.
 */
import { until } from './wait.js'

export interface SseEvent {
  id: string
  event: string
  data: any
}

export async function sseRequest(url: string, headers: Record<string, string>) {
  const ctrl = new AbortController()
  const res = await fetch(url, { headers, signal: ctrl.signal })
  const events: SseEvent[] = []
  let reading: Promise<void> | null = null
  const read = () =>
    (reading ??= (async () => {
      const reader = res.body!.getReader()
      let buf = ''
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          buf += Buffer.from(value).toString()
          let i: number
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const lines = Object.fromEntries(buf.slice(0, i).split('\n').filter((l) => /^(id|event|data): /.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]))
            buf = buf.slice(i + 2)
            if (lines.event !== undefined) events.push({ id: lines.id!, event: lines.event, data: JSON.parse(lines.data!) })
          }
        }
      } catch {
        /* aborted */
      }
    })())
  const count = (n: number) => until(() => events.length >= n, { what: `${n} events`, detail: () => events })
  return { res, events, read, until: count, close: async () => (ctrl.abort(), await reading) }
}
