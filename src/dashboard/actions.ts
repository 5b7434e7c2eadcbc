/**
 * @module What an operator can do to an instance, and when each action applies. Pure except for
 * the requests, which go through the injected Api.
 */
import type { InstanceItem } from '../client/index.js'
import { instancePath, type Api } from './api.js'
import { isRetrying } from './query.js'

export type Action = 'connect' | 'reconnect' | 'logout' | 'delete' | 'sim-scan' | 'sim-drop'

export const ACTIONS: readonly Action[] = ['connect', 'reconnect', 'logout', 'delete', 'sim-scan', 'sim-drop']

export const ACTION_LABEL: Record<Action, string> = {
  connect: 'Connect',
  reconnect: 'Reconnect',
  logout: 'Log out',
  delete: 'Delete',
  'sim-scan': 'Simulate scan',
  'sim-drop': 'Simulate drop',
}

/** The simulator's actions exist only when the hub runs simulated sockets. */
export const SIM_ACTIONS: ReadonlySet<Action> = new Set(['sim-scan', 'sim-drop'])

/**
 * - connect (QR or pairing code): not while connected, nor while a retry of a saved session runs;
 * - reconnect (from the saved session): disconnected, or retrying (now instead of at retryAt);
 * - log out: while a session may exist (not logged out);
 * - delete: always;
 * - simulate a scan while linking, a drop while connected.
 */
export function applies(action: Action, item: InstanceItem): boolean {
  const s = item.connection.state
  switch (action) {
    case 'connect':
      return s === 'disconnected' || s === 'loggedout' || (s === 'connecting' && !isRetrying(item))
    case 'reconnect':
      return s === 'disconnected' || isRetrying(item)
    case 'logout':
      return s !== 'loggedout'
    case 'delete':
      return true
    case 'sim-scan':
      return s === 'connecting' && !isRetrying(item)
    case 'sim-drop':
      return s === 'connected'
  }
}

/** The question asked before an action that cannot be undone, or null. */
export function confirmation(action: Action, name: string): string | null {
  if (action === 'logout') return `Log out ${name}? The device is unlinked and a new QR scan is needed.`
  if (action === 'delete') return `Delete ${name}? Its session and token are gone for good.`
  return null
}

/** The request an action makes; connect has none of its own (its panel asks for the QR). */
export function request(api: Api, action: Exclude<Action, 'connect'>, name: string): Promise<Record<string, any>> {
  switch (action) {
    case 'reconnect':
      return api('POST', instancePath('/api/instance/reconnect', name))
    case 'logout':
      return api('DELETE', instancePath('/api/instance/logout', name))
    case 'delete':
      return api('DELETE', instancePath('/api/instance/delete', name))
    case 'sim-scan':
      return api('POST', `${instancePath('/api/sim', name)}/scan`)
    case 'sim-drop':
      return api('POST', `${instancePath('/api/sim', name)}/close`, { code: 428, message: 'Connection Terminated' })
  }
}
