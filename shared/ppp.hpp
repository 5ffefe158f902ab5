#pragma once
// The PPP frame an L2TP data message carries (RFC 2661 5.2: HDLC-less; the
// address/control field FF 03 may be present or compressed away, and the
// protocol field may be one octet under Protocol-Field-Compression, RFC 1661
// 6.5/6.6).

#include <cstdint>
#include <span>

#include "shared/result.hpp"

namespace l2tp::wire {

namespace ppp {
inline constexpr uint16_t kIpv4 = 0x0021;
inline constexpr uint16_t kIpv6 = 0x0057;
inline constexpr uint16_t kIpcp = 0x8021;
inline constexpr uint16_t kIpv6cp = 0x8057;
inline constexpr uint16_t kCcp = 0x80FD;
inline constexpr uint16_t kLcp = 0xC021;
inline constexpr uint16_t kPap = 0xC023;
inline constexpr uint16_t kChap = 0xC223;
inline constexpr uint16_t kEap = 0xC227;
}  // namespace ppp

struct PppFrame {
  bool address_control = false;  // FF 03 was present
  uint16_t protocol = 0;
  std::span<const uint8_t> information;  // after the protocol field
};

// kTruncated when no protocol fits, kBadValue when the protocol field is not
// a valid PPP protocol number (RFC 1661 2: low bit of the last octet set, of
// the first octet clear).
Result<PppFrame> parse_ppp(std::span<const uint8_t> payload);

// "LCP", "IPCP", "IPv4"..., or nullptr for a protocol without a name here.
const char* ppp_protocol_name(uint16_t protocol);

// Network-layer control protocols and link-layer protocols (0x8000 and up,
// RFC 1661 2) go to pppd; network-layer data (below 0x8000) may take the
// fast path.
inline bool ppp_is_control(uint16_t protocol) { return protocol >= 0x8000; }

}  // namespace l2tp::wire
