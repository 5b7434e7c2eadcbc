/**
 * @module Node-to-node requests over NATS request/reply: each node answers on its own subject
 * (keys.ts rpcSubject). Answers are a JSON envelope, never a NATS status header (a 503 header reads
 * as "no responders" on the caller). A HubError thrown by the handler reaches the caller as the
 * same HubError; a node that is gone or silent is `NodeUnreachable`.
 */
import type { Msg } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { Engine } from '../adapters/nats/engine.js'
import { HubError, type ErrorKind } from '../core/errors.js'
import { rpcSubject } from './keys.js'
import { NotWriter } from './writer.js'

export type Handler = (args: never) => Promise<unknown>

type Reply = { ok: true; value: unknown } | { ok: false; kind: ErrorKind; message: string } | { ok: false; notWriter: number }

export class NodeUnreachable extends Error {
  override name = 'NodeUnreachable'
}

export class Rpc {
  private sub: { unsubscribe(): void } | null = null

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
  ) {}

  /** Starts answering this node's subject with `handlers` (by op name). */
  async serve(handlers: Record<string, Handler>): Promise<void> {
    this.sub = this.engine.nc.subscribe(rpcSubject(this.engine.nodeId), {
      callback: (err, m) => {
        if (err !== null) return this.log.warn({ err }, 'rpc subscription failed')
        void this.answer(m, handlers)
      },
    })
    await this.engine.nc.flush()
  }

  stop(): void {
    this.sub?.unsubscribe()
  }

  async call<T>(node: string, op: string, args: unknown, timeoutMs = 10_000): Promise<T> {
    let m: Msg
    try {
      m = await this.engine.nc.request(rpcSubject(node), JSON.stringify({ op, args }), { timeout: timeoutMs })
    } catch (err) {
      throw new NodeUnreachable(`node ${node} did not answer ${op}: ${err instanceof Error ? err.message : String(err)}`)
    }
    const r = m.json<Reply>()
    if (r.ok) return r.value as T
    if ('notWriter' in r) throw new NotWriter(r.notWriter)
    throw new HubError(r.kind, r.message)
  }

  private async answer(m: Msg, handlers: Record<string, Handler>): Promise<void> {
    let reply: Reply
    try {
      const { op, args } = m.json<{ op: string; args: unknown }>()
      const h = Object.hasOwn(handlers, op) ? handlers[op] : undefined
      if (h === undefined) throw new HubError('invalid', `unknown cluster request "${op}"`)
      reply = { ok: true, value: (await h(args as never)) ?? null }
    } catch (err) {
      if (err instanceof NotWriter) reply = { ok: false, notWriter: err.accountId }
      else if (err instanceof HubError) reply = { ok: false, kind: err.kind, message: err.message }
      else {
        this.log.error({ err }, 'cluster request failed')
        reply = { ok: false, kind: 'unavailable', message: 'The node that owns this failed to do it; retry' }
      }
    }
    m.respond(JSON.stringify(reply))
  }
}
