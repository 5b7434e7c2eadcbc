/**
 * @module Our own verified business name. Baileys rc.9 never sets one on our account and its
 * getBusinessProfile answers without a name (docs/baileys-rc9.md §6), so this asks WhatsApp the
 * way whatsmeow does: a USync query with a `business/verified_name` protocol, whose answer holds
 * a VerifiedNameCertificate. rc.9's public USyncQuery takes the extra protocol. The request and
 * the parser were checked against a loopback server only, not against WhatsApp.
 */
import { getBinaryNodeChild, proto, USyncQuery, USyncUser, type BinaryNode } from '@whiskeysockets/baileys'

type USyncQueryProtocol = USyncQuery['protocols'][number]

const businessProtocol: USyncQueryProtocol = {
  name: 'business',
  getQueryElement: () => ({ tag: 'business', attrs: {}, content: [{ tag: 'verified_name', attrs: {} }] }),
  getUserElement: () => null,
  parser: (node: BinaryNode) => {
    const vn = getBinaryNodeChild(node, 'verified_name')
    if (!(vn?.content instanceof Uint8Array)) return null
    const cert = proto.VerifiedNameCertificate.decode(vn.content)
    if (cert.details == null) return null
    const name = proto.VerifiedNameCertificate.Details.decode(cert.details).verifiedName
    return typeof name === 'string' && name !== '' ? { verifiedName: name } : null
  },
}

export function verifiedNameQuery(jid: string): USyncQuery {
  const q = new USyncQuery().withContext('background').withMode('full').withUser(new USyncUser().withId(jid))
  q.protocols.push(businessProtocol)
  return q
}

/** The name in an answer to verifiedNameQuery, or undefined. */
export function verifiedNameOf(result: { list?: object[] } | undefined): string | undefined {
  const business = (result?.list?.[0] as { business?: unknown } | undefined)?.business as { verifiedName?: unknown } | null | undefined
  return typeof business?.verifiedName === 'string' ? business.verifiedName : undefined
}

/** The answer a server gives to verifiedNameQuery (for loopback tests and the simulator). */
export function verifiedNameAnswer(jid: string, verifiedName: string): { list: { id: string; business: { verifiedName: string } }[]; sideList: [] } {
  return { list: [{ id: jid, business: { verifiedName } }], sideList: [] }
}
