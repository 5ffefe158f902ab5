// The L2TPv2 header codec (RFC 2661 3.1). Golden packets are written out byte
// by byte; the three "xl2tpd" ones are copied from tests/captures (xl2tpd
// 1.3.18 on both ends): a ZLB acknowledgement, a kernel-mode data packet (no
// Length, no sequence) and a userspace data packet (Length present).

#include "shared/header.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace l2tp::wire {
namespace {

using ::testing::ElementsAreArray;
using Bytes = std::vector<uint8_t>;

// Flag bits that RFC 2661 3.1 marks "x": reserved, ignored on receipt.
constexpr uint16_t kReservedFlags = 0x34F0;

Bytes encode(const Header& h, size_t payload_len) {
  Bytes out(encoded_header_size(h));
  auto n = encode_header(h, payload_len, out);
  EXPECT_TRUE(n) << n.error().to_string();
  if (n) {
    EXPECT_EQ(*n, out.size());
  }
  return out;
}

// A datagram of exactly `n` heap bytes, so that ASan sees any read past it.
Result<Header> decode_exact(const Bytes& d, size_t n) {
  std::vector<uint8_t> copy(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
  copy.shrink_to_fit();
  return decode_header(copy);
}

// ---------------------------------------------------------------- golden packets

// xl2tpd-basic.pcap frame 4: ZLB from the LNS, tunnel 0x816b, Ns 1, Nr 2.
const Bytes kXl2tpdZlb = {0xc8, 0x02, 0x00, 0x0c, 0x81, 0x6b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02};

// xl2tpd-basic.pcap frame 10: kernel-mode data (no L, no S), LCP CONFREQ.
const Bytes kXl2tpdKernelData = {0x00, 0x02, 0x81, 0x6b, 0x43, 0xe0, 0xff, 0x03, 0xc0,
                                 0x21, 0x01, 0x01, 0x00, 0x10, 0x02, 0x06, 0x00, 0x00,
                                 0x00, 0x00, 0x05, 0x06, 0xe0, 0x26, 0x90, 0x54};

// xl2tpd-user.pcap frame 10: userspace data with Length 0x20, LCP CONFREQ.
const Bytes kXl2tpdUserData = {0x40, 0x02, 0x00, 0x20, 0x37, 0x95, 0x7b, 0xdb, 0xff, 0x03, 0xc0,
                               0x21, 0x01, 0x01, 0x00, 0x14, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00,
                               0x05, 0x06, 0xc9, 0xf8, 0xe3, 0x2f, 0x07, 0x02, 0x08, 0x02};

TEST(Header, DecodesXl2tpdZlbGoldenBytes) {
  auto h = decode_header(kXl2tpdZlb);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_TRUE(h->control);
  EXPECT_TRUE(h->has_length);
  EXPECT_TRUE(h->has_sequence);
  EXPECT_FALSE(h->has_offset);
  EXPECT_FALSE(h->priority);
  EXPECT_EQ(h->length, 12);
  EXPECT_EQ(h->tunnel_id, 0x816b);
  EXPECT_EQ(h->session_id, 0);
  EXPECT_EQ(h->ns, 1);
  EXPECT_EQ(h->nr, 2);
  EXPECT_EQ(h->header_len, 12);
  EXPECT_EQ(h->message_len, 12u);
}

TEST(Header, EncodeOfControlHeaderGivesXl2tpdZlbBytes) {
  EXPECT_THAT(encode(control_header(0x816b, 0, 1, 2), 0), ElementsAreArray(kXl2tpdZlb));
}

TEST(Header, DecodesXl2tpdKernelModeDataHeaderWithoutLengthOrSequence) {
  auto h = decode_header(kXl2tpdKernelData);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_FALSE(h->control);
  EXPECT_FALSE(h->has_length);
  EXPECT_FALSE(h->has_sequence);
  EXPECT_FALSE(h->has_offset);
  EXPECT_EQ(h->tunnel_id, 0x816b);
  EXPECT_EQ(h->session_id, 0x43e0);
  EXPECT_EQ(h->header_len, 6);
  // No Length field: the payload runs to the end of the datagram.
  EXPECT_EQ(h->message_len, kXl2tpdKernelData.size());
}

TEST(Header, EncodeOfKernelModeDataHeaderGivesXl2tpdBytes) {
  Header h;
  h.tunnel_id = 0x816b;
  h.session_id = 0x43e0;
  EXPECT_THAT(encode(h, 20), ElementsAreArray({0x00, 0x02, 0x81, 0x6b, 0x43, 0xe0}));
}

TEST(Header, DecodesXl2tpdUserspaceDataHeaderWithLength) {
  auto h = decode_header(kXl2tpdUserData);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_FALSE(h->control);
  EXPECT_TRUE(h->has_length);
  EXPECT_FALSE(h->has_sequence);
  EXPECT_EQ(h->length, 0x20);
  EXPECT_EQ(h->tunnel_id, 0x3795);
  EXPECT_EQ(h->session_id, 0x7bdb);
  EXPECT_EQ(h->header_len, 8);
  EXPECT_EQ(h->message_len, 0x20u);
}

TEST(Header, EncodeOfUserspaceDataHeaderComputesXl2tpdLength) {
  Header h;
  h.has_length = true;
  h.tunnel_id = 0x3795;
  h.session_id = 0x7bdb;
  // 24 octets of PPP after the 8-octet header: Length 0x20.
  EXPECT_THAT(encode(h, 24), ElementsAreArray({0x40, 0x02, 0x00, 0x20, 0x37, 0x95, 0x7b, 0xdb}));
}

TEST(Header, ControlHeaderSetsTypeLengthAndSequenceOnly) {
  const Header h = control_header(0x1234, 0x5678, 7, 9);
  EXPECT_TRUE(h.control);
  EXPECT_TRUE(h.has_length);
  EXPECT_TRUE(h.has_sequence);
  EXPECT_FALSE(h.has_offset);
  EXPECT_FALSE(h.priority);
  EXPECT_EQ(h.tunnel_id, 0x1234);
  EXPECT_EQ(h.session_id, 0x5678);
  EXPECT_EQ(h.ns, 7);
  EXPECT_EQ(h.nr, 9);
  EXPECT_EQ(encoded_header_size(h), kControlHeaderSize);
}

// ---------------------------------------------------------------- flags

struct FlagCase {
  bool t, l, s, o, p;
  uint16_t bits() const {
    return static_cast<uint16_t>(kVersion2 | (t ? kFlagType : 0) | (l ? kFlagLength : 0) |
                                 (s ? kFlagSequence : 0) | (o ? kFlagOffset : 0) |
                                 (p ? kFlagPriority : 0));
  }
};

// A datagram with every field its flags announce (offset size 3, pad 3) and
// a 5-octet payload.
Bytes datagram_for(const FlagCase& f) {
  Bytes d = {static_cast<uint8_t>(f.bits() >> 8), static_cast<uint8_t>(f.bits())};
  const size_t hlen = 6 + (f.l ? 2 : 0) + (f.s ? 4 : 0) + (f.o ? 2 + 3 : 0);
  const size_t total = hlen + 5;
  if (f.l) d.insert(d.end(), {0x00, static_cast<uint8_t>(total)});
  d.insert(d.end(), {0xAB, 0xCD, 0x12, 0x34});
  if (f.s) d.insert(d.end(), {0x00, 0x05, 0x00, 0x06});
  if (f.o) d.insert(d.end(), {0x00, 0x03, 0xEE, 0xEE, 0xEE});
  d.insert(d.end(), {1, 2, 3, 4, 5});
  return d;
}

TEST(Header, DecodeReportsEveryCombinationOfTLSOPFlags) {
  for (int bits = 0; bits < 32; ++bits) {
    const FlagCase f{bool(bits & 16), bool(bits & 8), bool(bits & 4), bool(bits & 2), bool(bits & 1)};
    SCOPED_TRACE(::testing::Message() << "flags 0x" << std::hex << f.bits());
    const Bytes d = datagram_for(f);
    auto h = decode_header(d);
    if (f.t && (!f.l || !f.s)) {
      // RFC 2661 3.1: L and S MUST be 1 on control messages.
      ASSERT_FALSE(h);
      EXPECT_EQ(h.error().code, Errc::kBadFlags);
      continue;
    }
    ASSERT_TRUE(h) << h.error().to_string();
    EXPECT_EQ(h->control, f.t);
    EXPECT_EQ(h->has_length, f.l);
    EXPECT_EQ(h->has_sequence, f.s);
    EXPECT_EQ(h->has_offset, f.o);
    EXPECT_EQ(h->priority, f.p);
    EXPECT_EQ(h->tunnel_id, 0xABCD);
    EXPECT_EQ(h->session_id, 0x1234);
    EXPECT_EQ(h->ns, f.s ? 5 : 0);
    EXPECT_EQ(h->nr, f.s ? 6 : 0);
    EXPECT_EQ(h->offset_size, f.o ? 3 : 0);
    EXPECT_EQ(h->length, f.l ? d.size() : 0u);
    EXPECT_EQ(h->header_len, d.size() - 5);
    EXPECT_EQ(h->message_len, d.size());
  }
}

TEST(Header, EncodeWritesExactlyTheFlagsOfEveryCombination) {
  for (int bits = 0; bits < 32; ++bits) {
    const FlagCase f{bool(bits & 16), bool(bits & 8), bool(bits & 4), bool(bits & 2), bool(bits & 1)};
    Header h;
    h.control = f.t;
    h.has_length = f.l;
    h.has_sequence = f.s;
    h.has_offset = f.o;
    h.priority = f.p;
    const Bytes out = encode(h, 0);
    ASSERT_GE(out.size(), 2u);
    EXPECT_EQ((out[0] << 8) | out[1], f.bits()) << "case " << bits;
  }
}

TEST(Header, DecodeRejectsControlMessageWithoutLengthBitAsBadFlags) {
  // T and S, no L: c8 02 minus 0x40.
  const Bytes d = {0x88, 0x02, 0x81, 0x6b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadFlags);
  EXPECT_STREQ(h.error().field, "L bit");
}

TEST(Header, DecodeRejectsControlMessageWithoutSequenceBitAsBadFlags) {
  const Bytes d = {0xc0, 0x02, 0x00, 0x08, 0x81, 0x6b, 0x00, 0x00};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadFlags);
  EXPECT_STREQ(h.error().field, "S bit");
}

TEST(Header, DecodeIgnoresReservedFlagBits) {
  // RFC 2661 3.1: "ignored on incoming messages".
  Bytes d = kXl2tpdZlb;
  d[0] |= kReservedFlags >> 8;
  d[1] |= kReservedFlags & 0xFF;
  auto h = decode_header(d);
  ASSERT_TRUE(h) << h.error().to_string();
  auto want = decode_header(kXl2tpdZlb);
  ASSERT_TRUE(want);
  EXPECT_EQ(*h, *want);
}

TEST(Header, EncodeNeverSetsReservedFlagBits) {
  Header h = control_header(1, 2, 3, 4);
  h.has_offset = h.priority = true;
  const Bytes out = encode(h, 0);
  EXPECT_EQ(((out[0] << 8) | out[1]) & kReservedFlags, 0);
}

// ---------------------------------------------------------------- version

Result<Header> decode_with_version(uint16_t version) {
  Bytes d = kXl2tpdZlb;
  d[1] = static_cast<uint8_t>((d[1] & 0xF0) | version);
  return decode_header(d);
}

TEST(Header, DecodeRejectsVersion1AsBadVersion) {
  // Version 1 is reserved to detect L2F packets (RFC 2661 3.1).
  auto h = decode_with_version(1);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadVersion);
  EXPECT_EQ(h.error().value, 1u);
}

