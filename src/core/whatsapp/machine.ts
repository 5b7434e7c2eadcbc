/**
 * @module The instance state machine: `reduce(state, event, now, random) → {state, effects}`.
 * Pure: time and randomness come in as arguments, and everything it wants done is an effect.
 * Every row of its transition table is named by a test in machine.test.ts.
 */
import { backoffDelay, DEFAULT_BACKOFF, UNAVAILABLE_BACKOFF } from './backoff.js'
import { closeMeaning, LATE_QR_TIMER, LOCAL_REASONS, NETWORK_MEANINGS, type CloseClass } from './close-codes.js'
import type { Effect } from './effects.js'
import type { Command, MachineEvent, SocketEvent, TimerKind } from './events.js'
import { DEFAULT_MACHINE_CONFIG, type LastClose, type MachineConfig, type MachineState, type Phase } from './machine-state.js'
import { pictureRefreshDelay } from './picture.js'
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

function localClose(reason: { name: string; label: string }, message: string): LastClose {
  return { code: null, name: reason.name, message, label: reason.label, detail: null }
}

const STOPPED_CLOSE = localClose(LOCAL_REASONS.stopped, 'Stopped by the hub')
const LOCAL_LOGOUT_CLOSE = localClose(LOCAL_REASONS.logout, 'Intentional Logout')
/** The session is wiped, but the unlink request never reached WhatsApp: the phone may still list the device. */
const UNCONFIRMED_LOGOUT_CLOSE = localClose(
  LOCAL_REASONS.logoutUnconfirmed,
  'Session wiped; the unlink request could not be sent to WhatsApp, so the phone may still list this device',
)

const seconds = (ms: number) => Math.round(ms / 1000)

function isSocketEvent(e: MachineEvent): e is SocketEvent {
  return 'gen' in e
}

function same(s: MachineState): Transition {
  return { state: s, effects: [] }
}

const schedule = (kind: TimerKind, ms: number): Effect => ({ type: 'scheduleTimer', kind, ms })
const cancel = (kind: TimerKind): Effect => ({ type: 'cancelTimer', kind })

/** Cancels the timers armed in `s` (but `except`, which just fired): each timer's life is tied to the phase that scheduled it. */
function disarm(s: MachineState, except?: TimerKind): Effect[] {
  const out: Effect[] = []
  const live = s.live && !s.loggingOut
  if (s.phase === 'CONNECTING' && live) out.push(cancel('connectWatchdog'))
  if (s.phase === 'OPEN' && live) {
    if (!s.stable) out.push(cancel('stableOpen'))
    out.push(cancel('silence'))
    if (s.refreshArmed) out.push(cancel('profileRefresh'))
  }
  if (s.dueAt !== null) out.push(cancel('reconnect'))
  return except === undefined ? out : out.filter((e) => e.type !== 'cancelTimer' || e.kind !== except)
}

/** A new socket generation; the previous one is already closed or ended. */
function newSocket(s: MachineState, ctx: Ctx, effects: Effect[], manual = false): Transition {
  const gen = s.gen + 1
  return {
    state: {
      ...s,
      phase: 'CONNECTING',
      gen,
      live: true,
      connectingSince: ctx.now,
      manual,
      qr: null,
      pairingRequested: false,
      pairingCode: null,
      synced: false,
      historySync: null,
      online: false,
      stable: false,
      dueAt: null,
      retryDelayMs: null,
      loggingOut: false,
      refreshArmed: false,
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
        state: { ...down(s), phase: 'STOPPED', lastClose: STOPPED_CLOSE },
        effects: [
          ...disarm(s),
          ...(s.live ? [{ type: 'endSocket', why: 'stop' } as const] : []),
          { type: 'setAutoStart', autoStart: false },
        ],
      }
    case 'logout':
      if (s.loggingOut) return same(s)
      if (!s.live) return loggedOut(down(s), (e.linked ?? s.paired) ? UNCONFIRMED_LOGOUT_CLOSE : LOCAL_LOGOUT_CLOSE, disarm(s))
      return { state: { ...s, loggingOut: true, dueAt: null }, effects: [...disarm(s), { type: 'logoutSocket' }] }
    case 'presenceWanted': {
      const effects: Effect[] =
        s.phase === 'OPEN' && s.live && s.online !== e.online
          ? [{ type: 'setPresence', presence: e.online ? 'available' : 'unavailable' }]
          : []
      return { state: s.wantOnline === e.online ? s : { ...s, wantOnline: e.online }, effects }
    }
    case 'timer':
      return onTimer(s, e, ctx)
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
    businessName: paired ? s.businessName : undefined,
    pairingNumber: paired ? null : number,
    attempt: 0,
    badSessions: 0,
    conflicts: [],
    unpairedTries: 0,
    restarts: 0,
    heals: 0,
    updateRetried: false,
  }
  const t = newSocket(fresh, ctx, disarm(s), e.manual === true)
  t.effects.push({ type: 'setAutoStart', autoStart: true })
  return t
}

