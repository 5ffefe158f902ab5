#pragma once
// PPP in HDLC-like framing, asynchronous (octet-stuffed) variant, RFC 1662
// section 4: the byte stream on the pseudo-tty between us and pppd.
//
// L2TP carries bare PPP frames (RFC 2661 5.2: no flags, no FCS, no
// transparency; FF 03 as the PPP peer sent it); pppd on a pty reads and writes
// async HDLC. This file converts between the two, both directions. It is
// control-path code (the pty lives on the control thread), but it still never
// allocates per frame once its buffers have grown, never reads out of bounds
// and never aborts on any input.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace l2tp::wire {

// RFC 1662 4.2: flag sequence, control escape and the value XORed into an
// escaped octet.
inline constexpr uint8_t kHdlcFlag = 0x7E;
inline constexpr uint8_t kHdlcEscape = 0x7D;
inline constexpr uint8_t kHdlcEscapeXor = 0x20;

// RFC 1662 3.1: All-Stations address and Unnumbered Information control.
inline constexpr uint8_t kHdlcAddress = 0xFF;
inline constexpr uint8_t kHdlcControl = 0x03;

// RFC 1662 7.1: until LCP has negotiated an ACCM, every control character
// (0x00-0x1F) is escaped. This is the right ACCM for writing to pppd's pty,
// since we do not see what pppd and the remote peer negotiate.
inline constexpr uint32_t kHdlcDefaultAccm = 0xFFFFFFFF;

// RFC 1662 appendix C.2: FCS-16 initial value, and the value the FCS of a
// frame plus its own transmitted FCS always comes to.
inline constexpr uint16_t kFcs16Init = 0xFFFF;
inline constexpr uint16_t kFcs16Good = 0xF0B8;
inline constexpr std::size_t kFcs16Size = 2;

// RFC 1662 4.3: with the 16-bit FCS, a frame shorter than 4 octets (address,
// control, FCS) between flags is invalid.
inline constexpr std::size_t kHdlcMinFrame = 4;

// Default bound on one unescaped frame (address/control, PPP frame, FCS):
// an MRU of 1500 plus ample headroom for peers that negotiate more.
inline constexpr std::size_t kHdlcDefaultMaxFrame = 4096;

// FCS-16 of `data` continuing from `fcs` (RFC 1662 C.2: polynomial
// x^16 + x^12 + x^5 + 1, bit-reflected 0x8408, table driven). Chains:
// fcs16(b, fcs16(a)) == fcs16(a ++ b). The transmitted FCS is the one's
// complement of the result, least significant octet first.
uint16_t fcs16(std::span<const uint8_t> data, uint16_t fcs = kFcs16Init);

// How the address and control fields (FF 03) are handled at the boundary.
// Over L2TP the frame keeps whatever FF 03 the PPP peer put in it: pppd and
// the Linux kernel send FF 03 (tests/captures), and drop it only once ACFC
// is negotiated (RFC 1661 6.6), which a peer without ACFC would not accept.
// So a pty bridge that must not change frames uses kAsIs; kAddAndStrip is
// for a caller that holds frames without FF 03 (a built-in PPP handler).
enum class AddressControl : uint8_t {
  kAsIs,         // frame bytes pass unchanged; the caller owns FF 03
  kAddAndStrip,  // encoder prepends FF 03; decoder strips one leading FF 03
                 // when present (pppd omits it once ACFC is negotiated,
                 // RFC 1661 6.6, so its absence is not an error)
};

// Largest output hdlc_encode can append for a frame of `frame_size` octets:
// two flags, and every other octet (FF 03, frame, FCS) escaped.
constexpr std::size_t hdlc_max_encoded_size(std::size_t frame_size) {
  return 2 + 2 * (2 + frame_size + kFcs16Size);
}

