// Async HDLC framing on the pty (RFC 1662 section 4). Golden frames are
// written out byte by byte; the FCS they carry was derived by hand with the
// bit-serial algorithm below, which is independent of the table in hdlc.cpp.

#include "shared/hdlc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace l2tp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

// RFC 1662 C.2, one bit at a time: no table, so it checks the table.
uint16_t bitwise_fcs16(const Bytes& data, uint16_t fcs = 0xFFFF) {
  for (const uint8_t c : data) {
    fcs ^= c;
    for (int i = 0; i < 8; ++i) fcs = (fcs & 1) ? (fcs >> 1) ^ 0x8408 : fcs >> 1;
  }
  return fcs;
}

Bytes encode(const Bytes& frame, uint32_t accm, AddressControl ac) {
  Bytes out;
  hdlc_encode(frame, accm, ac, out);
  return out;
}

struct Collected {
  std::vector<Bytes> frames;
  void operator()(std::span<const uint8_t> f) { frames.emplace_back(f.begin(), f.end()); }
};

std::vector<Bytes> decode_all(HdlcDecoder& dec, const Bytes& stream) {
  Collected c;
  dec.feed(stream, [&c](std::span<const uint8_t> f) { c(f); });
  return c.frames;
}

Bytes random_frame(std::mt19937& rng, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len(2, max_len);
  std::uniform_int_distribution<int> octet(0, 255);
  Bytes f(len(rng));
  for (auto& b : f) b = static_cast<uint8_t>(octet(rng));
  return f;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// RFC 1661 5.1: LCP Configure-Request, Identifier 1, Length 4, no options.
const Bytes kLcpConfReq = {0xC0, 0x21, 0x01, 0x01, 0x00, 0x04};

// RFC 1661 5.1 with options: ACCM 0 (RFC 1662 7.1, type 2) and
// Magic-Number 0x12345678 (RFC 1661 6.4, type 5). Length 14.
const Bytes kLcpConfReqOptions = {0xC0, 0x21, 0x01, 0x01, 0x00, 0x0E,
                                  0x02, 0x06, 0x00, 0x00, 0x00, 0x00,
                                  0x05, 0x06, 0x12, 0x34, 0x56, 0x78};

// ---------------------------------------------------------------- FCS-16

TEST(Hdlc, Fcs16TableMatchesBitwiseForEverySingleOctet) {
  for (int b = 0; b < 256; ++b) {
    const Bytes one = {static_cast<uint8_t>(b)};
    EXPECT_EQ(fcs16(one), bitwise_fcs16(one)) << "octet " << b;
  }
}

TEST(Hdlc, Fcs16OfHandDerivedLcpFrameIsB5D1Complemented) {
  // FF 03 C0 21 01 01 00 04 -> FCS register 0x4A2E, transmitted ~ = 0xB5D1.
  const Bytes f = {0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x04};
  EXPECT_EQ(bitwise_fcs16(f) ^ 0xFFFF, 0xB5D1);
  EXPECT_EQ(fcs16(f) ^ 0xFFFF, 0xB5D1);
}

TEST(Hdlc, Fcs16OverFrameAndItsFcsIsGoodValue) {
  const Bytes f = {0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x04, 0xD1, 0xB5};
  EXPECT_EQ(fcs16(f), kFcs16Good);
  EXPECT_EQ(bitwise_fcs16(f), kFcs16Good);
}

TEST(Hdlc, Fcs16ChainsAcrossSpans) {
  std::mt19937 rng(1);
  const Bytes a = random_frame(rng, 100), b = random_frame(rng, 100);
  EXPECT_EQ(fcs16(b, fcs16(a)), bitwise_fcs16(concat({a, b})));
}

// ---------------------------------------------------------------- encoder

TEST(Hdlc, EncodeLcpConfigureRequestMatchesHandDerivedBytes) {
  // Default ACCM: 03, 01, 00, 04 are control characters, so escaped.
  const Bytes expected = {0x7E, 0xFF, 0x7D, 0x23, 0xC0, 0x21, 0x7D, 0x21, 0x7D,
                          0x21, 0x7D, 0x20, 0x7D, 0x24, 0xD1, 0xB5, 0x7E};
  EXPECT_EQ(encode(kLcpConfReq, kHdlcDefaultAccm, AddressControl::kAddAndStrip), expected);
}

TEST(Hdlc, EncodeLcpConfigureRequestWithOptionsMatchesHandDerivedBytes) {
  // FCS register over FF 03 + frame is 0x650D, transmitted ~ = 0x9AF2: F2 9A.
  const Bytes expected = {
      0x7E, 0xFF, 0x7D, 0x23, 0xC0, 0x21, 0x7D, 0x21, 0x7D, 0x21, 0x7D, 0x20,
      0x7D, 0x2E, 0x7D, 0x22, 0x7D, 0x26, 0x7D, 0x20, 0x7D, 0x20, 0x7D, 0x20,
      0x7D, 0x20, 0x7D, 0x25, 0x7D, 0x26, 0x7D, 0x32, 0x34, 0x56, 0x78, 0xF2,
      0x9A, 0x7E};
  EXPECT_EQ(encode(kLcpConfReqOptions, kHdlcDefaultAccm, AddressControl::kAddAndStrip),
            expected);
}

TEST(Hdlc, EncodeWithZeroAccmLeavesControlCharactersUnescaped) {
  const Bytes expected = {0x7E, 0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01,
                          0x00, 0x04, 0xD1, 0xB5, 0x7E};
  EXPECT_EQ(encode(kLcpConfReq, 0, AddressControl::kAddAndStrip), expected);
}

TEST(Hdlc, EncodeEscapesFlagAndEscapeBytesEvenWithZeroAccm) {
  // IPv4 protocol then 7E 7D 5E: 7E -> 7D 5E, 7D -> 7D 5D, 5E stays.
  const Bytes frame = {0x00, 0x21, 0x7E, 0x7D, 0x5E};
  const Bytes expected = {0x7E, 0xFF, 0x03, 0x00, 0x21, 0x7D, 0x5E, 0x7D,
                          0x5D, 0x5E, 0xC4, 0xF6, 0x7E};
  EXPECT_EQ(encode(frame, 0, AddressControl::kAddAndStrip), expected);
}

TEST(Hdlc, EncodeEscapesOnlyControlCharactersWhoseAccmBitIsSet) {
  // RFC 1662 7.1: ACCM with only XON (0x11) and XOFF (0x13) flagged.
  const uint32_t accm = (1u << 0x11) | (1u << 0x13);
  const Bytes frame = {0x00, 0x21, 0x10, 0x11, 0x12, 0x13, 0x14};
  const Bytes expected = {0x7E, 0xFF, 0x03, 0x00, 0x21, 0x10, 0x7D, 0x31,
                          0x12, 0x7D, 0x33, 0x14, 0x66, 0xB4, 0x7E};
  EXPECT_EQ(encode(frame, accm, AddressControl::kAddAndStrip), expected);
}

TEST(Hdlc, EncodeEscapesFcsOctetThatIsAFlag) {
  // FCS of FF 03 00 21 C9 is transmitted C6 7E: the 7E must be escaped.
  const Bytes frame = {0x00, 0x21, 0xC9};
  const Bytes expected = {0x7E, 0xFF, 0x03, 0x00, 0x21, 0xC9, 0xC6, 0x7D, 0x5E, 0x7E};
  EXPECT_EQ(encode(frame, 0, AddressControl::kAddAndStrip), expected);
}

TEST(Hdlc, EncodeAsIsDoesNotAddAddressControl) {
  const Bytes frame = {0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x04};
  const Bytes expected = {0x7E, 0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01,
                          0x00, 0x04, 0xD1, 0xB5, 0x7E};
  EXPECT_EQ(encode(frame, 0, AddressControl::kAsIs), expected);
}

TEST(Hdlc, EncodeAppendsToExistingOutput) {
  Bytes out = {0xAA, 0xBB};
  hdlc_encode(kLcpConfReq, 0, AddressControl::kAddAndStrip, out);
  hdlc_encode(kLcpConfReq, 0, AddressControl::kAddAndStrip, out);
  const Bytes one = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  EXPECT_EQ(out, concat({{0xAA, 0xBB}, one, one}));
}

TEST(Hdlc, EncodeNeverExceedsMaxEncodedSize) {
  // Frames of only 7E and 7D: every frame octet doubles.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes frame(1 + trial % 40);
    for (auto& b : frame) b = (rng() & 1) ? 0x7E : 0x7D;
    const Bytes out = encode(frame, kHdlcDefaultAccm, AddressControl::kAsIs);
    ASSERT_LE(out.size(), hdlc_max_encoded_size(frame.size()));
    ASSERT_GE(out.size(), 2 + 2 * frame.size() + 2);
  }
}