TEST(Header, DecodeRejectsVersion3AsBadVersion) {
  // L2TPv3 over UDP shares port 1701.
  auto h = decode_with_version(3);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadVersion);
  EXPECT_EQ(h.error().value, 3u);
}

TEST(Header, DecodeRejectsVersion15AsBadVersion) {
  auto h = decode_with_version(15);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadVersion);
  EXPECT_EQ(h.error().value, 15u);
}

TEST(Header, DecodeRejectsEveryVersionOtherThan2WithTheVersionInValue) {
  for (uint16_t v = 0; v < 16; ++v) {
    auto h = decode_with_version(v);
    if (v == 2) {
      EXPECT_TRUE(h);
      continue;
    }
    ASSERT_FALSE(h) << "version " << v;
    EXPECT_EQ(h.error().code, Errc::kBadVersion);
    EXPECT_EQ(h.error().value, v);
  }
}

TEST(Header, BadVersionIsReportedBeforeBadFlags) {
  // A two-octet L2TPv3-looking control header without L or S: the version
  // decides (discard silently) before any flag rule of version 2 applies.
  const Bytes d = {0x80, 0x03};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadVersion);
  EXPECT_EQ(h.error().value, 3u);
}

// ---------------------------------------------------------------- Length

TEST(Header, DecodeIgnoresBytesPastLength) {
  // Ethernet pads short frames: those octets are not part of the message.
  Bytes d = kXl2tpdZlb;
  d.insert(d.end(), {0, 0, 0, 0, 0, 0});
  auto h = decode_header(d);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->length, 12);
  EXPECT_EQ(h->message_len, 12u);
  EXPECT_EQ(h->header_len, 12);
}

