// AVP framing (RFC 2661 4.1), the AVP table of 4.4 and the message type
// names of 3.2, the PPP frame parser (RFC 1661 2, 6.5, 6.6) and the hex
// helpers. The expectations are written from the RFC text, not read back
// from the table they check.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "shared/avp.hpp"
#include "shared/avp_table.hpp"
#include "shared/bytes.hpp"
#include "shared/ppp.hpp"

namespace l2tp::wire {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using Bytes = std::vector<uint8_t>;

Bytes bytes_of(std::span<const uint8_t> s) { return Bytes(s.begin(), s.end()); }

// An exact-size heap copy, so that ASan catches any read past the end.
Bytes exact(const Bytes& b, size_t n) {
  Bytes c(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
  c.shrink_to_fit();
  return c;
}

// ---------------------------------------------------------------- AvpReader

// Message Type SCCRQ, Host Name "lac-a" (M), Firmware Revision 0x0690 (no M).
const Bytes kThreeAvps = {0x80, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,              //
                          0x80, 0x0b, 0x00, 0x00, 0x00, 0x07, 'l', 'a', 'c', '-', 'a',  //
                          0x00, 0x08, 0x00, 0x00, 0x00, 0x06, 0x06, 0x90};

TEST(AvpReader, ReadsAWellFormedSequenceInOrder) {
  AvpReader r(kThreeAvps);
  ASSERT_FALSE(r.at_end());

  auto a = r.next();
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_TRUE(a->mandatory);
  EXPECT_FALSE(a->hidden);
  EXPECT_EQ(a->reserved, 0);
  EXPECT_EQ(a->length, 8);
  EXPECT_EQ(a->vendor_id, 0);
  EXPECT_EQ(a->type, 0);
  EXPECT_THAT(bytes_of(a->value), ElementsAre(0x00, 0x01));
  EXPECT_EQ(a->offset, 0u);

  auto b = r.next();
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->mandatory);
  EXPECT_EQ(b->length, 11);
  EXPECT_EQ(b->type, 7);
  EXPECT_EQ(std::string(b->value.begin(), b->value.end()), "lac-a");
  EXPECT_EQ(b->offset, 8u);

  auto c = r.next();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->mandatory);
  EXPECT_EQ(c->type, 6);
  EXPECT_THAT(bytes_of(c->value), ElementsAre(0x06, 0x90));
  EXPECT_EQ(c->offset, 19u);

  EXPECT_TRUE(r.at_end());
}

TEST(AvpReader, ValuesPointIntoTheBodyWithoutCopying) {
  AvpReader r(kThreeAvps);
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value.data(), kThreeAvps.data() + 6);
}

TEST(AvpReader, EmptyBodyIsAtEnd) {
  AvpReader r({});
  EXPECT_TRUE(r.at_end());
}

TEST(AvpReader, OffsetsCountFromTheBaseOffset) {
  AvpReader r(kThreeAvps, 12);
  EXPECT_EQ(r.next()->offset, 12u);
  EXPECT_EQ(r.next()->offset, 20u);
  EXPECT_EQ(r.next()->offset, 31u);
}

TEST(AvpReader, AvpOfLengthSixHasAnEmptyValue) {
  // Sequencing Required: the header alone.
  const Bytes d = {0x80, 0x06, 0x00, 0x00, 0x00, 0x27};
  AvpReader r(d);
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, 39);
  EXPECT_TRUE(a->value.empty());
  EXPECT_TRUE(r.at_end());
}

TEST(AvpReader, LengthBelowSixIsBadAvpLength) {
  for (uint8_t len = 0; len < 6; ++len) {
    const Bytes d = {0x80, len, 0x00, 0x00, 0x00, 0x09, 0x15, 0x63};
    AvpReader r(d, 4);
    auto a = r.next();
    ASSERT_FALSE(a) << "length " << int{len};
    EXPECT_EQ(a.error().code, Errc::kBadAvpLength);
    EXPECT_EQ(a.error().value, len);
    EXPECT_EQ(a.error().avp_type, 9);
    EXPECT_EQ(a.error().offset, 4u);
    // No way to resynchronise: the reader stops.
    EXPECT_TRUE(r.at_end());
  }
}

