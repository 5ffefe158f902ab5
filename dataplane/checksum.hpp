#pragma once
// Incremental IPv4 header checksum update (RFC 1624 eqn. 3:
// HC' = ~(~HC + ~m + m')), for the TTL decrement of a forwarded packet.

#include <cstdint>

namespace l2tp::dp {

// Decrements the TTL of the IPv4 header at ip and patches its checksum.
// The caller has checked TTL > 1.
inline void ipv4_decrement_ttl(uint8_t* ip) {
  const uint16_t old_word = static_cast<uint16_t>((ip[8] << 8) | ip[9]);  // TTL, protocol
  ip[8] = static_cast<uint8_t>(ip[8] - 1);
  const uint16_t new_word = static_cast<uint16_t>((ip[8] << 8) | ip[9]);
  const uint16_t old_sum = static_cast<uint16_t>((ip[10] << 8) | ip[11]);
  uint32_t sum = uint32_t{static_cast<uint16_t>(~old_sum)} + uint16_t(~old_word) + new_word;
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  const uint16_t new_sum = static_cast<uint16_t>(~sum);
  ip[10] = static_cast<uint8_t>(new_sum >> 8);
  ip[11] = static_cast<uint8_t>(new_sum);
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
