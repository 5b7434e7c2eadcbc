/**
 * @module One delivery attempt over HTTP: Node's fetch (undici) with its own connection pool,
 * redirects never followed (a 3xx is an answer like any other), a timeout covering the whole
 * exchange, and at most RESPONSE_BYTES of the answer read and discarded (reading lets the pool
 * reuse the connection). Unless private addresses are allowed, every connection goes through the
 * address guard, and a URL naming an IP literal is checked before any socket opens.
 */
import { isIP } from 'node:net'
import type { ReadableStream } from 'node:stream/web'
import { Agent, fetch } from 'undici'
import { guardedLookup, refusal } from './address.js'

const RESPONSE_BYTES = 4096

export type PostOutcome =
  | { kind: 'answered'; status: number }
  | { kind: 'failed'; error: string }
  /** The hub is stopping: nothing is recorded, the delivery stays pending. */
  | { kind: 'stopped' }

export interface PostClient {
  post(url: string, headers: Record<string, string>, body: string, stop: AbortSignal): Promise<PostOutcome>
  close(): Promise<void>
}

export class WebhookClient implements PostClient {
  private readonly agent: Agent

  constructor(private readonly opts: { timeoutMs: number; allowPrivate: boolean }) {
    this.agent = new Agent({
      connect: { timeout: opts.timeoutMs, ...(opts.allowPrivate ? {} : { lookup: guardedLookup() }) },
      keepAliveTimeout: 4_000,
    })
  }

  async post(url: string, headers: Record<string, string>, body: string, stop: AbortSignal): Promise<PostOutcome> {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      return { kind: 'failed', error: 'invalid URL' }
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return { kind: 'failed', error: `refused: ${target.protocol} URLs are not delivered (http or https only)` }
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1')
    if (!this.opts.allowPrivate && isIP(host) !== 0) {
      const refused = refusal(host, null)
      if (refused !== null) return { kind: 'failed', error: refused.message }
    }
    const timeout = AbortSignal.timeout(this.opts.timeoutMs)
    const signal = AbortSignal.any([timeout, stop])
    try {
      const res = await fetch(target, { method: 'POST', headers, body, redirect: 'manual', signal, dispatcher: this.agent })
      await drain(res.body)
      return { kind: 'answered', status: res.status }
    } catch (err) {
      if (stop.aborted) return { kind: 'stopped' }
      if (timeout.aborted) return { kind: 'failed', error: `timeout after ${this.opts.timeoutMs} ms` }
      return { kind: 'failed', error: describe(err) }
    }
  }

  close(): Promise<void> {
    return this.agent.destroy()
  }
}

/** Reads at most RESPONSE_BYTES of the body and drops the rest; a body that fails midway is no failure of the delivery. */
async function drain(body: ReadableStream | null): Promise<void> {
  if (body === null) return
  const reader = body.getReader()
  let read = 0
  try {
    while (read < RESPONSE_BYTES) {
      const chunk = await reader.read()
      if (chunk.done) return
      read += (chunk.value as Uint8Array).byteLength
    }
    await reader.cancel()
  } catch {
    // The status is what counts.
  }
}

/** A network failure in words, from the innermost cause (never the URL, which may carry credentials). */
function describe(err: unknown): string {
  let e: unknown = err
  for (let i = 0; i < 5 && e instanceof Error && e.cause !== undefined; i++) e = e.cause
  if (e instanceof Error && (e as { code?: string }).code === 'ERR_WEBHOOK_ADDRESS_REFUSED') return e.message
  const code = e instanceof Error ? (e as { code?: string }).code : undefined
  const message = e instanceof Error ? e.message : String(e)
  return `network error: ${code !== undefined && !message.includes(code) ? `${code} ` : ''}${message}`.slice(0, 300)
}