TEST(Header, DecodeOfUserDataWithTrailingPaddingStopsPayloadAtLength) {
  Bytes d = kXl2tpdUserData;
  d.insert(d.end(), 10, 0xAA);
  auto h = decode_header(d);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->message_len, 0x20u);
}

TEST(Header, DecodeRejectsLengthBeyondDatagramAsBadLength) {
  Bytes d = kXl2tpdZlb;
  d[3] = 13;
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadLength);
  EXPECT_EQ(h.error().value, 13u);
  EXPECT_EQ(h.error().offset, 2u);
}

TEST(Header, DecodeRejectsLengthShorterThanHeaderAsBadLength) {
  for (uint8_t len : {0, 1, 6, 11}) {
    Bytes d = kXl2tpdZlb;
    d[3] = len;
    auto h = decode_header(d);
    ASSERT_FALSE(h) << "Length " << int{len};
    EXPECT_EQ(h.error().code, Errc::kBadLength);
    EXPECT_EQ(h.error().value, len);
  }
}

TEST(Header, DecodeAcceptsLengthEqualToHeader) {
  auto h = decode_header(kXl2tpdZlb);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->header_len, h->message_len);
}

TEST(Header, DecodeRejectsDataLengthShorterThanItsHeaderAsBadLength) {
  Bytes d = kXl2tpdUserData;
  d[3] = 7;  // the header alone is 8
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadLength);
}

