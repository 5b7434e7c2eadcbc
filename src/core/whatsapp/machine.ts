/**
 * @module The instance state machine: `reduce(state, event, now, random) → {state, effects}`.
 * Pure: time and randomness come in as arguments, and everything it wants done is an effect.
 * Every row of its transition table is named by a test in machine.test.ts.
 */
import { backoffDelay, DEFAULT_BACKOFF, UNAVAILABLE_BACKOFF } from './backoff.js'
import { closeMeaning, LOCAL_REASONS, type CloseClass } from './close-codes.js'
import type { Effect } from './effects.js'
import type { Command, MachineEvent, SocketEvent, TimerKind } from './events.js'
import { DEFAULT_MACHINE_CONFIG, type LastClose, type MachineConfig, type MachineState, type Phase } from './machine-state.js'
import { toStatusPatch } from './status-patch.js'

export interface Transition {
  state: MachineState
  effects: Effect[]
}

/**
 * Applies one event. A `publish` effect (the full status patch) ends the list whenever the phase or
 * the rendered patch changed, so every transition reaches the hub, a retried close included.
 */
export function reduce(
  s: MachineState,
  e: MachineEvent,
  now: number,
  random: () => number,
  config: MachineConfig = DEFAULT_MACHINE_CONFIG,
): Transition {
  const t = isSocketEvent(e) ? onSocketEvent(s, e, { now, random, config }) : onCommand(s, e, { now, random, config })
  if (t.state === s) return t
  const before = toStatusPatch(s)
  const after = toStatusPatch(t.state)
  if (t.state.phase !== s.phase || JSON.stringify(before) !== JSON.stringify(after)) {
    t.effects.push({ type: 'publish', patch: after })
  }
  return t
}

interface Ctx {
  now: number
  random: () => number
  config: MachineConfig
}

const STOPPED_CLOSE: LastClose = {
  code: null,
  name: LOCAL_REASONS.stopped.name,
  message: 'Stopped by the hub',
  label: LOCAL_REASONS.stopped.label,
}

const LOCAL_LOGOUT_CLOSE: LastClose = {
  code: null,
  name: LOCAL_REASONS.logout.name,
  message: 'Intentional Logout',
  label: LOCAL_REASONS.logout.label,
}

function watchdogClose(ms: number): LastClose {
  return {
    code: null,
    name: LOCAL_REASONS.connectWatchdog.name,
    message: `No answer from WhatsApp within ${Math.round(ms / 1000)} s`,
    label: LOCAL_REASONS.connectWatchdog.label,
  }
}

function isSocketEvent(e: MachineEvent): e is SocketEvent {
  return 'gen' in e
}

function same(s: MachineState): Transition {
  return { state: s, effects: [] }
}

const schedule = (kind: TimerKind, ms: number): Effect => ({ type: 'scheduleTimer', kind, ms })
const cancel = (kind: TimerKind): Effect => ({ type: 'cancelTimer', kind })

/** Cancels the timers armed in `s`: each timer's life is tied to the phase that scheduled it. */
function disarm(s: MachineState): Effect[] {
  const out: Effect[] = []
  if (s.phase === 'CONNECTING' && s.live && !s.loggingOut) out.push(cancel('connectWatchdog'))
  if (s.phase === 'OPEN' && s.live && !s.stable && !s.loggingOut) out.push(cancel('stableOpen'))
  if (s.dueAt !== null) out.push(cancel('reconnect'))
  return out
}

/** A new socket generation; the previous one is already closed or ended. */
function newSocket(s: MachineState, ctx: Ctx, effects: Effect[]): Transition {
  const gen = s.gen + 1
  return {
    state: {
      ...s,
      phase: 'CONNECTING',
      gen,
      live: true,
      qr: null,
      pairingRequested: false,
      pairingCode: null,
      synced: false,
      online: false,
      stable: false,
      dueAt: null,
      loggingOut: false,
    },
    effects: [...effects, { type: 'createSocket', gen }, schedule('connectWatchdog', ctx.config.watchdogMs)],
  }
}

