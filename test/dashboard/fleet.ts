/**
 * A fleet of 10,000 instances for the dashboard's end-to-end tests, created straight through the
 * hub object (REST would take minutes), each with a state, reason, number, profile name and time
 * in state that follow from its index alone, so a test can say exactly what a view must show.
 * Plus three instances paired with the simulator that a test can drop and flap.
 * The monitor's signals follow from the index too: every connected member has its offline
 * backlog (`synced`) but those at `i % 100 === 63`; the 440s and the 401s carry a close detail.
 */
import { defaultConfig } from '../../src/core/integrations.js'
import type { CloseReason, ConnectionState, StatusPatch } from '../../src/core/status.js'
import type { RunningHub } from '../../src/app/compose.js'

export const FLEET = 10_000
export const CITIES = ['sales', 'support', 'billing', 'ops', 'marketing', 'jakarta', 'lisbon', 'recife', 'austin', 'warsaw'] as const
export const FLAPPERS = ['flap-a', 'flap-b', 'flap-c'] as const

export interface Member {
  index: number
  name: string
  state: ConnectionState
  reason: CloseReason | null
  /** Digits of its number. */
  number: string
  profile: string
  /** Milliseconds it has been in its state when the fleet was made. */
  inStateMs: number
  /** `connection.synced`: only ever true while connected. */
  synced: boolean
  /** `connection.closeDetail`. */
  closeDetail: string | null
}

const HOUR = 3_600_000
const FORBIDDEN: CloseReason = { code: 403, name: 'forbidden', message: 'Forbidden' }
const LOGGED_OUT: CloseReason = { code: 401, name: 'loggedOut', message: 'Connection Failure' }
const CLOSED: CloseReason = { code: 428, name: 'connectionClosed', message: 'Connection Terminated' }
const REPLACED: CloseReason = { code: 440, name: 'connectionReplaced', message: 'Stream Errored (conflict)' }

/** `lisbon-00042`: a city by index, then the index. */
export function nameOf(i: number): string {
  return `${CITIES[i % CITIES.length]}-${String(i).padStart(5, '0')}`
}

/**
 * Member `i`: by `i % 100`, 7 is disconnected (403), 13 is disconnected (440, detail
 * `conflict:replaced`), 29 logged out (401, detail `conflict:device_removed`), 41 and 42 are
 * retrying (428), 55 links a device; the rest are connected, synced but 63 (its backlog is still arriving).
 */
export function member(i: number): Member {
  const k = i % 100
  const base = {
    index: i,
    name: nameOf(i),
    number: `55${11_900_000_000 + i}`,
    profile: `Loja ${i}`,
    inStateMs: ((i * 7919) % 72) * HOUR + (i % 60) * 60_000,
    synced: false,
    closeDetail: null,
  }
  if (k === 7) return { ...base, state: 'disconnected', reason: FORBIDDEN }
  if (k === 13) return { ...base, state: 'disconnected', reason: REPLACED, closeDetail: 'conflict:replaced' }
  if (k === 29) return { ...base, state: 'loggedout', reason: LOGGED_OUT, closeDetail: 'conflict:device_removed' }
  if (k === 41 || k === 42) return { ...base, state: 'connecting', reason: CLOSED }
  if (k === 55) return { ...base, state: 'connecting', reason: null }
  return { ...base, state: 'connected', reason: null, synced: k !== 63 }
}

export const MEMBERS: readonly Member[] = Array.from({ length: FLEET }, (_, i) => member(i))

function patchOf(m: Member, now: number): StatusPatch {
  const since = new Date(now - m.inStateMs).toISOString()
  const signals = { synced: m.synced, closeDetail: m.closeDetail }
  const identity = { ...signals, ...(m.state === 'loggedout' ? {} : { numberJid: `${m.number}@s.whatsapp.net`, profile: { name: m.profile } }) }
  switch (m.state) {
    case 'connected':
      return { ...identity, state: 'connected', since, reason: null, displayStatus: 'Online', presenceStatus: 'available' }
    case 'disconnected':
      return { ...identity, state: 'disconnected', since, reason: m.reason, displayStatus: m.reason?.code === 440 ? 'Disconnected (connection replaced)' : 'Blocked (forbidden)' }
    case 'loggedout':
      return { ...signals, state: 'loggedout', since, reason: m.reason, displayStatus: 'Logged out' }
    case 'connecting':
      return m.reason === null
        ? { ...signals, state: 'connecting', since, displayStatus: 'Waiting for QR scan' }
        : { ...identity, state: 'connecting', since, reason: m.reason, displayStatus: 'Reconnecting (connection closed), attempt 3', retryAt: new Date(now + 6 * HOUR).toISOString() }
  }
}

/** Creates the fleet in a new account; returns the account's token. */
export function createFleet(running: RunningHub): { token: string; account: ReturnType<RunningHub['hub']['createAccount']>['account'] } {
  const { account, token } = running.hub.createAccount('fleet', FLEET + 100)
  const now = Date.now()
  for (const m of MEMBERS) {
    const { instance } = running.hub.createInstance(account.id, m.name, defaultConfig())
    running.hub.updateStatus(instance.id, patchOf(m, now))
  }
  return { token, account }
}

/** How many members are in each state. */
export function countOf(state: ConnectionState): number {
  return MEMBERS.filter((m) => m.state === state).length
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })

export function byName(a: string, b: string): number {
  return collator.compare(a, b)
}
