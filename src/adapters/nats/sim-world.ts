/**
 * @module The simulated WhatsApp's world shared by a cluster's nodes through a KV bucket (`sh_sim`):
 * key `l.<instance id>` holds the number's live socket `{sock, node, since, beat}`, key `conflicts`
 * the cluster-wide count. A login writes its entry whatever was there (as WhatsApp accepts the
 * newest device); every BEAT_MS each local live socket compare-and-sets its entry's beat. A beat
 * that finds another socket's later login closes this one (440); a node that could not beat for
 * DEAD_MS (paused, cut from the engine) finds its sockets dead and ends them. A replaced socket
 * adds a conflict when it was still live more than the margin after the newer one's login.
 *
 * Hazard: the replacement is noticed at the older socket's next beat, so an overlap lasts up to
 * BEAT_MS (below the 2 s margin); only a socket that goes on beating past it counts.
 */
import { Kvm, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Log } from '../../ports/socket.js'
import { BEAT_MS, DEAD_MS, type LiveSocketEvents, type SimWorld } from '../simulated/world.js'
import { isWrongRevision } from './session-keys.js'

const BUCKET = 'sh_sim'
const CONFLICTS = 'conflicts'

interface Entry {
  sock: string
  node: string
  since: number
  beat: number
}

interface Local {
  sock: string
  since: number
  /** The last beat the engine took; DEAD_MS after it the socket is dead. */
  beat: number
  revision: number
  on: LiveSocketEvents
}

export class KvSimWorld implements SimWorld {
  private kv: KV | null = null
  private readonly live = new Map<number, Local>()
  private timer: ReturnType<typeof setInterval> | null = null
  private beating = false

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: { node: string; marginMs: number; now: () => number; log: Log },
  ) {}

  async start(): Promise<void> {
    this.kv = await new Kvm(this.nc).create(BUCKET, { history: 1 })
    this.timer = setInterval(() => void this.beatAll(), BEAT_MS)
    this.timer.unref?.()
  }

  open(id: number, sock: string, on: LiveSocketEvents): void {
    const now = this.o.now()
    const local: Local = { sock, since: now, beat: now, revision: 0, on }
    this.live.set(id, local)
    const entry: Entry = { sock, node: this.o.node, since: now, beat: now }
    this.store()
      .put(key(id), JSON.stringify(entry))
      .then(
        (rev) => {
          if (this.live.get(id) === local) local.revision = rev
        },
        (err: unknown) => this.o.log.warn({ err, instanceId: id }, 'the simulated world did not take a login; its next beat writes it'),
      )
  }

  close(id: number, sock: string): void {
    const local = this.live.get(id)
    if (local?.sock !== sock) return
    this.live.delete(id)
    if (local.revision > 0) this.store().delete(key(id), { previousSeq: local.revision }).catch(() => undefined)
  }

  async conflicts(): Promise<number> {
    const e = await this.store().get(CONFLICTS)
    return e === null || e.operation !== 'PUT' ? 0 : Number(e.string())
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.live.clear()
  }

  private async beatAll(): Promise<void> {
    if (this.beating) return
    this.beating = true
    try {
      await Promise.all([...this.live].map(([id, local]) => this.beat(id, local)))
    } finally {
      this.beating = false
    }
  }

  private async beat(id: number, local: Local): Promise<void> {
    const now = this.o.now()
    if (now - local.beat > DEAD_MS) return this.end(id, local, 'dead')
    try {
      const next: Entry = { sock: local.sock, node: this.o.node, since: local.since, beat: now }
      const rev = local.revision === 0 ? await this.store().put(key(id), JSON.stringify(next)) : await this.store().update(key(id), JSON.stringify(next), local.revision)
      if (this.live.get(id) !== local) return
      local.revision = rev
      local.beat = now
    } catch (err) {
      if (!isWrongRevision(err)) return
      const e = await this.store().get(key(id)).catch(() => null)
      if (e === null || e.operation !== 'PUT' || this.live.get(id) !== local) return
      const other = JSON.parse(e.string()) as Entry
      if (other.sock === local.sock) {
        local.revision = e.revision
        return
      }
      if (other.since >= local.since) {
        // Live until now, or until DEAD_MS after its last beat when that came first.
        const overlap = Math.min(this.o.now(), local.beat + DEAD_MS) - other.since
        if (overlap > this.o.marginMs) await this.countConflict(id, overlap)
        return this.end(id, local, 'replaced')
      }
    }
  }

  private end(id: number, local: Local, why: keyof LiveSocketEvents): void {
    if (this.live.get(id) !== local) return
    this.live.delete(id)
    local.on[why]()
  }

  private async countConflict(id: number, overlapMs: number): Promise<void> {
    this.o.log.warn({ instanceId: id, overlapMs }, 'two live simulated sockets of one number overlapped past the margin')
    for (let i = 0; i < 20; i++) {
      const e = await this.store().get(CONFLICTS)
      const n = e === null || e.operation !== 'PUT' ? 0 : Number(e.string())
      try {
        if (e === null) await this.store().create(CONFLICTS, String(n + 1))
        else await this.store().update(CONFLICTS, String(n + 1), e.revision)
        return
      } catch (err) {
        // create on an existing key fails like a stale update: read again and retry.
        if (!isWrongRevision(err)) throw err
      }
    }
  }

  private store(): KV {
    if (this.kv === null) throw new Error('the simulated world is not started')
    return this.kv
  }
}

function key(id: number): string {
  return `l.${id}`
}