TEST(AvpReader, LengthBeyondTheBufferIsTruncated) {
  const Bytes d = exact({0x80, 0x09, 0x00, 0x00, 0x00, 0x09, 0x15, 0x63}, 8);
  AvpReader r(d);
  auto a = r.next();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kTruncated);
  EXPECT_EQ(a.error().value, 9u);
  EXPECT_EQ(a.error().avp_type, 9);
  EXPECT_TRUE(r.at_end());
}

TEST(AvpReader, LengthOfSecondAvpBeyondTheBufferIsTruncatedAtItsOffset) {
  Bytes d = kThreeAvps;
  d[19] = 0x03;  // Firmware Revision length 0x308
  AvpReader r(d);
  ASSERT_TRUE(r.next());
  ASSERT_TRUE(r.next());
  auto c = r.next();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kTruncated);
  EXPECT_EQ(c.error().offset, 19u);
}

TEST(AvpReader, TrailingOneToFiveOctetsAreTruncated) {
  for (size_t extra = 1; extra <= 5; ++extra) {
    Bytes d = kThreeAvps;
    d.insert(d.end(), extra, 0x80);
    d = exact(d, d.size());
    AvpReader r(d);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(r.next());
    ASSERT_FALSE(r.at_end());
    auto t = r.next();
    ASSERT_FALSE(t) << extra << " trailing octets";
    EXPECT_EQ(t.error().code, Errc::kTruncated);
    EXPECT_EQ(t.error().value, extra);
    EXPECT_EQ(t.error().offset, kThreeAvps.size());
    EXPECT_TRUE(r.at_end());
  }
}

TEST(AvpReader, EveryPrefixOfASequenceReadsOrFailsWithoutCrashing) {
  for (size_t n = 0; n <= kThreeAvps.size(); ++n) {
    const Bytes d = exact(kThreeAvps, n);
    AvpReader r(d);
    int guard = 0;
    while (!r.at_end() && guard++ < 10) {
      auto a = r.next();
      if (!a) {
        EXPECT_EQ(a.error().code, Errc::kTruncated) << n;
        EXPECT_TRUE(r.at_end());
      }
    }
    EXPECT_LT(guard, 10);
  }
}

TEST(AvpReader, ReportsEachReservedBit) {
  for (int bit = 0; bit < 4; ++bit) {
    const uint8_t hi = static_cast<uint8_t>(0x80 | (0x04 << bit));
    const Bytes d = {hi, 0x08, 0x00, 0x00, 0x00, 0x09, 0x15, 0x63};
    AvpReader r(d);
    auto a = r.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->reserved, 1 << bit);
    EXPECT_TRUE(a->mandatory);
    EXPECT_FALSE(a->hidden);
    EXPECT_EQ(a->length, 8);  // the reserved bits are not part of Length
  }
}

TEST(AvpReader, ReportsMandatoryAndHiddenBits) {
  const std::pair<uint8_t, std::pair<bool, bool>> cases[] = {
      {0x00, {false, false}}, {0x80, {true, false}}, {0x40, {false, true}}, {0xC0, {true, true}}};
  for (const auto& [hi, mh] : cases) {
    const Bytes d = {hi, 0x08, 0x00, 0x00, 0x00, 0x09, 0x15, 0x63};
    AvpReader r(d);
    auto a = r.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->mandatory, mh.first);
    EXPECT_EQ(a->hidden, mh.second);
    EXPECT_EQ(a->reserved, 0);
  }
}

TEST(AvpReader, ReportsVendorId) {
  // Vendor 9 (Cisco), type 1, four octets.
  const Bytes d = {0x00, 0x0a, 0x00, 0x09, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef};
  AvpReader r(d);
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->vendor_id, 9);
  EXPECT_EQ(a->type, 1);
  EXPECT_THAT(bytes_of(a->value), ElementsAre(0xde, 0xad, 0xbe, 0xef));
}

TEST(AvpReader, ReadsTheLargestLengthTheTenBitFieldAllows) {
  Bytes d = {0x03, 0xff, 0x00, 0x00, 0x00, 0x08};
  d.resize(1023, 'x');
  AvpReader r(d);
  auto a = r.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->length, 1023);
  EXPECT_EQ(a->value.size(), 1017u);
  EXPECT_TRUE(r.at_end());
}

// ---------------------------------------------------------------- put_avp

