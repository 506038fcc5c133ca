/**
 * Named sizes of UDP, each with its unit and where it comes from.
 */

/** Largest UDP payload over IPv4, in bytes: 65,535 minus the IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_SIZE_IPV4 = 65_507;

/** Largest UDP payload over IPv6 without jumbograms, in bytes: 65,535 minus the UDP header (8). */
export const MAX_DATAGRAM_SIZE_IPV6 = 65_527;