// ---------------------------------------------------------------- decoder

TEST(Hdlc, DecodeHandDerivedLcpFrameStripsAddressControlAndFcs) {
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const Bytes wire = {0x7E, 0xFF, 0x7D, 0x23, 0xC0, 0x21, 0x7D, 0x21, 0x7D,
                      0x21, 0x7D, 0x20, 0x7D, 0x24, 0xD1, 0xB5, 0x7E};
  const auto frames = decode_all(dec, wire);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], kLcpConfReq);
  EXPECT_EQ(dec.counters().frames, 1u);
}

TEST(Hdlc, DecodeAsIsKeepsAddressControl) {
  HdlcDecoder dec(AddressControl::kAsIs);
  const Bytes wire = {0x7E, 0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01,
                      0x00, 0x04, 0xD1, 0xB5, 0x7E};
  const auto frames = decode_all(dec, wire);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], concat({{0xFF, 0x03}, kLcpConfReq}));
}

TEST(Hdlc, DecodeStripAcceptsFrameWithoutAddressControl) {
  // RFC 1661 6.6: after ACFC pppd may omit FF 03; the frame is still good.
  const Bytes ip = {0x21, 0x45, 0x00, 0x00, 0x14};
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames = decode_all(dec, encode(ip, 0, AddressControl::kAsIs));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], ip);
}

