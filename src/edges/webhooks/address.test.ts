import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { addressKind, guardedLookup, refusal } from './address.js'

describe('the webhook address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['not an address', 'invalid'],
  ])('classifies %s as %s', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind)
  })

  it.each(['8.8.8.8', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '192.169.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', 'fec0::1'])(
    'lets the public address %s through',
    (ip) => {
      expect(addressKind(ip)).toBeNull()
    },
  )

  it('says why, naming the name and the address it resolved to', () => {
    expect(refusal('127.0.0.1', null)?.message).toBe('refused: 127.0.0.1 is a loopback address; set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow')
    expect(refusal('::', null)?.message).toBe('refused: :: is an unspecified address; set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow')
    expect(refusal('10.0.0.7', 'hooks.internal')?.message).toBe('refused: hooks.internal resolves to 10.0.0.7, a private address; set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow')
    expect(refusal('93.184.215.14', 'example.com')).toBeNull()
  })
})

describe('the guarded lookup', () => {
  const resolver = (answers: Record<string, LookupAddress[]>) => (host: string, _o: unknown, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
    cb(null, answers[host] ?? [])
  const run = (lookup: ReturnType<typeof guardedLookup>, host: string, all: boolean) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup(host, { all } as never, ((err: Error | null, address: unknown, family?: number) => resolve({ err, address, family })) as never),
    )

  it('answers a name whose every address is public, in the form asked for', async () => {
    const lookup = guardedLookup(resolver({ 'hooks.example': [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800::1', family: 6 }] }))
    expect(await run(lookup, 'hooks.example', false)).toEqual({ err: null, address: '93.184.215.14', family: 4 })
    expect(await run(lookup, 'hooks.example', true)).toEqual({
      err: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800::1', family: 6 },
      ],
      family: undefined,
    })
  })

  it('refuses a name when any one of its addresses is private (a rebinding answer mixed with a public one)', async () => {
    const lookup = guardedLookup(resolver({ 'rebind.example': [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }] }))
    const { err } = await run(lookup, 'rebind.example', true)
    expect(err?.message).toBe('refused: rebind.example resolves to 127.0.0.1, a loopback address; set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow')
    expect((err as { code?: string }).code).toBe('ERR_WEBHOOK_ADDRESS_REFUSED')
  })

  it('passes resolver failures through', async () => {
    const lookup = guardedLookup((_h, _o, cb) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }), []))
    expect((await run(lookup, 'nowhere', false)).err?.message).toBe('getaddrinfo ENOTFOUND nowhere')
  })
})
