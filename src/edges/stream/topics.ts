/**
 * @module A stream socket's uWS topics, derived from its subscription: the account topic for `*`,
 * one instance topic per name. A socket detached for backpressure has none until it catches up.
 */
import { topic, type StreamSocket, type Ws } from './sockets.js'

export function applyTopics(ws: Ws): void {
  const d = ws.getUserData() as StreamSocket
  const want = new Set<string>()
  if (d.all) want.add(topic.account(d.principal.accountId))
  else for (const id of d.ids) want.add(topic.instance(id))
  for (const t of ws.getTopics()) if (!want.has(t)) ws.unsubscribe(t)
  for (const t of want) if (!ws.isSubscribed(t)) ws.subscribe(t)
}

export function dropTopics(ws: Ws): void {
  for (const t of ws.getTopics()) ws.unsubscribe(t)
}