// Appends to `out` one async HDLC frame (RFC 1662 4.1, 4.2): opening flag,
// [FF 03,] `ppp_frame` and its FCS with 0x7D and 0x7E always escaped and each
// octet below 0x20 escaped when its bit in `accm` is set (RFC 1662 7.1: bit n
// stands for octet n), closing flag. Existing contents of `out` are kept; it
// grows at most by hdlc_max_encoded_size(ppp_frame.size()).
void hdlc_encode(std::span<const uint8_t> ppp_frame, uint32_t accm,
                 AddressControl address_control, std::vector<uint8_t>& out);

// Every frame the decoder saw ends in exactly one of these (empty frames,
// i.e. back-to-back flags, are inter-frame fill and counted nowhere).
struct HdlcCounters {
  uint64_t frames = 0;        // good frames delivered
  uint64_t bad_fcs = 0;       // FCS check failed (RFC 1662 4.3: discard)
  uint64_t too_short = 0;     // fewer than 4 octets after unescaping
  uint64_t too_long = 0;      // exceeded max_frame; rest skipped to a flag
  uint64_t aborted = 0;       // 0x7D right before a flag (RFC 1662 4.2)
  uint64_t hunt_octets = 0;   // octets skipped before the first flag
};

// Streaming decoder for octets read from the pty. Feed it whatever read()
// returned: frames split across reads, several frames per read, repeated
// flags and garbage between frames are all fine. Memory is bounded by
// max_frame, reserved once at construction.
//
// It starts by hunting for a flag: octets before the first flag may be the
// tail of a frame that began before we opened the pty, so they are skipped.
//
// RFC 1662 7.1 also lets a receiver delete unescaped control characters that
// its ACCM flags (inserted by DCE); nothing sits between pppd and us that
// could insert them, and pppd's transmit ACCM is what the remote peer
// negotiated, which we do not see, so every unescaped octet is data here.
class HdlcDecoder {
 public:
  explicit HdlcDecoder(AddressControl address_control,
                       std::size_t max_frame = kHdlcDefaultMaxFrame);

  struct Step {
    std::size_t consumed;  // octets of the input used
    bool frame_ready;      // frame() holds a good frame
  };

  // Decodes from `in` until one good frame completes or `in` is used up.
  // When frame_ready, frame() is valid until the next call to step(),
  // feed() or reset().
  Step step(std::span<const uint8_t> in);

  // The last good frame: FCS removed, and FF 03 removed under kAddAndStrip.
  // May be empty (a frame of only FF 03 and FCS under kAddAndStrip).
  std::span<const uint8_t> frame() const;

  // Calls on_frame(std::span<const uint8_t>) for each good frame in `in`,
  // in order. The span is valid only during the call.
  template <class OnFrame>
  void feed(std::span<const uint8_t> in, OnFrame&& on_frame) {
    while (!in.empty()) {
      const Step s = step(in);
      in = in.subspan(s.consumed);
      if (s.frame_ready) on_frame(frame());
    }
  }

  // Drops any partial frame and hunts for a flag again (the pty was
  // reopened, pppd restarted). Counters are kept.
  void reset();

  const HdlcCounters& counters() const { return counters_; }
  std::size_t max_frame() const { return max_frame_; }

 private:
  // Closes the frame in buf_ at a flag; true when it is good.
  bool end_frame();

  std::vector<uint8_t> buf_;  // unescaped octets of the current frame;
                              // invariant: size() <= max_frame_
  std::size_t max_frame_;
  std::size_t frame_offset_ = 0;  // start of frame() in buf_ (FF 03 skip)
  std::size_t frame_size_ = 0;
  AddressControl address_control_;
  bool hunting_ = true;    // before the first flag: skip octets
  bool escaped_ = false;   // the previous octet was 0x7D
  bool overflow_ = false;  // frame exceeded max_frame_: skip to next flag
  bool delivered_ = false; // buf_ holds the frame last returned: clear first
  HdlcCounters counters_;
};

}  // namespace l2tp::wire
