/**
 * @module Which WhatsApp layer a configuration asks for.
 */
import type { Logger } from 'pino'
import type { HubConfig } from './config.js'
import type { StartOptions } from './start.js'

export function whatsappFor(_cfg: HubConfig, _log: Logger): StartOptions['whatsapp'] {
  return null
}