// ---------------------------------------------------------------- offset

TEST(Header, DecodeSkipsOffsetPaddingInHeaderLen) {
  // O set, Offset Size 4, pad DE AD BE EF, payload 21 45.
  const Bytes d = {0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04,
                   0xde, 0xad, 0xbe, 0xef, 0x21, 0x45};
  auto h = decode_header(d);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_TRUE(h->has_offset);
  EXPECT_EQ(h->offset_size, 4);
  EXPECT_EQ(h->header_len, 12);
  EXPECT_EQ(h->message_len, 14u);
}

TEST(Header, DecodeOfOffsetSizeZeroEndsHeaderAfterTheField) {
  const Bytes d = {0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x21};
  auto h = decode_header(d);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->offset_size, 0);
  EXPECT_EQ(h->header_len, 8);
}

TEST(Header, DecodeOfOffsetPaddingFillingTheMessageLeavesEmptyPayload) {
  const Bytes d = {0x42, 0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00};
  auto h = decode_header(d);
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->header_len, 12);
  EXPECT_EQ(h->message_len, 12u);
}

TEST(Header, DecodeRejectsOffsetPaddingPastLengthAsBadLength) {
  // Length 12 but header (10) + pad (4) = 14; the datagram itself is long enough.
  const Bytes d = {0x42, 0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x02,
                   0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadLength);
  EXPECT_STREQ(h.error().field, "Offset Size");
  EXPECT_EQ(h.error().value, 4u);
}

TEST(Header, DecodeRejectsOffsetPaddingPastDatagramAsBadLength) {
  const Bytes d = {0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0xff, 0xff, 0x00, 0x00};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kBadLength);
  EXPECT_STREQ(h.error().field, "Offset Size");
  EXPECT_EQ(h.error().value, 0xFFFFu);
}

