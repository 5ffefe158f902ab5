#pragma once
// The L2TPv2 header (RFC 2661 3.1):
//
//   |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
//   |           Tunnel ID           |           Session ID          |
//   |             Ns (opt)          |             Nr (opt)          |
//   |      Offset Size (opt)        |    Offset pad... (opt)
//
// All IDs and sequence numbers are in host byte order in Header.

#include <cstdint>
#include <span>

#include "shared/result.hpp"

namespace l2tp::wire {

inline constexpr uint16_t kFlagType = 0x8000;      // T: control message
inline constexpr uint16_t kFlagLength = 0x4000;    // L: Length present
inline constexpr uint16_t kFlagSequence = 0x0800;  // S: Ns/Nr present
inline constexpr uint16_t kFlagOffset = 0x0200;    // O: Offset Size present
inline constexpr uint16_t kFlagPriority = 0x0100;  // P: data, preferential treatment
inline constexpr uint16_t kVersionMask = 0x000F;
inline constexpr uint16_t kVersion2 = 2;
inline constexpr uint16_t kL2tpPort = 1701;
// Flags, Length, Tunnel ID, Session ID, Ns, Nr: what every control message has.
inline constexpr size_t kControlHeaderSize = 12;
inline constexpr size_t kMaxHeaderSize = 14;  // without offset padding

struct Header {
  bool control = false;
  bool has_length = false;
  bool has_sequence = false;
  bool has_offset = false;
  bool priority = false;
  uint16_t length = 0;  // Length field: the whole message, header included
  uint16_t tunnel_id = 0;
  uint16_t session_id = 0;
  uint16_t ns = 0;
  uint16_t nr = 0;
  uint16_t offset_size = 0;  // pad octets after the Offset Size field
  // Decoded: bytes from the start of the message to the payload (offset pad
  // included). The payload ends at `length` when has_length, else at the end
  // of the datagram.
  uint16_t header_len = 0;
  uint32_t message_len = 0;  // decoded: header + payload actually covered

  bool operator==(const Header&) const = default;
};

// Decodes the header of one datagram. Errors:
// - kBadVersion (value = version): RFC 2661 3.1 says discard silently; the
//   caller counts it and answers nothing (version 3 is L2TPv3 on port 1701).
// - kBadFlags: a control message without L or S (3.1: both MUST be 1).
// - kTruncated / kBadLength: the datagram is shorter than the header or than
//   the Length field says, or Length is shorter than the header.
// Bytes past Length (link-layer padding) are not part of the message.
Result<Header> decode_header(std::span<const uint8_t> datagram);

// Size encode_header will write for h (offset pad included).
size_t encoded_header_size(const Header& h);

// Writes h into out, computing Length (when has_length) as header plus
// payload_len. Reserved bits are 0 (3.1); offset pad octets are 0. Returns the
// number of bytes written, or kNoSpace/kBadLength.
Result<size_t> encode_header(const Header& h, size_t payload_len, std::span<uint8_t> out);

// The header a control message carries (T, L and S set, as every peer sends).
Header control_header(uint16_t tunnel_id, uint16_t session_id, uint16_t ns, uint16_t nr);

// Sequence number order modulo 2^16 (5.8, and 5.4 for data messages): a
// precedes b when it lies in the 32767 values before b.
inline bool seq_before(uint16_t a, uint16_t b) { return static_cast<int16_t>(a - b) < 0; }

}  // namespace l2tp::wire
