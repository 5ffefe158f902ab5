// libFuzzer target for the async HDLC decoder (shared/hdlc.hpp).
//
// The whole input is the pty byte stream. It is decoded twice: in one piece,
// and in chunks whose sizes come from the stream itself (the octet at the
// start of each chunk), as reads from a pty would split it. Invariants, any
// violation traps:
//   - chunking changes nothing: same frames, same counters;
//   - every delivered frame respects max_frame and is counted;
//   - re-encoding a delivered frame (full ACCM and empty ACCM) and decoding
//     it again gives back exactly that frame and nothing else.
// The first octet also picks the decoder's configuration, so the fuzzer
// reaches both address/control modes and a small max_frame.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "shared/hdlc.hpp"

using l2tp::wire::AddressControl;
using l2tp::wire::HdlcCounters;
using l2tp::wire::HdlcDecoder;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same_counters(const HdlcCounters& a, const HdlcCounters& b) {
  return a.frames == b.frames && a.bad_fcs == b.bad_fcs && a.too_short == b.too_short &&
         a.too_long == b.too_long && a.aborted == b.aborted && a.hunt_octets == b.hunt_octets;
}

// Frames concatenated, each preceded by its length, so two lists compare
// with one memcmp and without a vector of vectors.
void append_frame(std::vector<uint8_t>& all, std::span<const uint8_t> f) {
  const std::size_t n = f.size();
  all.push_back(static_cast<uint8_t>(n));
  all.push_back(static_cast<uint8_t>(n >> 8));
  all.insert(all.end(), f.begin(), f.end());
}

void check_reencodes(std::span<const uint8_t> frame, AddressControl ac, uint32_t accm) {
  std::vector<uint8_t> wire;
  l2tp::wire::hdlc_encode(frame, accm, ac, wire);
  check(wire.size() <= l2tp::wire::hdlc_max_encoded_size(frame.size()));
  HdlcDecoder again(ac);
  std::size_t n = 0;
  again.feed(wire, [&](std::span<const uint8_t> f) {
    ++n;
    check(f.size() == frame.size() &&
          (f.empty() || std::memcmp(f.data(), frame.data(), f.size()) == 0));
  });
  const HdlcCounters& c = again.counters();
  check(n == 1 && c.frames == 1 && c.bad_fcs == 0 && c.too_short == 0 && c.too_long == 0 &&
        c.aborted == 0 && c.hunt_octets == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> in(data, size);
  const AddressControl ac = (data[0] & 1) ? AddressControl::kAddAndStrip : AddressControl::kAsIs;
  const std::size_t max_frame = (data[0] & 0x80) ? 24 : l2tp::wire::kHdlcDefaultMaxFrame;

  std::vector<uint8_t> whole_frames;
  HdlcDecoder whole(ac, max_frame);
  whole.feed(in, [&](std::span<const uint8_t> f) {
    check(f.size() + l2tp::wire::kFcs16Size <= max_frame);
    append_frame(whole_frames, f);
    check_reencodes(f, ac, l2tp::wire::kHdlcDefaultAccm);
    check_reencodes(f, ac, 0);
  });
  check(whole.counters().hunt_octets <= size);

  std::vector<uint8_t> chunked_frames;
  HdlcDecoder chunked(ac, max_frame);
  std::size_t frames = 0;
  std::span<const uint8_t> rest = in;
  while (!rest.empty()) {
    const std::size_t n = std::min<std::size_t>(rest.size(), 1 + rest[0] % 64);
    chunked.feed(rest.first(n), [&](std::span<const uint8_t> f) {
      ++frames;
      append_frame(chunked_frames, f);
    });
    rest = rest.subspan(n);
  }
  check(frames == chunked.counters().frames);
  check(same_counters(whole.counters(), chunked.counters()));
  check(whole_frames == chunked_frames);
  return 0;
}