TEST(Hdlc, DecodeStripRemovesOnlyOneAddressControlPair) {
  const Bytes frame = {0xFF, 0x03, 0xC0, 0x21};
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames =
      decode_all(dec, encode(frame, kHdlcDefaultAccm, AddressControl::kAddAndStrip));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], frame);
}

TEST(Hdlc, DecodeUnescapesEscapedFlagWithoutEndingTheFrame) {
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const Bytes wire = {0x7E, 0xFF, 0x03, 0x00, 0x21, 0x7D, 0x5E, 0x7D,
                      0x5D, 0x5E, 0xC4, 0xF6, 0x7E};
  const auto frames = decode_all(dec, wire);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], (Bytes{0x00, 0x21, 0x7E, 0x7D, 0x5E}));
}

TEST(Hdlc, DecodeRoundTripsRandomFramesUnderSeveralAccms) {
  std::mt19937 rng(42);
  const uint32_t accms[] = {0, kHdlcDefaultAccm, 0x000A0000, 0xA5A5A5A5, 0x80000001};
  for (const uint32_t accm : accms) {
    for (const AddressControl ac : {AddressControl::kAsIs, AddressControl::kAddAndStrip}) {
      HdlcDecoder dec(ac);
      std::vector<Bytes> sent;
      Bytes stream;
      for (int i = 0; i < 200; ++i) {
        sent.push_back(random_frame(rng, 1600));
        hdlc_encode(sent.back(), accm, ac, stream);
      }
      // Under the full ACCM no raw control character may reach the wire.
      if (accm == kHdlcDefaultAccm) {
        for (const uint8_t b : stream) ASSERT_GE(b, 0x20);
      }
      EXPECT_EQ(decode_all(dec, stream), sent) << "accm " << std::hex << accm;
      EXPECT_EQ(dec.counters().frames, sent.size());
      EXPECT_EQ(dec.counters().bad_fcs + dec.counters().too_short +
                    dec.counters().too_long + dec.counters().aborted,
                0u);
    }
  }
}