function onCommand(s: MachineState, e: Command, ctx: Ctx): Transition {
  switch (e.type) {
    case 'start':
      return start(s, e, ctx)
    case 'stop':
      if (s.loggingOut || (!s.live && s.dueAt === null)) return same(s)
      return {
        state: { ...idle(s), phase: 'STOPPED', lastClose: STOPPED_CLOSE },
        effects: [
          ...disarm(s),
          ...(s.live ? [{ type: 'endSocket', why: 'stop' } as const] : []),
          { type: 'setAutoStart', autoStart: false },
        ],
      }
    case 'logout':
      if (s.loggingOut) return same(s)
      if (!s.live) return loggedOut(idle(s), LOCAL_LOGOUT_CLOSE, disarm(s))
      return { state: { ...s, loggingOut: true, dueAt: null }, effects: [...disarm(s), { type: 'logoutSocket' }] }
    case 'presenceWanted': {
      const effects: Effect[] =
        s.phase === 'OPEN' && s.live && s.online !== e.online
          ? [{ type: 'setPresence', presence: e.online ? 'available' : 'unavailable' }]
          : []
      return { state: s.wantOnline === e.online ? s : { ...s, wantOnline: e.online }, effects }
    }
    case 'timer':
      return onTimer(s, e.kind, ctx)
  }
}

function start(s: MachineState, e: Extract<Command, { type: 'start' }>, ctx: Ctx): Transition {
  const number = e.pairingNumber ?? null
  if (s.live || s.phase === 'CONNECTING') {
    // Already starting or running. A pairing number given now is requested once a QR is shown.
    if (number === null || s.paired || s.loggingOut) return same(s)
    if (s.phase !== 'AWAITING_QR') return s.pairingNumber === number ? same(s) : { state: { ...s, pairingNumber: number }, effects: [] }
    if (s.pairingNumber === number && s.pairingRequested) return same(s)
    return {
      state: { ...s, pairingNumber: number, pairingRequested: true, pairingCode: null },
      effects: [{ type: 'requestPairingCode', number }],
    }
  }
  const session = e.session
  const paired = session?.paired ?? false
  const fresh: MachineState = {
    ...s,
    paired,
    me: paired ? (session?.me ?? s.me) : null,
    platform: paired ? (session?.platform ?? s.platform) : null,
    pictureUrl: paired ? s.pictureUrl : undefined,
    isBusiness: paired ? s.isBusiness : undefined,
    businessName: paired ? s.businessName : undefined,
    pairingNumber: paired ? null : number,
    attempt: 0,
    badSessions: 0,
    conflicts: [],
    unpairedTries: 0,
    updateRetried: false,
  }
  const t = newSocket(fresh, ctx, disarm(s))
  t.effects.push({ type: 'setAutoStart', autoStart: true })
  return t
}

function onTimer(s: MachineState, kind: TimerKind, ctx: Ctx): Transition {
  switch (kind) {
    case 'reconnect':
      if (s.dueAt === null || s.live) return same(s)
      return newSocket({ ...s, dueAt: null }, ctx, [])
    case 'connectWatchdog': {
      if (s.phase !== 'CONNECTING' || !s.live || s.loggingOut) return same(s)
      // Baileys never closes a socket whose upgrade was refused (HTTP 401/403): end it and retry.
      const close = watchdogClose(ctx.config.watchdogMs)
      return afterClose(idle(s), 'transient', undefined, close, [{ type: 'endSocket', why: 'watchdog' }], ctx)
    }
    case 'stableOpen':
      if (s.phase !== 'OPEN' || !s.live || s.stable || s.loggingOut) return same(s)
      return {
        state: { ...s, stable: true, attempt: 0, badSessions: 0, unpairedTries: 0, updateRetried: false },
        effects: [],
      }
  }
}

