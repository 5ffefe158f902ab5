#include "shared/avp.hpp"

#include <cassert>

#include "shared/avp_table.hpp"
#include "shared/bytes.hpp"

namespace l2tp::wire {

Result<RawAvp> AvpReader::next() {
  const size_t left = body_.size() - pos_;
  const uint32_t at = base_ + static_cast<uint32_t>(pos_);
  if (left < kAvpHeaderSize) {
    pos_ = body_.size();
    return Error{Errc::kTruncated, "AVP header", static_cast<uint32_t>(left), at};
  }
  const uint8_t* p = body_.data() + pos_;
  const uint16_t flags_len = load_be16(p);
  RawAvp a;
  a.mandatory = flags_len & kAvpFlagMandatory;
  a.hidden = flags_len & kAvpFlagHidden;
  a.reserved = static_cast<uint8_t>((flags_len & kAvpReservedMask) >> 10);
  a.length = flags_len & kAvpLengthMask;
  a.vendor_id = load_be16(p + 2);
  a.type = load_be16(p + 4);
  a.offset = at;
  if (a.length < kAvpHeaderSize) {
    pos_ = body_.size();
    return Error{Errc::kBadAvpLength, "AVP Length", a.length, at, a.type};
  }
  if (a.length > left) {
    pos_ = body_.size();
    return Error{Errc::kTruncated, "AVP Length", a.length, at, a.type};
  }
  a.value = body_.subspan(pos_ + kAvpHeaderSize, a.length - kAvpHeaderSize);
  pos_ += a.length;
  return a;
}

void put_avp(std::vector<uint8_t>& out, uint16_t vendor_id, uint16_t type, bool mandatory,
             bool hidden, std::span<const uint8_t> value) {
  assert(value.size() + kAvpHeaderSize <= kAvpMaxLength);
  uint16_t flags_len = static_cast<uint16_t>((kAvpHeaderSize + value.size()) & kAvpLengthMask);
  if (mandatory) flags_len |= kAvpFlagMandatory;
  if (hidden) flags_len |= kAvpFlagHidden;
  ByteWriter w(out);
  w.u16(flags_len);
  w.u16(vendor_id);
  w.u16(type);
  w.bytes(value);
}

}  // namespace l2tp::wire