TEST(Hdlc, DecodeFrameSplitAtEveryByteBoundary) {
  const Bytes wire = encode(kLcpConfReqOptions, kHdlcDefaultAccm, AddressControl::kAddAndStrip);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    HdlcDecoder dec(AddressControl::kAddAndStrip);
    Collected c;
    auto sink = [&c](std::span<const uint8_t> f) { c(f); };
    dec.feed(std::span(wire).first(cut), sink);
    dec.feed(std::span(wire).subspan(cut), sink);
    ASSERT_EQ(c.frames.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(c.frames[0], kLcpConfReqOptions) << "cut at " << cut;
  }
}

TEST(Hdlc, DecodeFrameFedOneOctetAtATime) {
  std::mt19937 rng(3);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(random_frame(rng, 300));
    hdlc_encode(sent.back(), kHdlcDefaultAccm, AddressControl::kAsIs, stream);
  }
  HdlcDecoder dec(AddressControl::kAsIs);
  Collected c;
  for (const uint8_t b : stream) {
    dec.feed(std::span(&b, 1), [&c](std::span<const uint8_t> f) { c(f); });
  }
  EXPECT_EQ(c.frames, sent);
}

TEST(Hdlc, DecodeRandomChunkingYieldsSameFrames) {
  std::mt19937 rng(5);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 100; ++i) {
    sent.push_back(random_frame(rng, 700));
    hdlc_encode(sent.back(), 0xA5A5A5A5, AddressControl::kAddAndStrip, stream);
  }
  for (int trial = 0; trial < 20; ++trial) {
    HdlcDecoder dec(AddressControl::kAddAndStrip);
    Collected c;
    std::span<const uint8_t> rest(stream);
    while (!rest.empty()) {
      const std::size_t n = std::min<std::size_t>(rest.size(), 1 + rng() % 2000);
      dec.feed(rest.first(n), [&c](std::span<const uint8_t> f) { c(f); });
      rest = rest.subspan(n);
    }
    ASSERT_EQ(c.frames, sent) << "trial " << trial;
  }
}

TEST(Hdlc, DecodeSeveralFramesInOneRead) {
  const Bytes a = {0xC0, 0x21, 0x09, 0x01, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04};
  const Bytes wire = concat({encode(kLcpConfReq, kHdlcDefaultAccm, AddressControl::kAddAndStrip),
                             encode(a, 0, AddressControl::kAddAndStrip),
                             encode(kLcpConfReqOptions, 0, AddressControl::kAddAndStrip)});
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  EXPECT_EQ(decode_all(dec, wire), (std::vector<Bytes>{kLcpConfReq, a, kLcpConfReqOptions}));
}

TEST(Hdlc, DecodeFramesSharingOneFlag) {
  // RFC 1662 4.1: one flag may both close a frame and open the next.
  Bytes one = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  Bytes two = encode(kLcpConfReqOptions, 0, AddressControl::kAddAndStrip);
  one.pop_back();  // drop the closing flag: two's opening flag closes one
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  EXPECT_EQ(decode_all(dec, concat({one, two})),
            (std::vector<Bytes>{kLcpConfReq, kLcpConfReqOptions}));
}

TEST(Hdlc, DecodeIgnoresRepeatedFlagsWithoutCounting) {
  const Bytes frame = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  const Bytes flags(10, 0x7E);
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames = decode_all(dec, concat({flags, frame, flags, frame, flags}));
  EXPECT_EQ(frames, (std::vector<Bytes>{kLcpConfReq, kLcpConfReq}));
  const HdlcCounters& n = dec.counters();
  EXPECT_EQ(n.frames, 2u);
  EXPECT_EQ(n.bad_fcs + n.too_short + n.too_long + n.aborted + n.hunt_octets, 0u);
}

