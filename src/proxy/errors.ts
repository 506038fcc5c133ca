/**
 * The error of a PROXY protocol header that is not valid: a `FrameInvalidError` (same code, same
 * "delivered as is" treatment by transports) that also says which rule the header broke, so a
 * server can count rejections by cause without parsing messages.
 *
 * A header over its size limit is a `FrameTooLargeError` instead, as for every codec.
 *
 * To move into the catalogue (`src/errors.ts`) once the wiring lands; nothing here imports
 * from `node:`.
 */
import { FrameInvalidError } from '../errors.js';

/** Which rule of the spec a header broke. */
export type ProxyErrorReason =
  /** Neither the v1 text `PROXY` nor the v2 binary signature. */
  | 'signature'
  /** A v2 signature with a version other than 2. */
  | 'version'
  /** A v2 command other than LOCAL (0) or PROXY (1). */
  | 'command'
  /** A v2 address family or transport protocol outside the spec's table. */
  | 'family'
  /** A v1 line that does not match the grammar (spaces, keywords, a bare CR or LF…). */
  | 'syntax'
  /** An address or port that is not canonical, or a v2 address block too short for its family. */
  | 'address'
  /** A truncated TLV, a TLV of the wrong length, or a registered TLV given twice. */
  | 'tlv'
  /** The CRC32C TLV does not match the header. */
  | 'checksum';

/** A PROXY protocol header broke the spec; `reason` says how. Abort the connection. */
export class ProxyProtocolError extends FrameInvalidError {
  readonly reason: ProxyErrorReason;

  constructor(reason: ProxyErrorReason, message: string) {
    super(`invalid PROXY protocol header: ${message}`);
    this.reason = reason;
  }
}