TEST(PutAvp, WritesAssignedTunnelIdGoldenBytes) {
  Bytes out;
  const uint8_t v[] = {0x15, 0x63};
  put_avp(out, 0, 9, true, false, v);
  EXPECT_THAT(out, ElementsAre(0x80, 0x08, 0x00, 0x00, 0x00, 0x09, 0x15, 0x63));
}

TEST(PutAvp, WritesFirmwareRevisionWithMClear) {
  Bytes out;
  const uint8_t v[] = {0x06, 0x90};
  put_avp(out, 0, 6, false, false, v);
  EXPECT_THAT(out, ElementsAre(0x00, 0x08, 0x00, 0x00, 0x00, 0x06, 0x06, 0x90));
}

TEST(PutAvp, WritesHiddenBitWithMandatory) {
  Bytes out;
  const uint8_t v[] = {1, 2, 3, 4};
  put_avp(out, 0, 14, true, true, v);
  EXPECT_THAT(out, ElementsAre(0xC0, 0x0a, 0x00, 0x00, 0x00, 0x0e, 1, 2, 3, 4));
}

TEST(PutAvp, WritesVendorIdAndEmptyValue) {
  Bytes out;
  put_avp(out, 0x0137, 0x0102, false, false, {});
  EXPECT_THAT(out, ElementsAre(0x00, 0x06, 0x01, 0x37, 0x01, 0x02));
}

TEST(PutAvp, AppendsAfterExistingBytes) {
  Bytes out = {0xAA};
  put_avp(out, 0, 39, true, false, {});
  EXPECT_THAT(out, ElementsAre(0xAA, 0x80, 0x06, 0x00, 0x00, 0x00, 0x27));
}

TEST(PutAvp, WritesTheLargestTenBitLength) {
  Bytes out;
  const Bytes v(1017, 'x');
  put_avp(out, 0, 7, true, false, v);
  ASSERT_EQ(out.size(), 1023u);
  EXPECT_EQ(out[0], 0x83);
  EXPECT_EQ(out[1], 0xff);
}

TEST(PutAvp, OutputReadsBackThroughAvpReader) {
  Bytes out;
  const Bytes v = {'h', 'i'};
  put_avp(out, 0, 7, true, false, v);
  put_avp(out, 9, 300, false, true, v);
  AvpReader r(out);
  auto a = r.next();
  auto b = r.next();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->type, 7);
  EXPECT_TRUE(a->mandatory);
  EXPECT_EQ(b->vendor_id, 9);
  EXPECT_EQ(b->type, 300);
  EXPECT_FALSE(b->mandatory);
  EXPECT_TRUE(b->hidden);
  EXPECT_EQ(bytes_of(b->value), v);
  EXPECT_TRUE(r.at_end());
}

// ---------------------------------------------------------------- avp_spec

TEST(AvpTable, EveryIetfTypeFrom0To39Except20HasASpec) {
  for (uint16_t t = 0; t < 40; ++t) {
    const AvpSpec* s = avp_spec(t);
    if (t == 20) {
      EXPECT_EQ(s, nullptr);
      continue;
    }
    ASSERT_NE(s, nullptr) << "type " << t;
    EXPECT_NE(s->name, nullptr);
    EXPECT_NE(s->key, nullptr);
    EXPECT_LE(s->min_len, s->max_len) << s->name;
  }
}

TEST(AvpTable, Type20AndTypes40AndAboveHaveNoSpec) {
  EXPECT_EQ(avp_spec(20), nullptr);
  for (uint32_t t = 40; t <= 0xFFFF; ++t) ASSERT_EQ(avp_spec(static_cast<uint16_t>(t)), nullptr) << t;
  EXPECT_EQ(kAvpTypeLimit, 40);
}

TEST(AvpTable, NamesAndKeysAreUnique) {
  std::set<std::string> names, keys;
  for (uint16_t t = 0; t < 40; ++t) {
    if (const AvpSpec* s = avp_spec(t)) {
      EXPECT_TRUE(names.insert(s->name).second) << s->name;
      EXPECT_TRUE(keys.insert(s->key).second) << s->key;
    }
  }
  EXPECT_EQ(names.size(), 39u);
}

TEST(AvpTable, NamesFollowRfc2661) {
  EXPECT_STREQ(avp_spec(0)->name, "Message Type");
  EXPECT_STREQ(avp_spec(9)->name, "Assigned Tunnel ID");
  EXPECT_STREQ(avp_spec(36)->name, "Random Vector");
  EXPECT_STREQ(avp_spec(39)->name, "Sequencing Required");
}