TEST(Hdlc, DecodeSkipsOctetsBeforeFirstFlag) {
  // The tail of a frame we joined mid-way, then a whole frame.
  const Bytes tail = {0x21, 0x01, 0x7D, 0x23, 0x44};
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames =
      decode_all(dec, concat({tail, encode(kLcpConfReq, 0, AddressControl::kAddAndStrip)}));
  EXPECT_EQ(frames, std::vector<Bytes>{kLcpConfReq});
  EXPECT_EQ(dec.counters().hunt_octets, tail.size());
  EXPECT_EQ(dec.counters().bad_fcs, 0u);
}

TEST(Hdlc, DecodeGarbageBetweenFramesIsCountedAndFramesSurvive) {
  const Bytes frame = encode(kLcpConfReqOptions, kHdlcDefaultAccm, AddressControl::kAddAndStrip);
  const Bytes garbage = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7E};
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames = decode_all(dec, concat({frame, garbage, frame}));
  EXPECT_EQ(frames, (std::vector<Bytes>{kLcpConfReqOptions, kLcpConfReqOptions}));
  EXPECT_EQ(dec.counters().bad_fcs, 1u);
}

TEST(Hdlc, DecodeCountsBadFcs) {
  Bytes wire = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  wire[4] ^= 0x01;  // protocol C0 21 -> C0 20
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  EXPECT_TRUE(decode_all(dec, wire).empty());
  EXPECT_EQ(dec.counters().bad_fcs, 1u);
  EXPECT_EQ(dec.counters().frames, 0u);
}

TEST(Hdlc, DecodeCountsFramesShorterThanFourOctets) {
  // RFC 1662 4.3: 1, 2 and 3 octets between flags; 3 with an escape.
  const Bytes wire = {0x7E, 0x01, 0x7E, 0x01, 0x02, 0x7E, 0x01, 0x7D, 0x5E, 0x03, 0x7E};
  HdlcDecoder dec(AddressControl::kAsIs);
  EXPECT_TRUE(decode_all(dec, wire).empty());
  EXPECT_EQ(dec.counters().too_short, 3u);
  EXPECT_EQ(dec.counters().bad_fcs, 0u);
}

TEST(Hdlc, DecodeCountsAbortSequence) {
  // RFC 1662 4.2: 0x7D immediately before a flag aborts the frame.
  Bytes aborted = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  aborted.pop_back();
  aborted.push_back(0x7D);
  aborted.push_back(0x7E);
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  const auto frames =
      decode_all(dec, concat({aborted, encode(kLcpConfReq, 0, AddressControl::kAddAndStrip)}));
  EXPECT_EQ(frames, std::vector<Bytes>{kLcpConfReq});
  EXPECT_EQ(dec.counters().aborted, 1u);
  EXPECT_EQ(dec.counters().bad_fcs, 0u);
}

TEST(Hdlc, DecodeCountsAbortSequenceSplitAcrossReads) {
  HdlcDecoder dec(AddressControl::kAsIs);
  const Bytes first = {0x7E, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7D};
  const Bytes second = {0x7E};
  EXPECT_TRUE(decode_all(dec, first).empty());
  EXPECT_TRUE(decode_all(dec, second).empty());
  EXPECT_EQ(dec.counters().aborted, 1u);
}

TEST(Hdlc, DecodeCountsTooLongAndRecoversAtNextFlag) {
  HdlcDecoder dec(AddressControl::kAsIs, 64);
  const Bytes big(200, 0x41);
  const Bytes small = {0x00, 0x21, 0x45};
  const Bytes wire = concat({encode(big, 0, AddressControl::kAsIs),
                             encode(small, 0, AddressControl::kAsIs)});
  EXPECT_EQ(decode_all(dec, wire), std::vector<Bytes>{small});
  EXPECT_EQ(dec.counters().too_long, 1u);
  EXPECT_EQ(dec.counters().bad_fcs, 0u);
}

TEST(Hdlc, DecodeCountsTooLongOnceForAnEndlessFrame) {
  HdlcDecoder dec(AddressControl::kAsIs, 64);
  const Bytes start = {0x7E};
  const Bytes noise(1000, 0x41);
  EXPECT_TRUE(decode_all(dec, start).empty());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(decode_all(dec, noise).empty());
  EXPECT_EQ(dec.counters().too_long, 1u);
}

