#pragma once
// The AVP wire format (RFC 2661 4.1):
//
//   |M|H| rsvd  |      Length       |           Vendor ID           |
//   |         Attribute Type        |        Attribute Value...
//
// This layer only frames AVPs; typed values and message rules live in
// message.hpp.

#include <cstdint>
#include <span>
#include <vector>

#include "shared/result.hpp"

namespace l2tp::wire {

inline constexpr uint16_t kAvpFlagMandatory = 0x8000;
inline constexpr uint16_t kAvpFlagHidden = 0x4000;
inline constexpr uint16_t kAvpReservedMask = 0x3C00;
inline constexpr uint16_t kAvpLengthMask = 0x03FF;

struct RawAvp {
  bool mandatory = false;
  bool hidden = false;
  uint8_t reserved = 0;          // the four reserved bits; 4.1: MUST be 0
  uint16_t length = 0;           // whole AVP, header included
  uint16_t vendor_id = 0;        // 0: IETF
  uint16_t type = 0;
  std::span<const uint8_t> value;  // as on the wire (still encrypted when hidden)
  uint32_t offset = 0;             // of the AVP within the buffer being read
};

// Walks the AVPs of a control message body (the bytes after the header).
class AvpReader {
 public:
  explicit AvpReader(std::span<const uint8_t> body, uint32_t base_offset = 0)
      : body_(body), base_(base_offset) {}
  bool at_end() const { return pos_ >= body_.size(); }
  // The next AVP. kTruncated when fewer than 6 octets or fewer than Length
  // octets remain, kBadAvpLength when Length < 6. After an error, at_end().
  Result<RawAvp> next();

 private:
  std::span<const uint8_t> body_;
  size_t pos_ = 0;
  uint32_t base_ = 0;
};

// Appends one AVP. The value must fit the 10-bit length (checked by callers
// through encode_message; asserted here in debug builds).
void put_avp(std::vector<uint8_t>& out, uint16_t vendor_id, uint16_t type, bool mandatory,
             bool hidden, std::span<const uint8_t> value);

}  // namespace l2tp::wire
