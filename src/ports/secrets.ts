/**
 * @module Secrets at rest: what the stores seal before writing (Baileys creds and keys, webhook
 * authorization values and signing secrets) and open after reading.
 */
export interface SecretBox {
  /** Seals `plain` into a printable string that carries its own format marker. */
  seal(plain: string): string
  /** Opens what `seal` wrote. A value without the marker (written before encryption existed) is returned as it is. */
  open(stored: string): string
  /** Whether `stored` was sealed (what the first start with a key re-encrypts). */
  isSealed(stored: string): boolean
}
