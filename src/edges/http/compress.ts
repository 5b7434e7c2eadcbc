/**
 * @module Response compression: the coding an `Accept-Encoding` asks for (`br` or `gzip`), and a
 * body's compressed representations, each made once (on the libuv pool, off the event loop) the
 * first time a client asks for it, then served from memory like the uncompressed bytes.
 *
 * ETags (a choice): each representation carries its own strong ETag, the identity tag with the
 * coding appended inside the quotes (`"abc"`, `"abc-br"`, `"abc-gzip"`). Strong, because the bytes
 * differ and RFC 9110 §8.8.3 wants a strong tag to name exactly one sequence of bytes (a cache or
 * a range request may combine them); per coding, so a cache holding several variants under
 * `Vary: Accept-Encoding` learns from a 304 which one is still fresh. A weak shared tag
 * (`W/"abc"`) would have been simpler but makes every variant look like the same bytes.
 * `If-None-Match` is answered 304 when it names the tag of the representation the request selects.
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import type { HeaderPair } from '../../protocol/headers.js'

export type Coding = 'br' | 'gzip'

/** Smaller bodies are sent as they are: compressing them saves less than a packet. */
export const MIN_COMPRESS_BYTES = 1024

/** brotli quality 5 and gzip level 6: within 20% of the best ratio at a hundredth of the CPU. */
const BROTLI_QUALITY = 5
const GZIP_LEVEL = 6

const brotli = promisify(zlib.brotliCompress)
const gzip = promisify(zlib.gzip)

export function compress(body: Buffer, coding: Coding): Promise<Buffer> {
  if (coding === 'gzip') return gzip(body, { level: GZIP_LEVEL })
  return brotli(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  })
}

/**
 * The coding to answer with (RFC 9110 §12.5.3): the highest q of `br` and `gzip` (`x-gzip` is
 * gzip; `*` stands for an unnamed one), br on a tie; null for identity, when nothing is acceptable
 * or identity is preferred outright. Malformed members are skipped.
 */
export function pickCoding(header: string): Coding | null {
  if (header === '') return null
  let br = -1
  let gz = -1
  let star = -1
  let identity = -1
  for (const member of header.split(',')) {
    const semi = member.indexOf(';')
    const name = (semi < 0 ? member : member.slice(0, semi)).trim().toLowerCase()
    if (name === '') continue
    let q = 1
    if (semi >= 0) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(member.slice(semi + 1))
      if (m === null) continue
      q = Math.min(1, Number(m[1]))
    }
    if (name === 'br') br = q
    else if (name === 'gzip' || name === 'x-gzip') gz = q
    else if (name === '*') star = q
    else if (name === 'identity') identity = q
  }
  if (br < 0) br = star
  if (gz < 0) gz = star
  const best = Math.max(br, gz)
  if (best <= 0) return null
  // Identity wins only when listed with a higher q than any coding.
  if (identity > best) return null
  return br >= gz ? 'br' : 'gzip'
}

/** One representation of a response body, with the headers its 200 and its 304 carry. */
export interface Representation {
  body: Buffer
  etag: string
  /** For a 200: ETag, Vary, Content-Encoding and the caller's headers, joined. */
  headers: HeaderPair[]
  /** For a 304: the same without Content-Encoding (RFC 9110 §15.4.5). */
  notModified: HeaderPair[]
}

/** `"abc"` → `"abc-br"`. */
export function codedEtag(etag: string, coding: Coding): string {
  return `${etag.slice(0, -1)}-${coding}"`
}

/**
 * A body's compressed representations, made on first demand and kept. `build` gives a coding's
 * headers; `onMade` runs after each is stored (a cache re-weighs the entry).
 */
export class Codings {
  private readonly made: Partial<Record<Coding, Representation | Promise<Representation>>> = {}

  constructor(
    private readonly body: Buffer,
    private readonly build: (coding: Coding, body: Buffer) => Representation,
    private readonly onMade?: () => void,
  ) {}

  /** The representation for `coding`: at once when made, a promise the first time (shared by concurrent askers). */
  get(coding: Coding): Representation | Promise<Representation> {
    const have = this.made[coding]
    if (have !== undefined) return have
    const pending = compress(this.body, coding).then((bytes) => {
      const rep = this.build(coding, bytes)
      this.made[coding] = rep
      this.onMade?.()
      return rep
    })
    // A failure is not kept: the next request tries again.
    pending.catch(() => {
      if (this.made[coding] === pending) delete this.made[coding]
    })
    this.made[coding] = pending
    return pending
  }

  /** Bytes held by the representations made so far. */
  get bytes(): number {
    let n = 0
    for (const r of Object.values(this.made)) if (!(r instanceof Promise)) n += r.body.length
    return n
  }
}
