/**
 * @module Fan-out reference: a bare uWebSockets.js publish loop. Sockets subscribe to one topic
 * on their first frame; the same paced generator as the hub's publishes a diff frame of the same
 * shape and size (stamp included) with `app.publish`. Same socket options as the hub's `/ws`.
 * What the hub adds on top (applying the change, the ring, the write-behind, its buffer sweeps)
 * is the difference between the two.
 */
import { performance } from 'node:perf_hooks'
import { loadUws } from '../../src/edges/http/load.js'
import { changePatch } from '../fixture.js'
import { monoMs } from '../lib/clock.js'
import { pace } from '../lib/pacer.js'
import { sendFatal, sendReady, serveRequests } from '../lib/proc.js'

const TOPIC = 'a:1'
const EPOCH = 'mwtnx0lgxlx69b'
const INSTANCES = 100

async function main(): Promise<void> {
  const uWS = loadUws()
  const app = uWS.App()
  let seq = 0
  app.ws('/ws', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    maxBackpressure: 4 * 1024 * 1024,
    closeOnBackpressureLimit: 1,
    message: (ws) => {
      ws.subscribe(TOPIC)
      ws.send(JSON.stringify({ type: 'snapshot', id: '1', epoch: EPOCH, seq, recovered: false, instances: [] }))
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (ls) => (ls ? resolve(uWS.us_socket_local_port(ls)) : reject(new Error('listen failed')))),
  )

  const versions = new Array<number>(INSTANCES).fill(2)
  let k = 0
  serveRequests({
    stats: () => ({ rss: process.memoryUsage().rss, subscribers: app.numSubscribers(TOPIC) }),
    gc() {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      gc?.()
      return { rss: process.memoryUsage().rss, subscribers: app.numSubscribers(TOPIC) }
    },
    async changes(msg) {
      const cpu0 = process.cpuUsage()
      const r = await pace(Number(msg.rate), Number(msg.seconds), Number(msg.tickMs ?? 50), (n) => {
        for (let j = 0; j < n; j++, k++) {
          const i = k % INSTANCES
          const patch = changePatch(Math.floor(k / INSTANCES) % 2 === 1, monoMs())
          const at = new Date().toISOString()
          const frame = JSON.stringify({
            type: 'diff',
            epoch: EPOCH,
            seq: ++seq,
            instance: `inst-${String(i).padStart(5, '0')}`,
            version: ++versions[i]!,
            at,
            changes: {
              updatedAt: at,
              version: versions[i],
              'connection.presenceStatus': patch.presenceStatus,
              'connection.displayStatus': patch.displayStatus,
            },
          })
          app.publish(TOPIC, Buffer.from(frame))
        }
      })
      const cpu = process.cpuUsage(cpu0)
      return { ...r, cpuUs: cpu.user + cpu.system, seq }
    },
    exit() {},
  })
  sendReady({ port, startedMs: performance.now() })
}

main().catch(sendFatal)
