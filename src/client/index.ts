/**
 * @module The stream client, for Node and browsers: the `@statushub/client` package
 * (packages/client, built by scripts/build-client.mjs).
 *
 * ```ts
 * import { StatusClient } from '@statushub/client'
 * import { WebSocket } from 'ws' // Node 20 only; browsers and Node 22 have a global one
 *
 * const c = new StatusClient({ url: 'ws://hub:8080/ws', token, instances: '*', WebSocket })
 * c.on('state', (e) => console.log(e.state, e.reason))           // connecting | open | reconnecting | closed
 * c.on('resumed', () => console.log('nothing missed'))           // recovered: true
 * c.on('snapshot', () => console.log('mirror replaced'))         // recovered: false
 * c.on('diff', (e) => console.log(e.name, e.item.connection.state))
 * c.onChange((batch) => render(batch.reset ? c.mirror.keys() : batch.upserted, batch.removed))
 * c.start()
 * ```
 */
export { StatusClient } from './status-client.js'
export type { SocketConstructor, SocketLike, StatusClientOptions } from './status-client.js'
export type { ChangeBatch, ClientEvent, ClientEventType, ClientState } from './events.js'
export type { InstanceItem, Position } from './frames.js'
export { DEFAULT_BACKOFF, retryDelay, rateLimitedDelay, type BackoffPolicy } from './backoff.js'
export { CLOSE, closeAction, type CloseAction } from './close-codes.js'