// RFC 2661 4.4: "The M bit for this AVP MUST be set to 0" for these; set to
// 1 for every other AVP.
const std::set<uint16_t> kMClear = {5,  6,  8,  25, 26, 27, 28, 29,
                                    30, 31, 32, 33, 37, 38};

TEST(AvpTable, TieBreakerHasMClear) { EXPECT_FALSE(avp_spec(5)->mandatory); }
TEST(AvpTable, FirmwareRevisionHasMClear) { EXPECT_FALSE(avp_spec(6)->mandatory); }
TEST(AvpTable, VendorNameHasMClear) { EXPECT_FALSE(avp_spec(8)->mandatory); }
TEST(AvpTable, PhysicalChannelIdHasMClear) { EXPECT_FALSE(avp_spec(25)->mandatory); }
TEST(AvpTable, RxConnectSpeedHasMClear) { EXPECT_FALSE(avp_spec(38)->mandatory); }
TEST(AvpTable, PrivateGroupIdHasMClear) { EXPECT_FALSE(avp_spec(37)->mandatory); }

TEST(AvpTable, ProxyLcpAndProxyAuthenAvps26To33HaveMClear) {
  for (uint16_t t = 26; t <= 33; ++t) EXPECT_FALSE(avp_spec(t)->mandatory) << avp_spec(t)->name;
}

TEST(AvpTable, EveryOtherAvpHasMSet) {
  for (uint16_t t = 0; t < 40; ++t) {
    if (t == 20) continue;
    EXPECT_EQ(avp_spec(t)->mandatory, !kMClear.count(t)) << avp_spec(t)->name;
  }
}

// RFC 2661 4.4: "This AVP MUST NOT be hidden" for these; "may be hidden"
// for every other AVP.
const std::set<uint16_t> kNeverHidden = {0, 1, 2, 5, 7, 10, 12, 15, 36, 39};

TEST(AvpTable, MessageTypeMustNotBeHidden) { EXPECT_FALSE(avp_spec(0)->hideable); }
TEST(AvpTable, RandomVectorMustNotBeHidden) { EXPECT_FALSE(avp_spec(36)->hideable); }
TEST(AvpTable, ProtocolVersionMustNotBeHidden) { EXPECT_FALSE(avp_spec(2)->hideable); }
TEST(AvpTable, HostNameMustNotBeHidden) { EXPECT_FALSE(avp_spec(7)->hideable); }
TEST(AvpTable, ReceiveWindowSizeMustNotBeHidden) { EXPECT_FALSE(avp_spec(10)->hideable); }
TEST(AvpTable, TieBreakerMustNotBeHidden) { EXPECT_FALSE(avp_spec(5)->hideable); }
TEST(AvpTable, Q931CauseMustNotBeHidden) { EXPECT_FALSE(avp_spec(12)->hideable); }
TEST(AvpTable, CallSerialNumberMustNotBeHidden) { EXPECT_FALSE(avp_spec(15)->hideable); }
TEST(AvpTable, ResultCodeMustNotBeHidden) { EXPECT_FALSE(avp_spec(1)->hideable); }
TEST(AvpTable, SequencingRequiredMustNotBeHidden) { EXPECT_FALSE(avp_spec(39)->hideable); }

TEST(AvpTable, EveryOtherAvpMayBeHidden) {
  for (uint16_t t = 0; t < 40; ++t) {
    if (t == 20) continue;
    EXPECT_EQ(avp_spec(t)->hideable, !kNeverHidden.count(t)) << avp_spec(t)->name;
  }
}

TEST(AvpTable, FixedValueLengthsAreThoseOfRfc2661) {
  // AVP Length minus the 6-octet header, from the "Length is N" sentences.
  const std::pair<uint16_t, uint16_t> fixed[] = {
      {0, 2},  {2, 2},  {3, 4},  {4, 4},  {5, 8},  {6, 2},  {9, 2},   {10, 2},
      {13, 16}, {14, 2}, {15, 4}, {16, 4}, {17, 4}, {18, 4}, {19, 4}, {24, 4},
      {25, 4}, {29, 2}, {32, 2}, {34, 26}, {35, 10}, {38, 4}, {39, 0}};
  for (const auto& [type, len] : fixed) {
    EXPECT_EQ(avp_spec(type)->min_len, len) << avp_spec(type)->name;
    EXPECT_EQ(avp_spec(type)->max_len, len) << avp_spec(type)->name;
  }
}

