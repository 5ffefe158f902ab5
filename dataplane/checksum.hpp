#pragma once
// Incremental IPv4 header checksum update (RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m')), for the TTL decrement of a forwarded packet.

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>

namespace l2tp::dp {

// Decrements the TTL of the IPv4 header at ip and patches its checksum.
// The caller has checked TTL > 1. The TTL is the high octet of its 16-bit
// word, so the checksum grows by 0x0100 (RFC 1624 eqn. 3 with m' = m -
// 0x0100), added to the stored octets as they are (a ones'-complement sum
// does not care for byte order) with the end-around carry folded in, and
// 0xFFFF written as 0x0000, as a full recomputation would.
inline void ipv4_decrement_ttl(uint8_t* ip) {
  --ip[8];
  uint16_t stored;
  std::memcpy(&stored, ip + 10, 2);
  const uint32_t sum = uint32_t{stored} + rte_cpu_to_be_16(0x0100);
  stored = static_cast<uint16_t>(sum + (sum >= 0xFFFF));
  std::memcpy(ip + 10, &stored, 2);
}

// RFC 1624 eqn. 3 for one 16-bit word of a checksummed area: the new
// checksum after old_word became new_word.
inline uint16_t checksum_replace16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} + uint16_t(~old_word) + new_word;
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Folds a 32-bit ones'-complement sum and inverts it: the checksum field.
inline uint16_t ipv4_checksum_from_sum(uint32_t sum) {
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace l2tp::dp