function onSocketEvent(s: MachineState, e: SocketEvent, ctx: Ctx): Transition {
  if (e.gen !== s.gen || !s.live) return same(s)
  switch (e.type) {
    case 'connecting':
      return same(s)
    case 'qr':
      if (s.phase === 'AWAITING_QR') return { state: { ...s, qr: e.qr }, effects: [] }
      if (s.phase !== 'CONNECTING' || s.loggingOut) return same(s)
      return {
        state: { ...s, phase: 'AWAITING_QR', qr: e.qr, pairingRequested: s.pairingNumber !== null },
        effects: [
          cancel('connectWatchdog'),
          ...(s.pairingNumber !== null ? [{ type: 'requestPairingCode', number: s.pairingNumber } as const] : []),
        ],
      }
    case 'pairingCode':
      if (s.phase !== 'AWAITING_QR') return same(s)
      return { state: { ...s, pairingCode: e.code }, effects: [] }
    case 'pairingFailed':
      // Lets the next /connect with a number ask again.
      return s.pairingRequested ? { state: { ...s, pairingRequested: false }, effects: [] } : same(s)
    case 'paired':
      if ((s.phase !== 'CONNECTING' && s.phase !== 'AWAITING_QR') || s.loggingOut) return same(s)
      return {
        state: {
          ...s,
          phase: 'PAIRED_RESTARTING',
          paired: true,
          me: e.me ?? s.me,
          qr: null,
          pairingCode: null,
          pairingNumber: null,
          unpairedTries: 0,
        },
        effects: s.phase === 'CONNECTING' ? [cancel('connectWatchdog')] : [],
      }
    case 'open': {
      if (!['CONNECTING', 'AWAITING_QR', 'PAIRED_RESTARTING'].includes(s.phase) || s.loggingOut) return same(s)
      const me = e.me ?? s.me
      const effects: Effect[] = s.phase === 'CONNECTING' ? [cancel('connectWatchdog')] : []
      effects.push(schedule('stableOpen', ctx.config.stableOpenMs))
      if (me !== null) effects.push({ type: 'fetchProfile', jid: me.jid })
      if (s.wantOnline) effects.push({ type: 'setPresence', presence: 'available' })
      return {
        state: {
          ...s,
          phase: 'OPEN',
          paired: true,
          me,
          qr: null,
          pairingCode: null,
          pairingNumber: null,
          synced: false,
          stable: false,
          unpairedTries: 0,
        },
        effects,
      }
    }
    case 'synced':
      if (s.phase !== 'OPEN' || s.synced) return same(s)
      return { state: { ...s, synced: true }, effects: [] }
    case 'online':
      if (s.online === e.online) return same(s)
      return { state: { ...s, online: e.online }, effects: [] }
    case 'creds':
      // A pairing-code request puts the typed number in creds.me before anything is paired.
      if (!e.paired || e.me === null) return same(s)
      return {
        state: { ...s, me: e.me, platform: e.platform ?? s.platform },
        // Baileys ignores own-presence updates until the push name is known: ask again once it is.
        effects:
          s.phase === 'OPEN' && s.wantOnline && !s.online && !s.me?.name && e.me.name
            ? [{ type: 'setPresence', presence: 'available' }]
            : [],
      }
    case 'avatarChanged':
      if (s.phase !== 'OPEN' || s.me === null) return same(s)
      return { state: s, effects: [{ type: 'fetchProfile', jid: s.me.jid }] }
    case 'profile':
      return {
        state: {
          ...s,
          pictureUrl: e.pictureUrl === undefined ? s.pictureUrl : e.pictureUrl,
          isBusiness: e.isBusiness,
          businessName: e.businessName,
        },
        effects: [],
      }
    case 'closed': {
      // Our own stop already moved the machine on; its close is only an echo.
      if (e.initiatedBy === 'stop') return same(s)
      const effects = disarm(s)
      const base = idle(s)
      const meaning = closeMeaning(e.code, e.message)
      const close: LastClose = { code: e.code ?? null, name: meaning.name, message: e.message, label: meaning.label }
      if (s.loggingOut) return loggedOut(base, e.code === 401 ? close : LOCAL_LOGOUT_CLOSE, effects)
      return afterClose(base, meaning.class, e.code, close, effects, ctx)
    }
  }
}