TEST(Hdlc, DecodeAcceptsFrameOfExactlyMaxSize) {
  // max_frame bounds the unescaped octets including FCS.
  const std::size_t max = 64;
  const Bytes fits(max - kFcs16Size, 0x7E);
  const Bytes over(max - kFcs16Size + 1, 0x7E);
  HdlcDecoder dec(AddressControl::kAsIs, max);
  const auto frames = decode_all(dec, concat({encode(fits, 0, AddressControl::kAsIs),
                                              encode(over, 0, AddressControl::kAsIs)}));
  EXPECT_EQ(frames, std::vector<Bytes>{fits});
  EXPECT_EQ(dec.counters().too_long, 1u);
}

TEST(Hdlc, DecodeStepStopsAfterEachGoodFrame) {
  const Bytes wire = concat({encode(kLcpConfReq, 0, AddressControl::kAddAndStrip),
                             encode(kLcpConfReqOptions, 0, AddressControl::kAddAndStrip)});
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  std::span<const uint8_t> rest(wire);
  auto s = dec.step(rest);
  ASSERT_TRUE(s.frame_ready);
  EXPECT_EQ(Bytes(dec.frame().begin(), dec.frame().end()), kLcpConfReq);
  rest = rest.subspan(s.consumed);
  s = dec.step(rest);
  ASSERT_TRUE(s.frame_ready);
  EXPECT_EQ(Bytes(dec.frame().begin(), dec.frame().end()), kLcpConfReqOptions);
  EXPECT_EQ(s.consumed, rest.size());
  s = dec.step({});
  EXPECT_FALSE(s.frame_ready);
  EXPECT_TRUE(dec.frame().empty());
}

TEST(Hdlc, DecodeResetDropsPartialFrameAndHuntsAgain) {
  const Bytes wire = encode(kLcpConfReq, 0, AddressControl::kAddAndStrip);
  HdlcDecoder dec(AddressControl::kAddAndStrip);
  EXPECT_TRUE(decode_all(dec, Bytes(wire.begin(), wire.begin() + 5)).empty());
  dec.reset();
  // The rest of the old frame is skipped while hunting, then a whole frame.
  const Bytes rest(wire.begin() + 5, wire.end() - 1);
  EXPECT_EQ(decode_all(dec, concat({rest, wire})), std::vector<Bytes>{kLcpConfReq});
  EXPECT_EQ(dec.counters().hunt_octets, rest.size());
  EXPECT_EQ(dec.counters().bad_fcs, 0u);
}

TEST(Hdlc, DecodeRandomNoiseNeverDeliversBadFrames) {
  // Anything delivered from noise must at least carry a valid FCS, and every
  // frame that ended is accounted for exactly once.
  std::mt19937 rng(9);
  HdlcDecoder dec(AddressControl::kAsIs, 256);
  Bytes noise(1 << 16);
  for (auto& b : noise) {
    const auto r = rng() % 16;
    b = r == 0 ? 0x7E : r == 1 ? 0x7D : static_cast<uint8_t>(rng());
  }
  std::size_t delivered = 0;
  dec.feed(noise, [&](std::span<const uint8_t> f) {
    ++delivered;
    EXPECT_LE(f.size() + kFcs16Size, 256u);
  });
  EXPECT_EQ(delivered, dec.counters().frames);
  EXPECT_GT(dec.counters().bad_fcs + dec.counters().too_short + dec.counters().aborted, 0u);
}

TEST(Hdlc, DecoderClampsMaxFrameToMinimumFrame) {
  HdlcDecoder dec(AddressControl::kAsIs, 0);
  EXPECT_EQ(dec.max_frame(), kHdlcMinFrame);
  const Bytes two = {0x00, 0x21};
  EXPECT_EQ(decode_all(dec, encode(two, 0, AddressControl::kAsIs)), std::vector<Bytes>{two});
}

}  // namespace
}  // namespace l2tp::wire
