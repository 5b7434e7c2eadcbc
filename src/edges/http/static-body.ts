/**
 * @module A fixed response body (the API description, the API viewer's files) kept as bytes with
 * its strong ETag, its compressed representations made once on first demand (compress.ts), and
 * the headers each representation carries.
 */
import { createHash } from 'node:crypto'
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import { joinHeaders, type HeaderPair } from '../../protocol/headers.js'
import { Codings, codedEtag, MIN_COMPRESS_BYTES, pickCoding, type Coding, type Representation } from './compress.js'
import { endHead, etagMatches, writeHeaders } from './http.js'

export class StaticBody {
  readonly identity: Representation
  private readonly codings: Codings | null

  /** `extra` are the hub's own header values (never a request's): they are joined. */
  constructor(
    body: Buffer,
    readonly contentType: string,
    extra: readonly HeaderPair[] = [],
  ) {
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`
    const headers = (tag: string, coding?: Coding): HeaderPair[] => [
      joinHeaders([['ETag', tag], ['Vary', 'Accept-Encoding'], ...extra, ...(coding === undefined ? [] : ([['Content-Encoding', coding]] as HeaderPair[]))]),
    ]
    this.identity = { body, etag, headers: headers(etag), notModified: headers(etag) }
    this.codings =
      body.length < MIN_COMPRESS_BYTES
        ? null
        : new Codings(body, (coding, bytes) => {
            const tag = codedEtag(etag, coding)
            return { body: bytes, etag: tag, headers: headers(tag, coding), notModified: headers(tag) }
          })
  }

  /** The representation an `Accept-Encoding` selects: at once, or the first time a promise. */
  pick(acceptEncoding: string): Representation | Promise<Representation> {
    const coding = this.codings === null || acceptEncoding === '' ? null : pickCoding(acceptEncoding)
    return coding === null ? this.identity : this.codings!.get(coding)
  }

  /** Answers a plain GET or HEAD (no token, no envelope) with the representation it selects; 304 on a matching `If-None-Match`. */
  serve(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const ifNoneMatch = req.getHeader('if-none-match')
    const rep = this.pick(req.getHeader('accept-encoding'))
    if (!(rep instanceof Promise)) return this.write(res, rep, ifNoneMatch, head)
    let aborted = false
    res.onAborted(() => {
      aborted = true
    })
    rep.then(
      (r) => {
        if (!aborted) this.write(res, r, ifNoneMatch, head)
      },
      () => {
        if (!aborted) this.write(res, this.identity, ifNoneMatch, head)
      },
    )
  }

  private write(res: HttpResponse, rep: Representation, ifNoneMatch: string, head: boolean): void {
    res.cork(() => {
      if (ifNoneMatch !== '' && etagMatches(ifNoneMatch, rep.etag)) {
        res.writeStatus('304 Not Modified')
        writeHeaders(res, rep.notModified)
        res.endWithoutBody()
        return
      }
      res.writeStatus('200 OK').writeHeader('Content-Type', this.contentType)
      writeHeaders(res, rep.headers)
      if (head) endHead(res, rep.body)
      else res.end(rep.body)
    })
  }
}
