/**
 * @module Baileys auth-state facts shared by every adapter that holds or drives a session: the
 * session stores (which keep creds), the socket factory and the simulated sockets (which read them).
 */
import { jidNormalizedUser, type AuthenticationCreds, type AuthenticationState, type makeCacheableSignalKeyStore } from '@whiskeysockets/baileys'
import type { Me } from '../../core/whatsapp/events.js'

/** Baileys' ILogger (not exported by name from the package index). */
export type BaileysLogger = NonNullable<Parameters<typeof makeCacheableSignalKeyStore>[1]>

/** The auth state every socket generation of one instance shares (one in-memory creds object). */
export interface AuthHandle {
  state: AuthenticationState
  /** Queues a write of the live creds object; writes of one instance run in call order. */
  saveCreds(): Promise<void>
}

/** Where sockets get their auth state (a session store). */
export interface AuthSource {
  auth(instanceId: number): AuthHandle
}

/** A pairing-code request sets creds.me before anything is paired; only pair-success sets `account`. */
export function isPaired(creds: Pick<AuthenticationCreds, 'me' | 'account'>): boolean {
  return Boolean(creds.me?.id && creds.account)
}

export function meOf(creds: Pick<AuthenticationCreds, 'me'>): Me | null {
  const me = creds.me
  if (!me?.id) return null
  const out: Me = { jid: jidNormalizedUser(me.id) }
  if (me.name) out.name = me.name
  return out
}
