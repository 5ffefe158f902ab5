#include "shared/header.hpp"

#include <algorithm>

#include "shared/bytes.hpp"

namespace l2tp::wire {

Result<Header> decode_header(std::span<const uint8_t> d) {
  if (d.size() < 2) return Error{Errc::kTruncated, "flags", static_cast<uint32_t>(d.size()), 0};
  const uint16_t flags = load_be16(d.data());
  const uint16_t version = flags & kVersionMask;
  if (version != kVersion2) return Error{Errc::kBadVersion, "version", version, 0};

  Header h;
  h.control = flags & kFlagType;
  h.has_length = flags & kFlagLength;
  h.has_sequence = flags & kFlagSequence;
  h.has_offset = flags & kFlagOffset;
  h.priority = flags & kFlagPriority;
  // RFC 2661 3.1: L and S MUST be set on control messages.
  if (h.control && !h.has_length) return Error{Errc::kBadFlags, "L bit", flags, 0};
  if (h.control && !h.has_sequence) return Error{Errc::kBadFlags, "S bit", flags, 0};

  size_t pos = 2;
  auto truncated = [&](const char* field) {
    return Error{Errc::kTruncated, field, static_cast<uint32_t>(d.size()), static_cast<uint32_t>(pos)};
  };
  if (h.has_length) {
    if (d.size() - pos < 2) return truncated("Length");
    h.length = load_be16(d.data() + pos);
    pos += 2;
  }
  if (d.size() - pos < 4) return truncated("Tunnel ID/Session ID");
  h.tunnel_id = load_be16(d.data() + pos);
  h.session_id = load_be16(d.data() + pos + 2);
  pos += 4;
  if (h.has_sequence) {
    if (d.size() - pos < 4) return truncated("Ns/Nr");
    h.ns = load_be16(d.data() + pos);
    h.nr = load_be16(d.data() + pos + 2);
    pos += 4;
  }
  if (h.has_offset) {
    if (d.size() - pos < 2) return truncated("Offset Size");
    h.offset_size = load_be16(d.data() + pos);
    pos += 2;
  }

  size_t end = d.size();
  if (h.has_length) {
    if (h.length > d.size() || h.length < pos) return Error{Errc::kBadLength, "Length", h.length, 2};
    end = h.length;
  }
  // The second test keeps header_len within 16 bits for spans longer than
  // any UDP payload (no Length field to bound them).
  if (end - pos < h.offset_size || pos + h.offset_size > 0xFFFF)
    return Error{Errc::kBadLength, "Offset Size", h.offset_size, static_cast<uint32_t>(pos - 2)};
  h.header_len = static_cast<uint16_t>(pos + h.offset_size);
  h.message_len = static_cast<uint32_t>(end);
  return h;
}

size_t encoded_header_size(const Header& h) {
  return 6 + (h.has_length ? 2 : 0) + (h.has_sequence ? 4 : 0) +
         (h.has_offset ? 2 + size_t{h.offset_size} : 0);
}

Result<size_t> encode_header(const Header& h, size_t payload_len, std::span<uint8_t> out) {
  const size_t hlen = encoded_header_size(h);
  if (out.size() < hlen) return Error{Errc::kNoSpace, "header", static_cast<uint32_t>(hlen), 0};
  if (h.has_length && hlen + payload_len > 0xFFFF)
    return Error{Errc::kBadLength, "Length", static_cast<uint32_t>(hlen + payload_len), 0};
  uint16_t flags = kVersion2;
  if (h.control) flags |= kFlagType;
  if (h.has_length) flags |= kFlagLength;
  if (h.has_sequence) flags |= kFlagSequence;
  if (h.has_offset) flags |= kFlagOffset;
  if (h.priority) flags |= kFlagPriority;
  uint8_t* p = out.data();
  store_be16(p, flags);
  p += 2;
  if (h.has_length) {
    store_be16(p, static_cast<uint16_t>(hlen + payload_len));
    p += 2;
  }
  store_be16(p, h.tunnel_id);
  store_be16(p + 2, h.session_id);
  p += 4;
  if (h.has_sequence) {
    store_be16(p, h.ns);
    store_be16(p + 2, h.nr);
    p += 4;
  }
  if (h.has_offset) {
    store_be16(p, h.offset_size);
    p += 2;
    std::fill_n(p, h.offset_size, uint8_t{0});
  }
  return hlen;
}

Header control_header(uint16_t tunnel_id, uint16_t session_id, uint16_t ns, uint16_t nr) {
  Header h;
  h.control = h.has_length = h.has_sequence = true;
  h.tunnel_id = tunnel_id;
  h.session_id = session_id;
  h.ns = ns;
  h.nr = nr;
  return h;
}

}  // namespace l2tp::wire