TEST(Header, HeaderLenCoversOffsetPaddingEvenInDatagramsBeyond64KiB) {
  // No L bit, so nothing bounds the datagram to 16 bits; Offset Size 0xFFFF
  // puts the payload at 8 + 65535 = 65543, which uint16_t header_len cannot
  // hold. Either decode refuses it or header_len must say 65543, never a
  // wrapped value that points back into the header.
  Bytes d(8 + 0xFFFF + 4, 0);
  const Bytes start = {0x02, 0x02, 0x00, 0x01, 0x00, 0x02, 0xff, 0xff};
  std::copy(start.begin(), start.end(), d.begin());
  auto h = decode_header(d);
  if (!h) {
    EXPECT_EQ(h.error().code, Errc::kBadLength);
    return;
  }
  EXPECT_EQ(size_t{h->header_len}, size_t{8} + 0xFFFF) << "header_len wrapped around";
  EXPECT_LE(size_t{h->header_len}, size_t{h->message_len});
}

TEST(Header, EncodeWritesOffsetSizeAndZeroPad) {
  Header h;
  h.has_offset = true;
  h.offset_size = 3;
  h.tunnel_id = 0x0102;
  h.session_id = 0x0304;
  Bytes out(encoded_header_size(h), 0xFF);  // pad must be cleared, not left
  auto n = encode_header(h, 0, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 11u);
  EXPECT_THAT(out, ElementsAreArray({0x02, 0x02, 0x01, 0x02, 0x03, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00}));
}

TEST(Header, EncodedHeaderSizeCountsEveryOptionalFieldAndPad) {
  Header h;
  EXPECT_EQ(encoded_header_size(h), 6u);
  h.has_length = true;
  EXPECT_EQ(encoded_header_size(h), 8u);
  h.has_sequence = true;
  EXPECT_EQ(encoded_header_size(h), 12u);
  h.has_offset = true;
  EXPECT_EQ(encoded_header_size(h), 14u);
  EXPECT_EQ(encoded_header_size(h), kMaxHeaderSize);
  h.offset_size = 10;
  EXPECT_EQ(encoded_header_size(h), 24u);
  h.has_offset = false;  // Offset Size ignored without O
  EXPECT_EQ(encoded_header_size(h), 12u);
}

TEST(Header, EncodeLengthIncludesOffsetPadAndPayload) {
  Header h;
  h.has_length = h.has_offset = true;
  h.offset_size = 2;
  Bytes out(encoded_header_size(h));
  ASSERT_TRUE(encode_header(h, 100, out));
  EXPECT_EQ((out[2] << 8) | out[3], 12 + 100);
}

// ---------------------------------------------------------------- truncation

TEST(Header, DecodeOfEmptyDatagramIsTruncated) {
  auto h = decode_header({});
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kTruncated);
}

TEST(Header, DecodeOfOneOctetIsTruncated) {
  const Bytes d = {0xc8};
  auto h = decode_header(d);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::kTruncated);
}

TEST(Header, EveryPrefixCuttingAFixedFieldIsTruncated) {
  // For each valid flag combination, cut the datagram at every byte boundary
  // inside the fields the flags announce (before any offset pad).
  for (int bits = 0; bits < 32; ++bits) {
    const FlagCase f{bool(bits & 16), bool(bits & 8), bool(bits & 4), bool(bits & 2), bool(bits & 1)};
    if (f.t && (!f.l || !f.s)) continue;
    const Bytes d = datagram_for(f);
    const size_t fixed = 6 + (f.l ? 2 : 0) + (f.s ? 4 : 0) + (f.o ? 2 : 0);
    for (size_t n = 0; n < fixed; ++n) {
      auto h = decode_exact(d, n);
      ASSERT_FALSE(h) << "flags case " << bits << ", " << n << " octets";
      EXPECT_EQ(h.error().code, Errc::kTruncated) << "flags case " << bits << ", " << n << " octets";
    }
  }
}

TEST(Header, EveryPrefixOfAFullHeaderFailsWithoutCrashing) {
  // T L S O P all present with padding and a payload: every cut is an error
  // (kTruncated inside the fixed fields, kBadLength once Length or the pad
  // cannot be satisfied), never a read past the end.
  for (const Bytes& d : {datagram_for({true, true, true, true, true}),
                         datagram_for({false, true, true, true, true}),
                         datagram_for({false, false, true, true, true})}) {
    for (size_t n = 0; n < d.size(); ++n) {
      auto h = decode_exact(d, n);
      if (d[0] & 0x40) {
        ASSERT_FALSE(h) << n;  // Length says more than n octets
      } else if (!h) {
        EXPECT_TRUE(h.error().code == Errc::kTruncated || h.error().code == Errc::kBadLength) << n;
      } else {
        EXPECT_LE(size_t{h->header_len}, n);
        EXPECT_EQ(h->message_len, n);
      }
    }
  }
}

