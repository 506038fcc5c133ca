/**
 * The errors of the PROXY protocol parser. They live in the catalogue (`src/errors.ts`) since
 * servers speak the protocol; this file keeps the `aionet/proxy` names where they were.
 */
export { type ProxyErrorReason, ProxyProtocolError } from '../errors.js';
