/**
 * IPv4 and IPv6 addresses as text and as bytes, without `node:net`: the strict forms the PROXY
 * protocol's v1 line allows, and the canonical text (RFC 5952) a parsed header reports, so one
 * address always reads the same whether it came in v1 text or v2 bytes.
 */

/** Longest IPv6 text: eight groups of four digits with seven colons, or six and a dotted quad. */
const IPV6_TEXT_MAX = 45;
const COLON = 0x3a;
const DOT = 0x2e;

/**
 * Writes the four bytes of a dotted quad at `out[offset]`. Exactly four decimal numbers
 * 0–255 separated by single dots, no leading zeros (they would read as octal elsewhere).
 * @returns false, leaving `out` partly written, when `text[start, end)` is not one.
 */
export function parseIPv4Into(
  text: string,
  out: Uint8Array,
  offset = 0,
  start = 0,
  end: number = text.length,
): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const code = i < end ? text.charCodeAt(i) : DOT;
    if (code === DOT) {
      if (digits === 0 || part > 3) return false;
      out[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (code - 0x30);
      digits++;
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** The four bytes of a strict dotted quad, or undefined. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  return parseIPv4Into(text, bytes) ? bytes : undefined;
}

/**
 * Writes the sixteen bytes of an IPv6 address at `out[offset]`: groups of one to four hex
 * digits (either case), at most one `::` standing for one or more zero groups, and optionally
 * a dotted quad for the last 32 bits (`::ffff:192.0.2.1`). No zone (`%eth0`), no brackets.
 * @returns false, leaving `out` partly written, when `text` is not one.
 */
export function parseIPv6Into(text: string, out: Uint8Array, offset = 0): boolean {
  const length = text.length;
  if (length < 2 || length > IPV6_TEXT_MAX) return false;
  const words = scratchWords;
  let count = 0;
  let gap = -1; // index in `words` where the `::` stands
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
    if (i === length) return fill(words, count, gap, out, offset);
  }
  for (;;) {
    // One group, or a dotted quad that ends the address.
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < length) {
      const nibble = hexValue(text.charCodeAt(i));
      if (nibble < 0) break;
      value = (value << 4) | nibble;
      digits++;
      i++;
    }
    if (i < length && text.charCodeAt(i) === DOT) {
      if (count > 6) return false;
      const quad = scratchQuad;
      if (!parseIPv4Into(text, quad, 0, groupStart, length)) return false;
      words[count++] = (quad[0]! << 8) | quad[1]!;
      words[count++] = (quad[2]! << 8) | quad[3]!;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    words[count++] = value;
    if (i === length) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < length && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false; // a second `::`
      gap = count;
      i++;
      if (i === length) break;
    } else if (i === length) {
      return false; // a trailing single colon
    }
  }
  return fill(words, count, gap, out, offset);
}

// Where the parser collects groups: one for the module, so parsing allocates nothing.
const scratchWords = new Uint16Array(8);
const scratchQuad = new Uint8Array(4);

/** The sixteen bytes of an IPv6 address, or undefined. */
export function parseIPv6(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(16);
  return parseIPv6Into(text, bytes) ? bytes : undefined;
}

/** `a.b.c.d` from four bytes at `bytes[offset]`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * The RFC 5952 text of sixteen bytes at `bytes[offset]`: lower case, no leading zeros, the
 * longest run of two or more zero groups (the first of equals) written `::`, and IPv4-mapped
 * addresses as `::ffff:a.b.c.d` (as Node and `inet_ntop` show them).
 */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  if (
    word(bytes, offset, 0) === 0 &&
    word(bytes, offset, 1) === 0 &&
    word(bytes, offset, 2) === 0 &&
    word(bytes, offset, 3) === 0 &&
    word(bytes, offset, 4) === 0 &&
    word(bytes, offset, 5) === 0xffff
  ) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }
  // The longest run of zero groups; a single zero group is not shortened (RFC 5952 4.2.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (word(bytes, offset, i) !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && word(bytes, offset, j) === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && !text.endsWith(':')) text += ':';
    text += word(bytes, offset, i).toString(16);
  }
  return text;
}

/** The `i`th 16-bit group of an address at `bytes[offset]`. */
function word(bytes: Uint8Array, offset: number, i: number): number {
  return (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
}

/** Expands `count` parsed groups around the `::` into 16 bytes; false when the count is wrong. */
function fill(
  words: Uint16Array,
  count: number,
  gap: number,
  out: Uint8Array,
  offset: number,
): boolean {
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  let at = 0;
  for (let i = 0; i < 8; i++) {
    let word = 0;
    if (gap < 0 || i < gap) word = words[at++]!;
    else if (i >= gap + zeros) word = words[at++]!;
    out[offset + 2 * i] = word >>> 8;
    out[offset + 2 * i + 1] = word & 0xff;
  }
  return true;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