TEST(AvpTable, VariableValueLengthsHaveTheRfc2661Minimum) {
  // Host Name, Challenge and Random Vector: at least one octet; Result Code
  // at least the result; Q.931 cause and message.
  const std::pair<uint16_t, uint16_t> min[] = {{1, 2}, {7, 1}, {11, 1}, {12, 3}, {36, 1}};
  for (const auto& [type, len] : min) {
    EXPECT_EQ(avp_spec(type)->min_len, len) << avp_spec(type)->name;
    EXPECT_EQ(avp_spec(type)->max_len, kUnbounded) << avp_spec(type)->name;
  }
}

// ---------------------------------------------------------------- message types

TEST(MessageTypeName, NamesAllFourteenRfc2661Types) {
  const std::pair<uint16_t, const char*> names[] = {
      {1, "SCCRQ"}, {2, "SCCRP"}, {3, "SCCCN"}, {4, "StopCCN"}, {6, "HELLO"},
      {7, "OCRQ"},  {8, "OCRP"},  {9, "OCCN"},  {10, "ICRQ"},   {11, "ICRP"},
      {12, "ICCN"}, {14, "CDN"},  {15, "WEN"},  {16, "SLI"}};
  for (const auto& [type, name] : names) {
    EXPECT_STREQ(message_type_name(type), name) << type;
    EXPECT_TRUE(is_known_message_type(type)) << type;
  }
}

TEST(MessageTypeName, IsNullForUnassignedTypes0_5_13_17) {
  for (uint16_t t : {0, 5, 13, 17}) {
    EXPECT_EQ(message_type_name(t), nullptr) << t;
    EXPECT_FALSE(is_known_message_type(t)) << t;
  }
}

TEST(MessageTypeName, IsNullForEveryTypeAbove16) {
  for (uint32_t t = 17; t <= 0xFFFF; ++t)
    ASSERT_EQ(message_type_name(static_cast<uint16_t>(t)), nullptr) << t;
}

// ---------------------------------------------------------------- parse_ppp

TEST(ParsePpp, ReadsAddressControlAndTwoOctetProtocol) {
  const Bytes d = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
  auto f = parse_ppp(d);
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_TRUE(f->address_control);
  EXPECT_EQ(f->protocol, ppp::kLcp);
  EXPECT_THAT(bytes_of(f->information), ElementsAre(0x01, 0x01, 0x00, 0x04));
  EXPECT_EQ(f->information.data(), d.data() + 4);
}

TEST(ParsePpp, ReadsFrameWithoutAddressControl) {
  // xl2tpd-user.pcap frame 14: IPCP with FF 03 compressed away.
  const Bytes d = {0x80, 0x21, 0x01, 0x01, 0x00, 0x10};
  auto f = parse_ppp(d);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->address_control);
  EXPECT_EQ(f->protocol, ppp::kIpcp);
  EXPECT_THAT(bytes_of(f->information), ElementsAre(0x01, 0x01, 0x00, 0x10));
}

TEST(ParsePpp, ReadsCompressedOneOctetProtocol) {
  // xl2tpd-user.pcap frame 26: IPv4 as protocol 0x21 alone.
  const Bytes d = {0x21, 0x45, 0x00};
  auto f = parse_ppp(d);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->address_control);
  EXPECT_EQ(f->protocol, ppp::kIpv4);
  EXPECT_THAT(bytes_of(f->information), ElementsAre(0x45, 0x00));
}

TEST(ParsePpp, ReadsCompressedProtocolAfterAddressControl) {
  const Bytes d = {0xff, 0x03, 0x57, 0x60};
  auto f = parse_ppp(d);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->address_control);
  EXPECT_EQ(f->protocol, ppp::kIpv6);
  EXPECT_THAT(bytes_of(f->information), ElementsAre(0x60));
}

TEST(ParsePpp, ReadsUncompressedIpv4Protocol) {
  const Bytes d = {0xff, 0x03, 0x00, 0x21, 0x45};
  auto f = parse_ppp(d);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->protocol, ppp::kIpv4);
  EXPECT_THAT(bytes_of(f->information), ElementsAre(0x45));
}