TEST(Header, TruncatedErrorNamesTheFieldThatDoesNotFit) {
  auto at = [](size_t n) { return decode_exact(kXl2tpdZlb, n); };
  EXPECT_STREQ(at(3).error().field, "Length");
  EXPECT_STREQ(at(7).error().field, "Tunnel ID/Session ID");
  EXPECT_STREQ(at(11).error().field, "Ns/Nr");
  EXPECT_EQ(at(11).error().offset, 8u);
}

// ---------------------------------------------------------------- encoder errors

TEST(Header, EncodeReturnsNoSpaceWhenOutputIsSmallerThanTheHeader) {
  Header h = control_header(1, 2, 3, 4);
  for (size_t size = 0; size < kControlHeaderSize; ++size) {
    Bytes out(size);
    auto n = encode_header(h, 0, out);
    ASSERT_FALSE(n) << size;
    EXPECT_EQ(n.error().code, Errc::kNoSpace);
  }
}

TEST(Header, EncodeReturnsNoSpaceWhenOffsetPadDoesNotFit) {
  Header h;
  h.has_offset = true;
  h.offset_size = 8;
  Bytes out(encoded_header_size(h) - 1);
  auto n = encode_header(h, 0, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, Errc::kNoSpace);
}

TEST(Header, EncodeRejectsLengthAbove65535AsBadLength) {
  Header h = control_header(1, 2, 3, 4);
  Bytes out(kControlHeaderSize);
  EXPECT_TRUE(encode_header(h, 0xFFFF - kControlHeaderSize, out));
  auto n = encode_header(h, 0xFFFF - kControlHeaderSize + 1, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, Errc::kBadLength);
}

TEST(Header, EncodeWithoutLengthAcceptsAnyPayloadSize) {
  Header h;
  Bytes out(6);
  EXPECT_TRUE(encode_header(h, 100000, out));
}

// ---------------------------------------------------------------- round trip

TEST(Header, RandomHeadersRoundTripThroughEncodeAndDecode) {
  std::mt19937 rng(2661);
  std::uniform_int_distribution<int> bit(0, 1);
  std::uniform_int_distribution<uint32_t> u16(0, 0xFFFF);
  std::uniform_int_distribution<size_t> small(0, 40);
  for (int i = 0; i < 2000; ++i) {
    Header h;
    h.control = bit(rng);
    h.has_length = h.control || bit(rng);
    h.has_sequence = h.control || bit(rng);
    h.has_offset = bit(rng);
    h.priority = bit(rng);
    h.tunnel_id = static_cast<uint16_t>(u16(rng));
    h.session_id = static_cast<uint16_t>(u16(rng));
    if (h.has_sequence) {
      h.ns = static_cast<uint16_t>(u16(rng));
      h.nr = static_cast<uint16_t>(u16(rng));
    }
    if (h.has_offset) h.offset_size = static_cast<uint16_t>(small(rng));
    const size_t payload = small(rng);
    const size_t hlen = encoded_header_size(h);

    Bytes d(hlen + payload, 0x5A);
    auto n = encode_header(h, payload, d);
    ASSERT_TRUE(n) << n.error().to_string();
    ASSERT_EQ(*n, hlen);
    // Without L, trailing link-layer octets would be taken as payload, so
    // only add them when Length bounds the message.
    if (h.has_length) d.insert(d.end(), small(rng) % 8, 0);

    auto back = decode_header(d);
    ASSERT_TRUE(back) << back.error().to_string() << " case " << i;
    Header want = h;
    want.length = h.has_length ? static_cast<uint16_t>(hlen + payload) : 0;
    want.header_len = static_cast<uint16_t>(hlen);
    want.message_len = static_cast<uint32_t>(hlen + payload);
    EXPECT_EQ(*back, want) << "case " << i;
  }
}

}  // namespace
}  // namespace l2tp::wire
