/**
 * @module The QR string as a PNG data URI for /connect answers.
 */
import QRCode from 'qrcode'

/** `data:image/png;base64,…` of `qr` (the raw string from Baileys' connection.update). */
export function qrDataUri(qr: string): Promise<string> {
  return QRCode.toDataURL(qr, { errorCorrectionLevel: 'L', margin: 2, width: 264 })
}
