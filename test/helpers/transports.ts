/**
 * The backends a parametrised suite runs against: `net` always, `native` where the addon was
 * built. `nativeSkip` is the reason native-only tests skip elsewhere (for `{ skip }`).
 */
import { nativeUnavailableReason } from '../../src/native/binding.js';

const reason = nativeUnavailableReason();

export const transports: readonly ('net' | 'native')[] =
  reason === undefined ? ['net', 'native'] : ['net'];

/** `false` where the native transport is available, else why native-only tests skip. */
export const nativeSkip: string | false =
  reason === undefined ? false : `native transport not available: ${reason}`;