function onTimer(s: MachineState, e: Extract<Command, { type: 'timer' }>, ctx: Ctx): Transition {
  const cfg = ctx.config
  switch (e.kind) {
    case 'reconnect':
      if (s.dueAt === null || s.live) return same(s)
      return newSocket({ ...s, dueAt: null }, ctx, [])
    case 'connectWatchdog': {
      if (s.phase !== 'CONNECTING' || !s.live || s.loggingOut) return same(s)
      const age = ctx.now - (s.connectingSince ?? ctx.now)
      const idle = e.idleMs ?? null
      const quiet = idle ?? age
      // Frames still arrive (Baileys awaits several queries after login before `open`): wait on.
      if (quiet < cfg.watchdogMs && age < cfg.connectMaxMs) {
        return { state: s, effects: [schedule('connectWatchdog', Math.min(cfg.watchdogMs - quiet, cfg.connectMaxMs - age))] }
      }
      const effects: Effect[] = [{ type: 'endSocket', why: 'watchdog' }]
      if (idle === null) {
        // Nothing ever arrived: Baileys hangs on a refused upgrade or a proxy that never answers CONNECT.
        const meaning = NETWORK_MEANINGS[e.viaProxy ? 'proxyUnreachable' : 'unreachable']
        const close: LastClose = { code: null, name: meaning.name, message: `no answer within ${seconds(quiet)} s`, label: meaning.label, detail: null }
        return afterClose(down(s), 'network', undefined, close, effects, ctx, s.phase)
      }
      const close = localClose(LOCAL_REASONS.connectWatchdog, `WhatsApp stopped answering while connecting (nothing for ${seconds(quiet)} s)`)
      return afterClose(down(s), 'transient', undefined, close, effects, ctx, s.phase)
    }
    case 'silence': {
      if (s.phase !== 'OPEN' || !s.live || s.loggingOut) return same(s)
      const quiet = e.idleMs ?? cfg.silentAfterMs
      if (quiet < cfg.silentAfterMs) return { state: s, effects: [schedule('silence', cfg.silentAfterMs - quiet)] }
      const close = localClose(LOCAL_REASONS.silent, `Nothing received from WhatsApp for ${seconds(quiet)} s`)
      const effects: Effect[] = [...disarm(s, 'silence'), { type: 'endSocket', why: 'silent' }]
      return afterClose(down(s), 'transient', undefined, close, effects, ctx, s.phase)
    }
    case 'profileRefresh':
      if (s.phase !== 'OPEN' || !s.live || s.loggingOut || s.me === null || !s.refreshArmed) return same(s)
      return { state: { ...s, refreshArmed: false }, effects: [{ type: 'fetchProfile', jid: s.me.jid }] }
    case 'stableOpen':
      if (s.phase !== 'OPEN' || !s.live || s.stable || s.loggingOut) return same(s)
      return {
        state: { ...s, stable: true, attempt: 0, badSessions: 0, unpairedTries: 0, restarts: 0, heals: 0, updateRetried: false },
        effects: [],
      }
  }
}

function onSocketEvent(s: MachineState, e: SocketEvent, ctx: Ctx): Transition {
  if (e.gen !== s.gen || !s.live) return same(s)
  const cfg = ctx.config
  switch (e.type) {
    case 'connecting':
      return same(s)
    case 'qr':
      if (s.phase === 'AWAITING_QR') return { state: { ...s, qr: e.qr }, effects: [] }
      // A QR after pair-success is Baileys' uncleared QR timer: the pairing already happened.
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
          businessName: e.businessName ?? s.businessName,
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
      effects.push(schedule('stableOpen', cfg.stableOpenMs), schedule('silence', cfg.silentAfterMs))
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
    case 'historySync': {
      const isLatest = (s.historySync?.isLatest ?? false) || e.isLatest
      return { state: { ...s, historySync: { progress: e.progress, isLatest } }, effects: [] }
    }
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
    case 'profile': {
      const next: MachineState = {
        ...s,
        // A failed fetch (undefined) never erases a known picture.
        pictureUrl: e.pictureUrl === undefined ? s.pictureUrl : e.pictureUrl,
        businessName: e.businessName ?? s.businessName,
      }
      if (s.phase !== 'OPEN' || s.loggingOut) return { state: next, effects: [] }
      const delay = pictureRefreshDelay(e.pictureUrl, ctx.now, cfg)
      if (delay !== null) return { state: { ...next, refreshArmed: true }, effects: [schedule('profileRefresh', delay)] }
      return s.refreshArmed ? { state: { ...next, refreshArmed: false }, effects: [cancel('profileRefresh')] } : { state: next, effects: [] }
    }
    case 'closed': {
      // Our own stop already moved the machine on; its close is only an echo.
      if (e.initiatedBy === 'stop') return same(s)
      const effects = disarm(s)
      const base = down(s)
      let meaning = closeMeaning(e.code, e.message, e.cause)
      // Baileys does not clear its QR timer at pair-success: its 408 can end a socket that just paired.
      if (meaning.class === 'qrExpired' && s.phase === 'PAIRED_RESTARTING') meaning = LATE_QR_TIMER
      const close: LastClose = { code: e.code ?? null, name: meaning.name, message: e.message, label: meaning.label, detail: e.detail ?? null }
      if (s.loggingOut) return loggedOut(base, e.code === 401 ? close : UNCONFIRMED_LOGOUT_CLOSE, effects)
      return afterClose(base, meaning.class, e.code, close, effects, ctx, s.phase)
    }
  }
}

