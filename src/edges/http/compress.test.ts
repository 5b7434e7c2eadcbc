import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { Codings, codedEtag, pickCoding, type Coding } from './compress.js'

describe('pickCoding', () => {
  it.each<[string, Coding | null]>([
    ['', null],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['GZIP', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', 'br'],
    ['gzip;q=0, br;q=0', null],
    ['deflate', null],
    ['identity', null],
    ['*', 'br'],
    ['*;q=0', null],
    ['gzip;q=0, *', 'br'],
    ['gzip;q=0.5, identity', null],
    ['gzip, identity;q=0.5', 'gzip'],
    ['gzip;q=2', null],
    ['gzip;q=abc, br;q=0.1', 'br'],
    [' , ;q=1, gzip ; q = 0.7 ', 'gzip'],
  ])('%j → %s', (header, expected) => {
    expect(pickCoding(header)).toBe(expected)
  })
})

describe('Codings', () => {
  const body = Buffer.from(JSON.stringify({ instances: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}` })) }))
  const build = (coding: Coding, bytes: Buffer) => ({ body: bytes, etag: codedEtag('"t"', coding), headers: [], notModified: [] })

  it('compresses a body once per coding, shares the pending work, then answers at once', async () => {
    let made = 0
    const c = new Codings(body, build, () => made++)
    const a = c.get('gzip')
    const b = c.get('gzip')
    expect(a).toBeInstanceOf(Promise)
    expect(b).toBe(a)
    const rep = await a
    expect(gunzipSync(rep.body).equals(body)).toBe(true)
    expect(rep.etag).toBe('"t-gzip"')
    expect(c.get('gzip')).toBe(rep)
    const br = await c.get('br')
    expect(brotliDecompressSync(br.body).equals(body)).toBe(true)
    expect(made).toBe(2)
    expect(c.bytes).toBe(rep.body.length + br.body.length)
  })
})