TEST(ParsePpp, AcceptsEmptyInformation) {
  const Bytes d = {0xff, 0x03, 0xc0, 0x21};
  const Bytes e = exact(d, d.size());
  auto f = parse_ppp(e);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->information.empty());
}

TEST(ParsePpp, RejectsEvenProtocolAsBadValue) {
  for (const Bytes& d : {Bytes{0xc0, 0x20, 0x01}, Bytes{0xff, 0x03, 0x00, 0x20}, Bytes{0x80, 0x22}}) {
    auto f = parse_ppp(d);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, Errc::kBadValue);
  }
  auto f = parse_ppp(Bytes{0xff, 0x03, 0xc0, 0x20});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().value, 0xc020u);
  EXPECT_EQ(f.error().offset, 2u);
}

TEST(ParsePpp, EmptyPayloadIsTruncated) {
  auto f = parse_ppp({});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Errc::kTruncated);
}

TEST(ParsePpp, AddressControlAloneIsTruncated) {
  const Bytes d = exact({0xff, 0x03}, 2);
  auto f = parse_ppp(d);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Errc::kTruncated);
  EXPECT_EQ(f.error().offset, 2u);
}

TEST(ParsePpp, HalfATwoOctetProtocolIsTruncated) {
  for (const Bytes& d : {Bytes{0xc0}, Bytes{0xff, 0x03, 0xc0}, Bytes{0x00}}) {
    const Bytes e = exact(d, d.size());
    auto f = parse_ppp(e);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, Errc::kTruncated);
  }
}

TEST(ParsePpp, EveryPrefixOfAFrameParsesOrFailsWithoutCrashing) {
  const Bytes d = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
  for (size_t n = 0; n <= d.size(); ++n) {
    const Bytes e = exact(d, n);
    auto f = parse_ppp(e);
    if (f) {
      EXPECT_LE(f->information.size(), n);
    }
  }
}

TEST(PppProtocol, ControlProtocolsAreThoseFrom0x8000) {
  EXPECT_FALSE(ppp_is_control(ppp::kIpv4));
  EXPECT_FALSE(ppp_is_control(ppp::kIpv6));
  EXPECT_TRUE(ppp_is_control(ppp::kIpcp));
  EXPECT_TRUE(ppp_is_control(ppp::kLcp));
  EXPECT_TRUE(ppp_is_control(ppp::kChap));
  EXPECT_STREQ(ppp_protocol_name(ppp::kLcp), "LCP");
  EXPECT_STREQ(ppp_protocol_name(ppp::kIpv4), "IPv4");
  EXPECT_EQ(ppp_protocol_name(0x1234), nullptr);
}

// ---------------------------------------------------------------- hex

TEST(Hex, ToHexWritesLowercasePairs) {
  const Bytes b = {0x00, 0x0a, 0xff, 0xc8, 0x02};
  EXPECT_EQ(to_hex(b), "000affc802");
  EXPECT_EQ(to_hex({}), "");
}

TEST(Hex, FromHexReadsUpperAndLowerCase) {
  Bytes out;
  ASSERT_TRUE(from_hex("c802000C816B", out));
  EXPECT_THAT(out, ElementsAre(0xc8, 0x02, 0x00, 0x0c, 0x81, 0x6b));
}

TEST(Hex, FromHexSkipsColonsAndSpaces) {
  Bytes out;
  ASSERT_TRUE(from_hex("0a:1b 2c", out));
  EXPECT_THAT(out, ElementsAre(0x0a, 0x1b, 0x2c));
}

TEST(Hex, FromHexRejectsOddDigitCount) {
  Bytes out;
  EXPECT_FALSE(from_hex("abc", out));
}

TEST(Hex, FromHexRejectsNonHexCharacters) {
  Bytes out;
  EXPECT_FALSE(from_hex("0g", out));
  EXPECT_FALSE(from_hex("0x12", out));
  EXPECT_FALSE(from_hex("12-34", out));
}

TEST(Hex, FromHexClearsTheOutputFirst) {
  Bytes out = {1, 2, 3};
  ASSERT_TRUE(from_hex("", out));
  EXPECT_TRUE(out.empty());
}

TEST(Hex, FromHexInvertsToHex) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  Bytes back;
  ASSERT_TRUE(from_hex(to_hex(all), back));
  EXPECT_EQ(back, all);
}

}  // namespace
}  // namespace l2tp::wire