/** `s` without a live socket or anything scheduled. */
function down(s: MachineState): MachineState {
  return {
    ...s,
    live: false,
    qr: null,
    pairingCode: null,
    synced: false,
    historySync: null,
    online: false,
    dueAt: null,
    retryDelayMs: null,
    loggingOut: false,
    refreshArmed: false,
  }
}

/** `was`: the phase the socket closed in. */
function afterClose(
  s: MachineState,
  cls: CloseClass,
  code: number | undefined,
  close: LastClose,
  effects: Effect[],
  ctx: Ctx,
  was: Phase,
): Transition {
  const cfg = ctx.config
  const closed: MachineState = { ...s, lastClose: close }
  switch (cls) {
    case 'restart': {
      const restarts = closed.restarts + 1
      // Baileys never guards against a server that keeps asking for restarts.
      if (restarts > cfg.restartLimit) return retry({ ...closed, restarts }, backoffDelay(closed.attempt, DEFAULT_BACKOFF, ctx.random), effects, ctx)
      const ms = Math.round(ctx.random() * cfg.restartJitterMs)
      return {
        state: { ...closed, restarts, phase: 'CONNECTING', dueAt: ctx.now + ms, retryDelayMs: ms },
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
      return heal(closed, 'NEEDS_ATTENTION', effects, ctx)
    case 'needsUpdate':
      if (closed.updateRetried) return park(closed, 'NEEDS_UPDATE', effects)
      // One slow retry with a refreshed WhatsApp Web version; never a hot loop.
      return {
        state: { ...closed, phase: 'NEEDS_UPDATE', updateRetried: true, dueAt: ctx.now + cfg.updateRetryMs, retryDelayMs: cfg.updateRetryMs },
        effects: [...effects, { type: 'refreshVersion' }, schedule('reconnect', cfg.updateRetryMs)],
      }
    case 'conflict': {
      const conflicts = [...closed.conflicts.filter((t) => ctx.now - t < cfg.conflictWindowMs), ctx.now]
      if (conflicts.length >= 2) return heal({ ...closed, conflicts }, 'CONFLICT', effects, ctx)
      return retry({ ...closed, conflicts }, cfg.conflictRetryMs, effects, ctx)
    }
    case 'network':
      // The network, TLS or the proxy: says nothing about the session or the QR.
      return retry(closed, backoffDelay(closed.attempt, DEFAULT_BACKOFF, ctx.random), effects, ctx)
    case 'badSession': {
      const next = { ...closed, badSessions: closed.badSessions + 1 }
      if (next.badSessions >= cfg.badSessionLimit) return heal(next, 'NEEDS_ATTENTION', effects, ctx)
      return retry(next, backoffDelay(next.attempt, DEFAULT_BACKOFF, ctx.random), effects, ctx)
    }
    case 'transient': {
      let next = closed
      if (!next.paired && was === 'AWAITING_QR') {
        // Each new unpaired socket shows a new QR; do not loop on a flaky network nobody scans.
        next = { ...next, unpairedTries: next.unpairedTries + 1 }
        if (next.unpairedTries >= cfg.unpairedTryLimit) return park(next, 'QR_EXPIRED', effects)
      }
      const policy = code === 503 ? UNAVAILABLE_BACKOFF : DEFAULT_BACKOFF
      return retry(next, backoffDelay(next.attempt, policy, ctx.random), effects, ctx)
    }
  }
}

function retry(s: MachineState, ms: number, effects: Effect[], ctx: Ctx): Transition {
  return {
    state: { ...s, phase: 'RECONNECT_WAIT', attempt: s.attempt + 1, dueAt: ctx.now + ms, retryDelayMs: ms },
    effects: [...effects, schedule('reconnect', ms)],
  }
}

/** No automatic retry now; autoStart stays, so a hub restart still reconnects a saved session (contract). */
function park(s: MachineState, phase: Phase, effects: Effect[]): Transition {
  return { state: { ...s, phase, dueAt: null, retryDelayMs: null }, effects }
}

/** Parked, with one slow retry (jittered, doubling per heal up to healCapMs): the cause may go away by itself. */
function heal(s: MachineState, phase: 'CONFLICT' | 'NEEDS_ATTENTION', effects: Effect[], ctx: Ctx): Transition {
  const ms = backoffDelay(s.heals, { baseMs: ctx.config.healBaseMs, capMs: ctx.config.healCapMs }, ctx.random)
  return {
    state: { ...s, phase, heals: s.heals + 1, dueAt: ctx.now + ms, retryDelayMs: ms },
    effects: [...effects, schedule('reconnect', ms)],
  }
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
      businessName: undefined,
      pairingNumber: null,
      pairingRequested: false,
    },
    effects: [...effects, { type: 'wipeAuth' }],
  }
}
