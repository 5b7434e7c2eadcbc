/**
 * @module An instance's proxy as Baileys rc.9 takes it (docs/baileys-rc9.md §10): a Node agent for
 * the WebSocket (`agent`), and an undici dispatcher for its fetches. rc.9 hands `fetchAgent` to
 * fetch as the dispatcher of media uploads only; downloads (media, history-sync blobs, app-state
 * blobs) take `options.dispatcher`. Both get the same dispatcher. What stays direct: the WhatsApp
 * Web version lookup (one per hub, not per instance) and anything Baileys fetches outside those
 * two paths.
 */
import { HttpsProxyAgent } from 'https-proxy-agent'
import { SocksProxyAgent } from 'socks-proxy-agent'
import type { Agent } from 'node:http'
import { ProxyAgent, type Dispatcher } from 'undici'
import { socksDispatcher } from 'fetch-socks'
import type { ProxyConfig } from '../../core/integrations.js'
import type { ProxyEndpoint } from './close-cause.js'

export interface ProxyRoute {
  /** For the WebSocket (Baileys' `agent`). */
  agent: Agent
  /** For Baileys' fetches (`fetchAgent` and `options.dispatcher`). */
  dispatcher: Dispatcher
  /** Where the proxy is, to recognise its own failures. */
  endpoint: ProxyEndpoint
}

export type ProxyProtocol = 'http' | 'https' | 'socks4' | 'socks5'

const PROTOCOLS: ReadonlySet<string> = new Set(['http', 'https', 'socks4', 'socks5'])

/** The `code` of the error a socket factory throws for an unusable proxy configuration. */
export const PROXY_CONFIG_ERROR = 'HUB_PROXY_CONFIG'

/**
 * The route for an enabled proxy, or null for a disabled one. Throws for a proxy that cannot be
 * used (no host, a bad port, an unknown protocol): the socket is not created rather than going
 * out directly behind the user's back.
 */
export function proxyRoute(p: ProxyConfig): ProxyRoute | null {
  if (!p.enabled) return null
  const protocol = p.protocol === '' ? 'http' : p.protocol
  const port = Number(p.port)
  if (p.host === '' || !Number.isInteger(port) || port < 1 || port > 65_535 || !PROTOCOLS.has(protocol)) {
    throw Object.assign(
      new Error(`the proxy is enabled but unusable (protocol ${JSON.stringify(p.protocol)}, host ${JSON.stringify(p.host)}, port ${JSON.stringify(p.port)})`),
      { code: PROXY_CONFIG_ERROR },
    )
  }
  const auth = p.username === '' ? '' : `${encodeURIComponent(p.username)}:${encodeURIComponent(p.password)}@`
  const host = p.host.includes(':') && !p.host.startsWith('[') ? `[${p.host}]` : p.host
  const url = `${protocol}://${auth}${host}:${port}`
  const endpoint = { host: p.host, port }
  if (protocol === 'socks4' || protocol === 'socks5') {
    return {
      agent: new SocksProxyAgent(url),
      dispatcher: socksDispatcher({
        type: protocol === 'socks4' ? 4 : 5,
        host: p.host,
        port,
        ...(p.username === '' ? {} : { userId: p.username, password: p.password }),
      }),
      endpoint,
    }
  }
  return { agent: new HttpsProxyAgent(url), dispatcher: new ProxyAgent({ uri: url }), endpoint }
}
