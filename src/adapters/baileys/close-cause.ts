/**
 * @module Reads a Baileys close error the way docs/baileys-rc9.md §1 and §4 found them in rc.9:
 * what kind of network failure a `WebSocket Error (…)` was (from the wrapped error's own code and
 * class, never from the status code: TLS and SOCKS failures come as 500, DNS failures as 408),
 * and the close's detail in words. Structural reads only: several @hapi/boom and socks copies
 * may be loaded.
 */
import { WS_ERROR_PREFIX } from '../../core/whatsapp/close-codes.js'
import type { CloseCause } from '../../core/whatsapp/events.js'

/** Where the instance's proxy is, to recognise its failures by the address they name. */
export interface ProxyEndpoint {
  host: string
  port: number
}

/** Node system error codes that mean the other side could not be reached. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
])

/** OpenSSL verification codes (no `E` prefix, so Baileys reports them as 500) and Node's TLS codes. */
const TLS_CODE = /^(EPROTO|ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|UNABLE_TO_/

/** ws handshake errors without a code (a man in the middle, or something that is not WhatsApp). */
const HANDSHAKE_MESSAGE = /Invalid Sec-WebSocket-Accept|Invalid Upgrade header|Server sent (a|an|no) /

/** Message-only fallbacks, for closes that carry no error object (simulator controls). */
const NETWORK_MESSAGE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b|socket hang up|Opening handshake has timed out|Unexpected server response/
const TLS_MESSAGE = /certificate|self-signed|SSL routines|wrong version number/

interface ErrorLike {
  message?: unknown
  code?: unknown
  address?: unknown
  port?: unknown
  hostname?: unknown
  constructor?: { name?: string }
}

/**
 * The kind of a close, or null when it is not a `WebSocket Error (…)` (then its code and message
 * decide). `proxy`: the socket's proxy, when it has one.
 */
export function closeCauseOf(err: unknown, proxy: ProxyEndpoint | null): CloseCause | null {
  const message = messageOf(err)
  if (!message.startsWith(WS_ERROR_PREFIX)) return null
  const data = (err as { data?: unknown }).data
  const d = typeof data === 'object' && data !== null ? (data as ErrorLike) : null
  const code = typeof d?.code === 'string' ? d.code : undefined
  if (d?.constructor?.name === 'SocksClientError') {
    // The SOCKS proxy answered but could not reach WhatsApp: the network past the proxy.
    return /rejected connection/.test(String(d.message)) ? 'unreachable' : 'proxyUnreachable'
  }
  if (proxy !== null && d !== null && namesProxy(d, proxy)) return 'proxyUnreachable'
  if (code === 'HUB_PROXY_REFUSED') return 'proxyUnreachable'
  if (code !== undefined && NETWORK_CODES.has(code)) return 'unreachable'
  if (code !== undefined && TLS_CODE.test(code)) return 'tlsError'
  if (HANDSHAKE_MESSAGE.test(message)) return 'tlsError'
  if (code?.startsWith('WS_ERR_')) return 'wsError'
  if (TLS_MESSAGE.test(message)) return 'tlsError'
  if (NETWORK_MESSAGE.test(message)) return 'unreachable'
  return d === null ? 'unreachable' : 'wsError'
}

function namesProxy(d: ErrorLike, proxy: ProxyEndpoint): boolean {
  return (d.address === proxy.host && d.port === proxy.port) || d.hostname === proxy.host
}

/**
 * The close's own detail, from Baileys' `data`: `conflict:device_removed` (401, unlinked on the
 * phone), `conflict:replaced` (440), `reason 402, code 101, expires in 86400s, at frc` (a
 * `<failure>`), `DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate` (a wrapped error), or null.
 */
export function closeDetailOf(err: unknown): string | null {
  const d = (err as { data?: unknown } | null | undefined)?.data
  if (d === null || d === undefined || typeof d !== 'object') return null
  if (d instanceof Error || (typeof (d as ErrorLike).message === 'string' && typeof (d as { stack?: unknown }).stack === 'string')) {
    // The `message` of a Node error is not enumerable: read it by name.
    const e = d as ErrorLike
    const code = typeof e.code === 'string' ? `${e.code}: ` : ''
    return `${code}${String(e.message)}`.slice(0, 160)
  }
  const node = d as { tag?: unknown; attrs?: Record<string, unknown> }
  if (typeof node.tag === 'string') {
    if (node.tag === 'stream:error') return typeof node.attrs?.code === 'string' ? `code ${node.attrs.code}` : null
    return typeof node.attrs?.type === 'string' ? `${node.tag}:${node.attrs.type}` : node.tag
  }
  const f = d as Record<string, unknown>
  if ('reason' in f || 'location' in f) {
    const parts = [
      f.reason && `reason ${String(f.reason)}`,
      f.code && `code ${String(f.code)}`,
      f.expire && `expires in ${String(f.expire)}s`,
      typeof f.logout_message_header === 'string' && f.logout_message_header,
      typeof f.logout_message_subtext === 'string' && f.logout_message_subtext,
      f.location && `at ${String(f.location)}`,
    ].filter((p): p is string => typeof p === 'string' && p !== '')
    return parts.length === 0 ? null : parts.join(', ')
  }
  return null
}

function messageOf(err: unknown): string {
  const m = (err as { message?: unknown } | null | undefined)?.message
  return typeof m === 'string' ? m : ''
}
