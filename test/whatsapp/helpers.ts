/**
 * Shared test fixtures: a database with instance rows, a status writer that keeps the snapshot,
 * manual time (clock + timers), and instance refs.
 */
import { applyStatusPatch, initialStatus, type InstanceStatus, type StatusPatch } from '../../src/core/status.js'
import type { Clock } from '../../src/ports/clock.js'
import type { ConnectionState } from '../../src/core/status.js'
import type { InstanceRef, RestoredInstance, StatusWriter } from '../../src/ports/whatsapp.js'
import { defaultConfig, type ProxyConfig, type SettingsConfig } from '../../src/core/integrations.js'
import type { Log, Timers } from '../../src/ports/socket.js'
import { openDb, type OpenedDb } from '../../src/adapters/sqlite/db.js'
import { accounts, instances } from '../../src/adapters/sqlite/schema.js'

export const T0 = Date.parse('2026-03-01T12:00:00.000Z')

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} }

/** Opens a database (':memory:' by default) with one account and instances 1..count. */
export function dbWithInstances(count: number, path = ':memory:'): OpenedDb {
  const opened = openDb(path)
  addInstances(opened, count)
  return opened
}

export function addInstances(opened: OpenedDb, count: number): void {
  const now = new Date(T0).toISOString()
  opened.db.insert(accounts).values({ id: 1, name: 'acme', instanceLimit: 100, tokenHash: 'h', createdAt: now }).onConflictDoNothing().run()
  for (let id = 1; id <= count; id++) {
    opened.db
      .insert(instances)
      .values({
        id,
        accountId: 1,
        name: `inst${id}`,
        apiInstanceName: `api${id}`,
        tokenHash: `t${id}`,
        config: JSON.stringify(defaultConfig()),
        createdAt: now,
      })
      .onConflictDoNothing()
      .run()
  }
}

export function ref(id: number, keepOnlineStatus = false, extra: { settings?: Partial<SettingsConfig>; proxy?: Partial<ProxyConfig> } = {}): InstanceRef {
  const defaults = defaultConfig()
  const settings = { ...defaults.settings, keepOnlineStatus, ...extra.settings }
  return { id, name: `inst${id}`, settings, proxy: { ...defaults.proxy, ...extra.proxy } }
}

/** An instance as a restarted hub's snapshot shows it, for restore. */
export function restored(id: number, state: ConnectionState = 'disconnected'): RestoredInstance {
  return { ...ref(id), state }
}

/** Keeps what the hub would: the status per instance and every patch in order. */
export class RecordingWriter implements StatusWriter {
  readonly patches: { id: number; patch: StatusPatch }[] = []
  private readonly statuses = new Map<number, InstanceStatus>()

  constructor(private readonly clock: Clock) {}

  updateStatus(id: number, patch: StatusPatch): void {
    this.patches.push({ id, patch })
    const now = new Date(this.clock.now()).toISOString()
    this.statuses.set(id, applyStatusPatch(this.statuses.get(id) ?? initialStatus(now), patch, now))
  }

  status(id: number): InstanceStatus {
    const s = this.statuses.get(id)
    if (s === undefined) throw new Error(`no status published for instance ${id}`)
    return s
  }

  /** displayStatus of every patch for `id`, in order. */
  displays(id: number): string[] {
    return this.patches.filter((p) => p.id === id).map((p) => p.patch.displayStatus ?? '')
  }
}

/** Lets promise callbacks and setImmediate work run (real event-loop turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** A clock and timers that only move when told to. */
export class ManualTime implements Clock, Timers {
  private t: number
  private seq = 0
  private readonly pending = new Map<number, { at: number; fn: () => void }>()

  constructor(start = T0) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }

  /** Runs every timer due within `ms`, in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.pending) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.pending.delete(next[0])
      this.t = next[1].at
      next[1].fn()
      await settle()
    }
    this.t = end
    await settle()
  }

  /** Delays of the pending timers, from now, sorted. */
  pendingDelays(): number[] {
    return [...this.pending.values()].map((p) => p.at - this.t).sort((a, b) => a - b)
  }
}
