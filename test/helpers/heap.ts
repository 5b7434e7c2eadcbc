/**
 * The heap of a hub process after a full garbage collection, through its V8 inspector (started
 * with `--inspect=127.0.0.1:0`, loopback only): RSS alone cannot tell a leak from a heap that
 * has not been collected yet.
 */
import WebSocket from 'ws'
import type { HubProcess } from './hub-process.js'

export async function heapAfterGc(hub: HubProcess): Promise<{ heapUsed: number; rss: number }> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(hub.err())?.[1]
  if (url === undefined) throw new Error(`the hub was not started with its inspector: ${hub.err().slice(0, 300)}`)
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let id = 0
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const mine = ++id
      const on = (d: WebSocket.RawData) => {
        const m = JSON.parse(d.toString())
        if (m.id !== mine) return
        ws.off('message', on)
        resolve(m.result)
      }
      ws.on('message', on)
      ws.send(JSON.stringify({ id: mine, method, params }))
    })
  try {
    await send('HeapProfiler.collectGarbage')
    await send('HeapProfiler.collectGarbage')
    const r = await send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })
    const m = JSON.parse(r.result.value) as { heapUsed: number; rss: number }
    return { heapUsed: m.heapUsed, rss: m.rss }
  } finally {
    ws.close()
  }
}
