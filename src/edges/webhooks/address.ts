/**
 * @module Where webhooks may not go unless HUB_WEBHOOK_ALLOW_PRIVATE=true: loopback, private,
 * shared (CGNAT), link-local, unique-local, unspecified, multicast and reserved addresses, in
 * IPv4, IPv6 and IPv4-mapped IPv6 forms (net.BlockList matches the mapped forms against the IPv4
 * rules). The check runs on the address a connection is about to use, after DNS, so a name that
 * resolves (or re-resolves) to a private address is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

const RANGES: [kind: string, address: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['shared (CGNAT)', '100.64.0.0', 10, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['unique-local', 'fc00::', 7, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
]

const LISTS: { kind: string; list: BlockList }[] = []
for (const [kind, address, prefix, family] of RANGES) {
  let entry = LISTS.find((l) => l.kind === kind)
  if (entry === undefined) LISTS.push((entry = { kind, list: new BlockList() }))
  entry.list.addSubnet(address, prefix, family)
}

/** The kind of non-public address `ip` is (`loopback`, `private`, …), or null for a public one. */
export function addressKind(ip: string): string | null {
  const family = isIP(ip)
  if (family === 0) return 'invalid'
  const type = family === 4 ? 'ipv4' : 'ipv6'
  for (const { kind, list } of LISTS) if (list.check(ip, type)) return kind
  return null
}

export class RefusedAddress extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_REFUSED'
}

/** Why delivering to `ip` (what `host` resolved to, when it is a name) is refused, or null. */
export function refusal(ip: string, host: string | null): RefusedAddress | null {
  const kind = addressKind(ip)
  if (kind === null) return null
  const article = kind === 'unspecified' || kind === 'invalid' ? 'an' : 'a'
  const what = host === null || host === ip ? `${ip} is` : `${host} resolves to ${ip},`
  return new RefusedAddress(`refused: ${what} ${article} ${kind} address; set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow`)
}

type Resolve = (hostname: string, options: { all: true; family?: number }, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void

/**
 * A `lookup` for net/tls connect that resolves every address of the name and refuses the
 * connection when any of them is not public; the socket connects to an address it checked.
 */
export function guardedLookup(resolve: Resolve = dnsLookup as unknown as Resolve): LookupFunction {
  return (hostname, options, callback) => {
    const family = typeof options.family === 'number' ? options.family : undefined
    resolve(hostname, { all: true, ...(family === undefined || family === 0 ? {} : { family }) }, (err, addresses) => {
      const cb = callback as (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
      if (err !== null) return cb(err, '')
      for (const a of addresses) {
        const refused = refusal(a.address, hostname)
        if (refused !== null) return cb(refused, '')
      }
      if (addresses.length === 0) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '')
      if (options.all === true) return cb(null, addresses)
      cb(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}
