#include "shared/hdlc.hpp"

#include <algorithm>
#include <array>

namespace l2tp::wire {

namespace {

// RFC 1662 C.2: the table is the FCS of each single octet, computed bit by
// bit with the reflected polynomial 0x8408. Built at compile time.
constexpr std::array<uint16_t, 256> make_fcs16_table() {
  std::array<uint16_t, 256> table{};
  for (unsigned b = 0; b < 256; ++b) {
    unsigned v = b;
    for (int i = 0; i < 8; ++i) v = (v & 1) ? (v >> 1) ^ 0x8408 : v >> 1;
    table[b] = static_cast<uint16_t>(v);
  }
  return table;
}

constexpr std::array<uint16_t, 256> kFcs16Table = make_fcs16_table();
static_assert(kFcs16Table[1] == 0x1189 && kFcs16Table[255] == 0x0F78,
              "FCS-16 table differs from RFC 1662 C.2 fcstab");

constexpr uint8_t kAddressControl[2] = {kHdlcAddress, kHdlcControl};

// RFC 1662 4.2 and 7.1: flag and escape always, a control character when
// the peer's ACCM asks for it.
inline bool needs_escape(uint8_t c, uint32_t accm) {
  if (c < 0x20) return (accm >> c) & 1u;
  return c == kHdlcFlag || c == kHdlcEscape;
}

}  // namespace

uint16_t fcs16(std::span<const uint8_t> data, uint16_t fcs) {
  for (const uint8_t c : data) fcs = (fcs >> 8) ^ kFcs16Table[(fcs ^ c) & 0xFF];
  return fcs;
}

void hdlc_encode(std::span<const uint8_t> ppp_frame, uint32_t accm,
                 AddressControl address_control, std::vector<uint8_t>& out) {
  // Grow once to the worst case, write through a pointer, trim at the end:
  // one size check per frame instead of one per octet.
  const std::size_t start = out.size();
  out.resize(start + hdlc_max_encoded_size(ppp_frame.size()));
  uint8_t* w = out.data() + start;
  auto put = [&w, accm](uint8_t c) {
    if (needs_escape(c, accm)) {
      *w++ = kHdlcEscape;
      *w++ = c ^ kHdlcEscapeXor;
    } else {
      *w++ = c;
    }
  };

  // RFC 1662 4.1: a flag opens every frame; pppd's own async driver sends
  // one only after idle time, but an extra flag is always legal fill and
  // lets the peer resynchronise after line noise.
  *w++ = kHdlcFlag;
  uint16_t fcs = kFcs16Init;
  if (address_control == AddressControl::kAddAndStrip) {
    fcs = fcs16(kAddressControl, fcs);
    for (const uint8_t c : kAddressControl) put(c);
  }
  fcs = fcs16(ppp_frame, fcs);
  for (const uint8_t c : ppp_frame) put(c);
  // RFC 1662 C.2: transmit the complement, least significant octet first.
  fcs ^= 0xFFFF;
  put(static_cast<uint8_t>(fcs & 0xFF));
  put(static_cast<uint8_t>(fcs >> 8));
  *w++ = kHdlcFlag;
  out.resize(static_cast<std::size_t>(w - out.data()));
}

HdlcDecoder::HdlcDecoder(AddressControl address_control, std::size_t max_frame)
    : max_frame_(std::max(max_frame, kHdlcMinFrame)),
      address_control_(address_control) {
  // The only allocation: after this, push_back never reallocates because
  // buf_.size() never exceeds max_frame_.
  buf_.reserve(max_frame_);
}

HdlcDecoder::Step HdlcDecoder::step(std::span<const uint8_t> in) {
  if (delivered_) {
    buf_.clear();
    delivered_ = false;
  }
  const uint8_t* p = in.data();
  const std::size_t n = in.size();
  std::size_t i = 0;

  if (hunting_) {
    while (i < n && p[i] != kHdlcFlag) ++i;
    counters_.hunt_octets += i;
    if (i == n) return {n, false};
    hunting_ = false;
    ++i;  // this flag opens the first frame
  }

  while (i < n) {
    const uint8_t c = p[i++];
    if (c == kHdlcFlag) {
      // RFC 1662 4.2: a flag ends the frame whatever came before it, even
      // an escape (that is the abort sequence, judged in end_frame).
      if (end_frame()) {
        delivered_ = true;
        return {i, true};
      }
      continue;
    }
    if (overflow_) continue;
    uint8_t v = c;
    if (escaped_) {
      v = c ^ kHdlcEscapeXor;
      escaped_ = false;
    } else if (c == kHdlcEscape) {
      escaped_ = true;
      continue;
    }
    if (buf_.size() == max_frame_) {
      // Count now rather than at the flag, so a stream that never sends
      // another flag still shows why nothing comes out of it.
      ++counters_.too_long;
      overflow_ = true;
      buf_.clear();
      continue;
    }
    buf_.push_back(v);
  }
  return {n, false};
}

bool HdlcDecoder::end_frame() {
  bool good = false;
  if (overflow_) {
    // already counted when it overflowed
  } else if (escaped_) {
    ++counters_.aborted;  // RFC 1662 4.2: 0x7D 0x7E aborts the frame
  } else if (buf_.empty()) {
    // back-to-back flags: inter-frame fill (RFC 1662 4.1), not an error
  } else if (buf_.size() < kHdlcMinFrame) {
    ++counters_.too_short;  // RFC 1662 4.3
  } else if (fcs16(buf_) != kFcs16Good) {
    ++counters_.bad_fcs;  // RFC 1662 4.3: silently discarded, but counted
  } else {
    good = true;
    ++counters_.frames;
    frame_offset_ = 0;
    frame_size_ = buf_.size() - kFcs16Size;
    if (address_control_ == AddressControl::kAddAndStrip && frame_size_ >= 2 &&
        buf_[0] == kHdlcAddress && buf_[1] == kHdlcControl) {
      frame_offset_ = 2;
      frame_size_ -= 2;
    }
  }
  escaped_ = false;
  overflow_ = false;
  if (!good) buf_.clear();
  return good;
}

std::span<const uint8_t> HdlcDecoder::frame() const {
  if (!delivered_) return {};
  return std::span<const uint8_t>(buf_).subspan(frame_offset_, frame_size_);
}

void HdlcDecoder::reset() {
  buf_.clear();
  hunting_ = true;
  escaped_ = false;
  overflow_ = false;
  delivered_ = false;
}

}  // namespace l2tp::wire
