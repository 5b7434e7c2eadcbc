/** A recording `ws` client by port and token (test/helpers/ws.ts takes an in-process TestHub). */
import type { TestHub } from '../helpers/hub.js'
import { openClient, type Client } from '../helpers/ws.js'

export function openClientTo(port: number, token: string): Promise<Client> {
  return openClient({ port, token } as unknown as TestHub)
}
