/**
 * @module prom-client's default metrics (`process_*`, `nodejs_*`: CPU, memory, event-loop lag,
 * GC) in one registry per process, made on first use. They describe the process, not a hub, and
 * their collectors (an event-loop monitor, a GC observer) are never removed: made per hub, each
 * hub stopped and started again in the same process (a cluster node that lost step, the tests)
 * would leave one behind, holding that hub's registry.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

let shared: Registry | null = null

export function processRegistry(): Registry {
  if (shared === null) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
  }
  return shared
}