/** `s` without a live socket or anything scheduled. */
function idle(s: MachineState): MachineState {
  return { ...s, live: false, qr: null, pairingCode: null, synced: false, online: false, dueAt: null, loggingOut: false }
}

function afterClose(
  s: MachineState,
  cls: CloseClass,
  code: number | undefined,
  close: LastClose,
  effects: Effect[],
  ctx: Ctx,
): Transition {
  const closed: MachineState = { ...s, lastClose: close }
  switch (cls) {
    case 'restart': {
      const ms = Math.round(ctx.random() * ctx.config.restartJitterMs)
      return {
        state: { ...closed, phase: 'CONNECTING', dueAt: ctx.now + ms },
        effects: [...effects, schedule('reconnect', ms)],
      }
    }
    case 'qrExpired':
      return park(closed, 'QR_EXPIRED', effects)
    case 'loggedOut':
      return loggedOut(closed, close, effects)
    case 'blocked':
      return park(closed, 'BLOCKED', effects)
    case 'needsAttention':
      return park(closed, 'NEEDS_ATTENTION', effects)
    case 'needsUpdate':
      if (closed.updateRetried) return park(closed, 'NEEDS_UPDATE', effects)
      // One slow retry with a refreshed WhatsApp Web version; never a hot loop.
      return {
        state: { ...closed, phase: 'NEEDS_UPDATE', updateRetried: true, dueAt: ctx.now + ctx.config.updateRetryMs },
        effects: [...effects, { type: 'refreshVersion' }, schedule('reconnect', ctx.config.updateRetryMs)],
      }
    case 'conflict': {
      const window = ctx.config.conflictWindowMs
      const conflicts = [...closed.conflicts.filter((t) => ctx.now - t < window), ctx.now]
      if (conflicts.length >= 2) return park({ ...closed, conflicts }, 'CONFLICT', effects)
      return retry({ ...closed, conflicts }, ctx.config.conflictRetryMs, effects, ctx)
    }
    case 'transient': {
      let next = closed
      if (code === 500) {
        next = { ...next, badSessions: next.badSessions + 1 }
        if (next.badSessions >= ctx.config.badSessionLimit) return park(next, 'NEEDS_ATTENTION', effects)
      }
      if (!next.paired) {
        // Each new unpaired socket shows a new QR; do not loop on a flaky network nobody watches.
        next = { ...next, unpairedTries: next.unpairedTries + 1 }
        if (next.unpairedTries >= ctx.config.unpairedTryLimit) return park(next, 'QR_EXPIRED', effects)
      }
      const policy = code === 503 ? UNAVAILABLE_BACKOFF : DEFAULT_BACKOFF
      return retry(next, backoffDelay(next.attempt, policy, ctx.random), effects, ctx)
    }
  }
}

function retry(s: MachineState, ms: number, effects: Effect[], ctx: Ctx): Transition {
  return {
    state: { ...s, phase: 'RECONNECT_WAIT', attempt: s.attempt + 1, dueAt: ctx.now + ms },
    effects: [...effects, schedule('reconnect', ms)],
  }
}

/** No automatic retry now; autoStart stays, so a hub restart still reconnects a saved session (contract). */
function park(s: MachineState, phase: Phase, effects: Effect[]): Transition {
  return { state: { ...s, phase, dueAt: null }, effects }
}

function loggedOut(s: MachineState, close: LastClose, effects: Effect[]): Transition {
  return {
    state: {
      ...s,
      phase: 'LOGGED_OUT',
      lastClose: close,
      paired: false,
      me: null,
      platform: null,
      pictureUrl: undefined,
      isBusiness: undefined,
      businessName: undefined,
      pairingNumber: null,
      pairingRequested: false,
    },
    effects: [...effects, { type: 'wipeAuth' }],
  }
}
