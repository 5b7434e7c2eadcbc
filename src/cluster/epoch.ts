/**
 * @module The cluster's epoch: named after the change stream's creation time, which changes only
 * when the stream is lost and made again ("Positions and streams" in the cluster contract,
 * ../shared/spec/cluster.md). Opaque to clients, like the embedded hub's.
 */
import { createHash } from 'node:crypto'

export function epochOf(streamCreated: string): string {
  const ms = Date.parse(streamCreated)
  const stamp = Number.isFinite(ms) ? ms.toString(36) : '0'
  return `${stamp}${createHash('sha256').update(streamCreated).digest('hex').slice(0, 6)}`
}
