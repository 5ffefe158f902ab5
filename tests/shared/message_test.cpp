// Control messages (RFC 2661 3.2, 4.3, 4.4, section 6): decode_message,
// validate_message, encode_avps and encode_control.
//
// Expected bytes are written out by hand from the RFC's AVP layout (the
// `avp()` builder below does not use the library), and the xl2tpd messages
// are copied from tests/captures (xl2tpd 1.3.18). The hidden AVP golden
// values were computed outside this code base with Python's hashlib
// following RFC 2661 4.3:
//   b1 = MD5(type(2) + secret + RV), c1 = p1 ^ b1, b2 = MD5(secret + c1)...

#include "shared/message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "shared/bytes.hpp"
#include "shared/hidden.hpp"

namespace l2tp::wire {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr uint16_t u(AvpType t) { return static_cast<uint16_t>(t); }
constexpr uint16_t u(MessageType t) { return static_cast<uint16_t>(t); }

Bytes hex(std::string_view s) {
  Bytes out;
  EXPECT_TRUE(from_hex(s, out)) << s;
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

// One AVP written out by hand from RFC 2661 4.1 (independent of put_avp).
Bytes avp(bool m, bool h, uint16_t vendor, uint16_t type, const Bytes& value, uint8_t reserved = 0) {
  const size_t len = 6 + value.size();
  Bytes b = {static_cast<uint8_t>((m ? 0x80 : 0) | (h ? 0x40 : 0) | (reserved << 2) | ((len >> 8) & 3)),
             static_cast<uint8_t>(len),
             static_cast<uint8_t>(vendor >> 8),
             static_cast<uint8_t>(vendor),
             static_cast<uint8_t>(type >> 8),
             static_cast<uint8_t>(type)};
  b.insert(b.end(), value.begin(), value.end());
  return b;
}
Bytes ietf(uint16_t type, const Bytes& value, bool m = true) { return avp(m, false, 0, type, value); }
Bytes mt_avp(uint16_t type, bool m = true) {
  return ietf(0, {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type)}, m);
}

Bytes encode_body(const ControlMessage& m, const EncodeOptions& o = {}) {
  Bytes out;
  auto s = encode_avps(m, o, out);
  EXPECT_TRUE(s) << s.error().to_string();
  return out;
}

ControlMessage decode_ok(std::span<const uint8_t> body, const DecodeOptions& o = {}) {
  auto m = decode_message(body, o);
  EXPECT_TRUE(m) << m.error().to_string();
  return m ? *m : ControlMessage{};
}

ControlMessage without_wire_order(ControlMessage m) {
  m.wire_order.clear();
  return m;
}

const Bytes kRv16 = hex("000102030405060708090a0b0c0d0e0f");
const std::string kSecret = "s3cr3t-tunnel-key";

// Sets (or clears) one field to a sample value that its AVP can carry.
void set_field(ControlMessage& m, uint16_t t, bool present = true) {
  auto put = [present](auto& opt, auto value) {
    if (present)
      opt = value;
    else
      opt.reset();
  };
  switch (t) {
    case 1: put(m.result_code, ResultCode{2, 6, "vendor says no"}); break;
    case 2: put(m.protocol_version, ProtocolVersion{1, 0}); break;
    case 3: put(m.framing_capabilities, kFramingSync | kFramingAsync); break;
    case 4: put(m.bearer_capabilities, kBearerDigital | kBearerAnalog); break;
    case 5: put(m.tie_breaker, uint64_t{0x0123456789abcdef}); break;
    case 6: put(m.firmware_revision, uint16_t{0x0690}); break;
    case 7: put(m.host_name, std::string("lac-a")); break;
    case 8: put(m.vendor_name, std::string("xelerance.com")); break;
    case 9: put(m.assigned_tunnel_id, uint16_t{5475}); break;
    case 10: put(m.receive_window_size, uint16_t{4}); break;
    case 11: put(m.challenge, hex("1aaa71b31495f9a92fce755841aeae12")); break;
    case 12: put(m.q931_cause, Q931Cause{16, 0x5a, "normal clearing"}); break;
    case 13: put(m.challenge_response, hex("02d7092092906f638b6e65e041419b8d")); break;
    case 14: put(m.assigned_session_id, uint16_t{0x43e0}); break;
    case 15: put(m.call_serial_number, uint32_t{0xdeadbeef}); break;
    case 16: put(m.minimum_bps, uint32_t{9600}); break;
    case 17: put(m.maximum_bps, uint32_t{100000000}); break;
    case 18: put(m.bearer_type, kBearerAnalog); break;
    case 19: put(m.framing_type, kFramingSync); break;
    case 21: put(m.called_number, std::string("5551234")); break;
    case 22: put(m.calling_number, std::string("5556789")); break;
    case 23: put(m.sub_address, std::string("42")); break;
    case 24: put(m.tx_connect_speed, uint32_t{100000000}); break;
    case 25: put(m.physical_channel_id, uint32_t{7}); break;
    case 26: put(m.initial_received_lcp_confreq, hex("0206000000000506e0269054")); break;
    case 27: put(m.last_sent_lcp_confreq, hex("0506d8eace87")); break;
    case 28: put(m.last_received_lcp_confreq, hex("0206000000000304c023")); break;
    case 29: put(m.proxy_authen_type, uint16_t{2}); break;
    case 30: put(m.proxy_authen_name, std::string("alice")); break;
    case 31: put(m.proxy_authen_challenge, hex("4995ce15")); break;
    case 32: put(m.proxy_authen_id, uint8_t{0x2a}); break;
    case 33: put(m.proxy_authen_response, hex("00112233445566778899aabbccddeeff")); break;
    case 34: put(m.call_errors, CallErrors{1, 2, 3, 4, 5, 0xfffffffe}); break;
    case 35: put(m.accm, Accm{0x000a0000, 0}); break;
    case 36: put(m.random_vector, kRv16); break;
    case 37: put(m.private_group_id, str("group-1")); break;
    case 38: put(m.rx_connect_speed, uint32_t{54000000}); break;
    case 39: m.sequencing_required = present; break;
    default: ADD_FAILURE() << "no sample for AVP type " << t;
  }
}

// ---------------------------------------------------------------- section 6

struct Section6 {
  uint16_t type;
  const char* name;
  std::vector<uint16_t> required;  // Message Type (0) included
  std::vector<uint16_t> optional;  // Random Vector (36) not included
};

// RFC 2661 section 6, message by message, in the order the RFC lists the AVPs.
const Section6 kSection6[] = {
    {1, "SCCRQ", {0, 2, 7, 3, 9}, {4, 10, 11, 5, 6, 8}},
    {2, "SCCRP", {0, 2, 3, 7, 9}, {4, 6, 8, 10, 11, 13}},
    {3, "SCCCN", {0}, {13}},
    {4, "StopCCN", {0, 9, 1}, {}},
    {6, "HELLO", {0}, {}},
    {10, "ICRQ", {0, 14, 15}, {18, 25, 22, 21, 23}},
    {11, "ICRP", {0, 14}, {}},
    {12, "ICCN", {0, 24, 19}, {26, 27, 28, 29, 30, 31, 32, 33, 37, 38, 39}},
    {7, "OCRQ", {0, 14, 15, 16, 17, 18, 19, 21}, {23}},
    {8, "OCRP", {0, 14}, {25}},
    {9, "OCCN", {0, 24, 19}, {38, 39}},
    {14, "CDN", {0, 1, 14}, {12}},
    {15, "WEN", {0, 34}, {}},
    {16, "SLI", {0, 35}, {}},
};

AvpSet set_of(const std::vector<uint16_t>& types) {
  AvpSet s;
  for (uint16_t t : types) s.set(t);
  return s;
}

// RFC 2661 4.4: the AVPs that "MUST NOT be hidden".
const std::set<uint16_t> kNeverHidden = {0, 1, 2, 5, 7, 10, 12, 15, 36, 39};

ControlMessage full_message(const Section6& s, bool with_optional = true) {
  ControlMessage m;
  m.message_type = s.type;
  for (uint16_t t : s.required)
    if (t != 0) set_field(m, t);
  if (with_optional) {
    for (uint16_t t : s.optional) set_field(m, t);
    set_field(m, u(AvpType::kRandomVector));
  }
  return m;
}

// Every AVP type of the full message, in the order encode_avps promises
// without wire_order: Message Type, Random Vector, then ascending type.
std::vector<uint16_t> canonical_order(const Section6& s) {
  std::vector<uint16_t> rest;
  for (uint16_t t : s.required)
    if (t != 0) rest.push_back(t);
  rest.insert(rest.end(), s.optional.begin(), s.optional.end());
  std::sort(rest.begin(), rest.end());
  std::vector<uint16_t> order = {0, 36};
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

void PrintTo(const Section6& s, std::ostream* os) { *os << s.name; }

class EveryMessageType : public ::testing::TestWithParam<Section6> {};

TEST_P(EveryMessageType, RequiredAvpsAreThoseOfSection6) {
  EXPECT_EQ(required_avps(GetParam().type), set_of(GetParam().required));
}

TEST_P(EveryMessageType, OptionalAvpsAreThoseOfSection6PlusRandomVector) {
  AvpSet want = set_of(GetParam().optional);
  want.set(u(AvpType::kRandomVector));
  EXPECT_EQ(optional_avps(GetParam().type), want);
}

TEST_P(EveryMessageType, RoundTripsWithAllRequiredAndOptionalAvps) {
  const ControlMessage m = full_message(GetParam());
  const Bytes body = encode_body(m);
  const ControlMessage back = decode_ok(body);
  EXPECT_EQ(without_wire_order(back), m);
  auto v = validate_message(back);
  EXPECT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(back.unrecognized_mandatory(), nullptr);
}

TEST_P(EveryMessageType, EncodesInCanonicalOrderWithTheMBitsOfSection4_4) {
  const ControlMessage back = decode_ok(encode_body(full_message(GetParam())));
  std::vector<AvpMeta> want;
  for (uint16_t t : canonical_order(GetParam()))
    want.push_back({0, t, avp_spec(t)->mandatory, false});
  EXPECT_THAT(back.wire_order, ElementsAreArray(want));
}

TEST_P(EveryMessageType, ReencodingTheDecodedMessageGivesTheSameBytes) {
  const Bytes body = encode_body(full_message(GetParam()));
  EXPECT_EQ(to_hex(encode_body(decode_ok(body))), to_hex(body));
}

TEST_P(EveryMessageType, ValidatesWithRequiredAvpsOnly) {
  const ControlMessage m = full_message(GetParam(), false);
  const ControlMessage back = decode_ok(encode_body(m));
  EXPECT_EQ(without_wire_order(back), m);
  auto v = validate_message(back);
  EXPECT_TRUE(v) << v.error().to_string();
}

TEST_P(EveryMessageType, EachMissingRequiredAvpIsMissingAvpNamingIt) {
  for (uint16_t t : GetParam().required) {
    if (t == 0) continue;  // Message Type cannot be absent from a non-ZLB
    ControlMessage m = full_message(GetParam());
    set_field(m, t, false);
    auto v = validate_message(m);
    ASSERT_FALSE(v) << avp_spec(t)->name;
    EXPECT_EQ(v.error().code, Errc::kMissingAvp);
    EXPECT_EQ(v.error().avp_type, t);
    EXPECT_EQ(v.error().value, t);
    EXPECT_STREQ(v.error().field, avp_spec(t)->name);
  }
}

TEST_P(EveryMessageType, EachRequiredAvpMissingOnTheWireIsMissingAvp) {
  // Table-driven from the library's own required_avps(), through the wire.
  const AvpSet required = required_avps(GetParam().type);
  for (uint16_t t = 1; t < kAvpTypeLimit; ++t) {
    if (!required.test(t)) continue;
    ControlMessage m = full_message(GetParam());
    set_field(m, t, false);
    auto v = validate_message(decode_ok(encode_body(m)));
    ASSERT_FALSE(v) << avp_spec(t)->name;
    EXPECT_EQ(v.error().code, Errc::kMissingAvp);
    EXPECT_EQ(v.error().avp_type, t);
  }
}

TEST_P(EveryMessageType, RoundTripsWithEveryHideableAvpHidden) {
  const ControlMessage m = full_message(GetParam());
  EncodeOptions o;
  o.secret = as_bytes(kSecret);
  for (uint16_t t = 1; t < kAvpTypeLimit; ++t)
    if (t != 20 && !kNeverHidden.count(t) && m.has(static_cast<AvpType>(t))) o.hide.set(t);
  const Bytes body = encode_body(m, o);
  const ControlMessage back = decode_ok(body, {as_bytes(kSecret)});
  EXPECT_EQ(without_wire_order(back), m);
  for (const AvpMeta& w : back.wire_order) EXPECT_EQ(w.hidden, o.hide.test(w.type)) << w.type;
  if (o.hide.any()) {
    auto no_secret = decode_message(body);
    ASSERT_FALSE(no_secret);
    EXPECT_EQ(no_secret.error().code, Errc::kHiddenNoSecret);
  }
}

TEST_P(EveryMessageType, EveryPrefixOfTheBodyDecodesOrFailsWithoutCrashing) {
  EncodeOptions o;
  o.secret = as_bytes(kSecret);
  o.hide.set(u(AvpType::kAssignedSessionId)).set(u(AvpType::kAssignedTunnelId));
  const Bytes body = encode_body(full_message(GetParam()), o);
  for (size_t n = 0; n < body.size(); ++n) {
    Bytes prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
    prefix.shrink_to_fit();  // exact size, so ASan sees any overread
    auto m = decode_message(prefix, {as_bytes(kSecret)});
    if (m) (void)validate_message(*m);
  }
}

INSTANTIATE_TEST_SUITE_P(Section6, EveryMessageType, ::testing::ValuesIn(kSection6),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ValidateMessage, UnknownTypesHaveNoRequiredOrOptionalAvps) {
  for (uint16_t t : {0, 5, 13, 17, 99}) {
    EXPECT_TRUE(required_avps(t).none()) << t;
    EXPECT_TRUE(optional_avps(t).none()) << t;
  }
}

// ---------------------------------------------------------------- typed values

ControlMessage hello() {
  ControlMessage m;
  m.message_type = u(MessageType::kHello);
  return m;
}

// Encodes msg and returns the AVPs after Message Type.
Bytes avps_after_message_type(const ControlMessage& m) {
  Bytes body = encode_body(m);
  return Bytes(body.begin() + 8, body.end());
}

TEST(TypedValue, ResultCodeWithoutErrorCodeIsTwoOctets) {
  ControlMessage m = hello();
  m.result_code = ResultCode{1, std::nullopt, ""};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800800000001" "0001");
  EXPECT_EQ(decode_ok(encode_body(m)).result_code, m.result_code);
}

TEST(TypedValue, ResultCodeWithErrorCodeAndNoMessageIsFourOctets) {
  ControlMessage m = hello();
  m.result_code = ResultCode{2, error_code::kBadValue, ""};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800a00000001" "0002" "0003");
  EXPECT_EQ(decode_ok(encode_body(m)).result_code, m.result_code);
}

TEST(TypedValue, ResultCodeWithErrorCodeAndMessageMatchesXl2tpdStopCcn) {
  ControlMessage m = hello();
  m.result_code = ResultCode{result::kGeneralClearControl, error_code::kNoError, "Goodbye!"};
  // xl2tpd-basic.pcap frame 32.
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "801200000001" "0001" "0000" "476f6f6462796521");
  EXPECT_EQ(decode_ok(encode_body(m)).result_code, m.result_code);
}

TEST(TypedValue, ResultCodeOfThreeOctetsIsBadAvpLength) {
  const Bytes body = cat({mt_avp(4), ietf(1, {0x00, 0x01, 0x00})});
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(m.error().avp_type, 1);
  EXPECT_EQ(m.error().value, 9u);
  EXPECT_EQ(m.error().offset, 8u);
}

TEST(TypedValue, ResultCodeOfThreeOctetsCannotBeEncodedEither) {
  // Nothing in ResultCode produces three octets; an error code is two.
  ControlMessage m = hello();
  m.result_code = ResultCode{1, 0, "x"};
  EXPECT_EQ(avps_after_message_type(m).size(), 6u + 5u);
}

TEST(TypedValue, Q931CauseWithAdvisoryRoundTrips) {
  ControlMessage m = hello();
  m.q931_cause = Q931Cause{0x0010, 0x5a, "normal"};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800f0000000c" "0010" "5a" "6e6f726d616c");
  EXPECT_EQ(decode_ok(encode_body(m)).q931_cause, m.q931_cause);
}

TEST(TypedValue, Q931CauseWithoutAdvisoryIsThreeOctets) {
  ControlMessage m = hello();
  m.q931_cause = Q931Cause{0x1234, 0x45, ""};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "80090000000c" "1234" "45");
  EXPECT_EQ(decode_ok(encode_body(m)).q931_cause, m.q931_cause);
}

TEST(TypedValue, CallErrorsRoundTripWithReservedOctetsZero) {
  ControlMessage m = hello();
  m.call_errors = CallErrors{1, 2, 3, 4, 5, 0xfffffffe};
  EXPECT_EQ(to_hex(avps_after_message_type(m)),
            "802000000022" "0000" "00000001" "00000002" "00000003" "00000004" "00000005" "fffffffe");
  EXPECT_EQ(decode_ok(encode_body(m)).call_errors, m.call_errors);
}

TEST(TypedValue, CallErrorsIgnoreTheReservedOctetsOnReceipt) {
  const Bytes body = cat({mt_avp(15), ietf(34, hex("ffff" "00000001" "00000002" "00000003"
                                                    "00000004" "00000005" "00000006"))});
  EXPECT_EQ(decode_ok(body).call_errors, (CallErrors{1, 2, 3, 4, 5, 6}));
}

TEST(TypedValue, AccmRoundTripsWithReservedOctetsZero) {
  ControlMessage m = hello();
  m.accm = Accm{0x000a0000, 0xffffffff};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "801000000023" "0000" "000a0000" "ffffffff");
  EXPECT_EQ(decode_ok(encode_body(m)).accm, m.accm);
}

TEST(TypedValue, ProxyAuthenIdIsAReservedOctetThenTheId) {
  ControlMessage m = hello();
  m.proxy_authen_id = 0x2a;
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "000800000020" "002a");
  EXPECT_EQ(decode_ok(encode_body(m)).proxy_authen_id, 0x2a);
}

TEST(TypedValue, ProxyAuthenIdIgnoresTheReservedOctetOnReceipt) {
  const Bytes body = cat({mt_avp(12), ietf(32, {0xff, 0x07}, false)});
  EXPECT_EQ(decode_ok(body).proxy_authen_id, 0x07);
}

TEST(TypedValue, ProtocolVersionIsVersionThenRevision) {
  ControlMessage m = hello();
  m.protocol_version = ProtocolVersion{1, 0};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800800000002" "0100");
  m.protocol_version = ProtocolVersion{0xab, 0xcd};
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800800000002" "abcd");
  EXPECT_EQ(decode_ok(encode_body(m)).protocol_version, m.protocol_version);
}

TEST(TypedValue, TieBreakerCarriesAll64Bits) {
  ControlMessage m = hello();
  m.tie_breaker = 0xfedcba9876543210;
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "000e00000005" "fedcba9876543210");
  EXPECT_EQ(decode_ok(encode_body(m)).tie_breaker, m.tie_breaker);
}

TEST(TypedValue, SequencingRequiredIsAnEmptyValue) {
  ControlMessage m = hello();
  m.sequencing_required = true;
  EXPECT_EQ(to_hex(avps_after_message_type(m)), "800600000027");
  EXPECT_TRUE(decode_ok(encode_body(m)).sequencing_required);
  EXPECT_FALSE(decode_ok(mt_avp(6)).sequencing_required);
}

TEST(TypedValue, ThirtyTwoBitValuesKeepTheHighBit) {
  ControlMessage m = hello();
  m.tx_connect_speed = 0x80000001;
  m.rx_connect_speed = 0xffffffff;
  const ControlMessage back = decode_ok(encode_body(m));
  EXPECT_EQ(back.tx_connect_speed, 0x80000001u);
  EXPECT_EQ(back.rx_connect_speed, 0xffffffffu);
}

TEST(TypedValue, StringsAndOctetsKeepEmbeddedZeroesAndHighOctets) {
  ControlMessage m = hello();
  m.called_number = std::string("a\0b\xff", 4);
  m.private_group_id = Bytes{0, 0xff, 0};
  m.initial_received_lcp_confreq = Bytes{};  // empty is allowed (4.4.5)
  const ControlMessage back = decode_ok(encode_body(m));
  EXPECT_EQ(back.called_number, m.called_number);
  EXPECT_EQ(back.private_group_id, m.private_group_id);
  EXPECT_EQ(back.initial_received_lcp_confreq, Bytes{});
}

// ---------------------------------------------------------------- length rules

// Value lengths of the fixed-length AVPs, from RFC 2661 4.4 ("Length is N"
// minus the 6-octet header). Message Type is tested separately.
const std::pair<uint16_t, size_t> kFixedLength[] = {
    {2, 2},  {3, 4},  {4, 4},  {5, 8},  {6, 2},  {9, 2},  {10, 2}, {13, 16},
    {14, 2}, {15, 4}, {16, 4}, {17, 4}, {18, 4}, {19, 4}, {24, 4}, {25, 4},
    {29, 2}, {32, 2}, {34, 26}, {35, 10}, {38, 4}, {39, 0}};

void expect_bad_avp_length(uint16_t type, size_t value_len) {
  SCOPED_TRACE(::testing::Message() << avp_spec(type)->name << " with " << value_len << " octets");
  const Bytes body = cat({mt_avp(6), ietf(type, Bytes(value_len, 0x01), avp_spec(type)->mandatory)});
  auto m = decode_message(body, {{}, 12});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(m.error().avp_type, type);
  EXPECT_STREQ(m.error().field, avp_spec(type)->name);
  EXPECT_EQ(m.error().value, 6 + value_len);  // the AVP Length field
  EXPECT_EQ(m.error().offset, 12u + 8u);
}

TEST(LengthRules, EveryFixedLengthAvpOneOctetShortIsBadAvpLength) {
  for (const auto& [type, len] : kFixedLength)
    if (len > 0) expect_bad_avp_length(type, len - 1);
}

TEST(LengthRules, EveryFixedLengthAvpOneOctetLongIsBadAvpLength) {
  for (const auto& [type, len] : kFixedLength) expect_bad_avp_length(type, len + 1);
}

TEST(LengthRules, EveryFixedLengthAvpOfExactLengthDecodes) {
  for (const auto& [type, len] : kFixedLength) {
    const Bytes body = cat({mt_avp(6), ietf(type, Bytes(len, 0x01))});
    auto m = decode_message(body);
    ASSERT_TRUE(m) << avp_spec(type)->name << ": " << m.error().to_string();
    EXPECT_TRUE(m->has(static_cast<AvpType>(type))) << avp_spec(type)->name;
  }
}

TEST(LengthRules, VariableLengthAvpsBelowTheirMinimumAreBadAvpLength) {
  expect_bad_avp_length(u(AvpType::kResultCode), 1);
  expect_bad_avp_length(u(AvpType::kResultCode), 3);
  expect_bad_avp_length(u(AvpType::kHostName), 0);
  expect_bad_avp_length(u(AvpType::kChallenge), 0);
  expect_bad_avp_length(u(AvpType::kQ931Cause), 2);
  expect_bad_avp_length(u(AvpType::kRandomVector), 0);
}

TEST(LengthRules, SecondMessageTypeWithBadLengthIsBadAvpLength) {
  const Bytes body = cat({mt_avp(6), ietf(0, {0x00, 0x06, 0x00})});
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(m.error().avp_type, 0);
}

TEST(LengthRules, FirstMessageTypeWithBadLengthIsRejectedNamingMessageType) {
  for (const Bytes& v : {Bytes{0x06}, Bytes{0x00, 0x06, 0x00}}) {
    auto m = decode_message(ietf(0, v));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().avp_type, 0);
    EXPECT_STREQ(m.error().field, "Message Type");
  }
}

TEST(LengthRules, EncoderRejectsAFixedLengthValueOfTheWrongSize) {
  ControlMessage m = hello();
  m.challenge_response = Bytes(15, 0);
  Bytes out;
  auto s = encode_avps(m, {}, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kChallengeResponse));
  m.challenge_response = Bytes(17, 0);
  out.clear();
  EXPECT_FALSE(encode_avps(m, {}, out));
}

TEST(LengthRules, EncoderRejectsAnEmptyHostName) {
  ControlMessage m = hello();
  m.host_name = "";
  Bytes out;
  auto s = encode_avps(m, {}, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kHostName));
}

TEST(LengthRules, EncoderAcceptsValuesUpToTheTenBitLengthAndNoLonger) {
  ControlMessage m = hello();
  m.host_name = std::string(1017, 'h');
  const ControlMessage back = decode_ok(encode_body(m));
  EXPECT_EQ(back.host_name, m.host_name);
  m.host_name = std::string(1018, 'h');
  Bytes out;
  auto s = encode_avps(m, {}, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kHostName));
}

TEST(LengthRules, ErrorToStringNamesTheAvpOffsetAndLength) {
  const Bytes body = cat({mt_avp(1), ietf(9, {0x15})});
  auto m = decode_message(body, {{}, 32});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().to_string(), "bad AVP length in Assigned Tunnel ID (AVP type 9) at offset 40: value 7");
}

// ---------------------------------------------------------------- golden bytes

// An SCCRQ as xl2tpd 1.3.18 sends it (no challenge, no tie breaker).
ControlMessage xl2tpd_sccrq(std::string host, uint16_t tunnel_id) {
  ControlMessage m;
  m.message_type = u(MessageType::kSccrq);
  m.protocol_version = ProtocolVersion{1, 0};
  m.framing_capabilities = kFramingSync | kFramingAsync;
  m.bearer_capabilities = 0;
  m.firmware_revision = 0x0690;
  m.host_name = std::move(host);
  m.vendor_name = "xelerance.com";
  m.assigned_tunnel_id = tunnel_id;
  m.receive_window_size = 4;
  return m;
}

const Bytes kSccrqLacA = cat({
    hex("c802 0066 0000 0000 0000 0000"),                  // T L S, Length 102
    hex("80 08 00 00 00 00 00 01"),                        // Message Type SCCRQ
    hex("80 08 00 00 00 02 01 00"),                        // Protocol Version 1.0
    hex("80 0a 00 00 00 03 00 00 00 03"),                  // Framing Capabilities
    hex("80 0a 00 00 00 04 00 00 00 00"),                  // Bearer Capabilities
    hex("00 08 00 00 00 06 06 90"),                        // Firmware Revision (M clear)
    hex("80 0b 00 00 00 07 6c 61 63 2d 61"),               // Host Name "lac-a"
    cat({hex("00 13 00 00 00 08"), str("xelerance.com")}),  // Vendor Name (M clear)
    hex("80 08 00 00 00 09 15 63"),                        // Assigned Tunnel ID 5475
    hex("80 08 00 00 00 0a 00 04"),                        // Receive Window Size 4
});

TEST(Golden, SccrqEncodesToHandBuiltXl2tpdStyleBytes) {
  auto out = encode_control(control_header(0, 0, 0, 0), xl2tpd_sccrq("lac-a", 5475));
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(to_hex(*out), to_hex(kSccrqLacA));
}

TEST(Golden, HandBuiltSccrqDecodesToItsValues) {
  const Bytes body(kSccrqLacA.begin() + 12, kSccrqLacA.end());
  const ControlMessage m = decode_ok(body);
  EXPECT_EQ(without_wire_order(m), xl2tpd_sccrq("lac-a", 5475));
  EXPECT_TRUE(validate_message(m));
}

// xl2tpd-user.pcap frame 1, byte for byte.
const Bytes kXl2tpdSccrqLacU = hex(
    "c8020066000000000000000080080000000000018008000000020100800a0000000300000003800a0000"
    "0004000000000008000000060690800b000000076c61632d7500130000000878656c6572616e63652e63"
    "6f6d800800000009485f80080000000a0004");

TEST(Golden, SccrqEncodesToTheBytesXl2tpdSent) {
  auto out = encode_control(control_header(0, 0, 0, 0), xl2tpd_sccrq("lac-u", 0x485f));
  ASSERT_TRUE(out);
  EXPECT_EQ(to_hex(*out), to_hex(kXl2tpdSccrqLacU));
}

// xl2tpd-auth.pcap frame 1: Random Vector right after Message Type, then a
// Challenge at the end, which is also the canonical order.
const Bytes kXl2tpdSccrqWithChallenge = hex(
    "c80200920000000000000000800800000000000180160000002443e2677da54180a82ddbf86438414f87"
    "8008000000020100800a0000000300000003800a00000004000000000008000000060690800b00000007"
    "6c61632d6100130000000878656c6572616e63652e636f6d800800000009156380080000000a00048016"
    "0000000b1aaa71b31495f9a92fce755841aeae12");

TEST(Golden, SccrqWithRandomVectorAndChallengeEncodesToTheBytesXl2tpdSent) {
  ControlMessage m = xl2tpd_sccrq("lac-a", 0x1563);
  m.random_vector = hex("43e2677da54180a82ddbf86438414f87");
  m.challenge = hex("1aaa71b31495f9a92fce755841aeae12");
  auto out = encode_control(control_header(0, 0, 0, 0), m);
  ASSERT_TRUE(out);
  EXPECT_EQ(to_hex(*out), to_hex(kXl2tpdSccrqWithChallenge));
}

// xl2tpd-basic.pcap frame 32: StopCCN with Assigned Tunnel ID before Result
// Code, which is not the canonical (ascending) order.
const Bytes kXl2tpdStopccnBody = hex(
    "8008000000000004800800000009816b80120000000100010000476f6f6462796521");

TEST(Golden, Xl2tpdStopCcnDecodesAndReencodesInWireOrder) {
  const ControlMessage m = decode_ok(kXl2tpdStopccnBody);
  EXPECT_EQ(m.type(), MessageType::kStopccn);
  EXPECT_EQ(m.assigned_tunnel_id, 0x816b);
  EXPECT_EQ(m.result_code, (ResultCode{1, 0, "Goodbye!"}));
  EXPECT_TRUE(validate_message(m));
  EXPECT_EQ(to_hex(encode_body(m)), to_hex(kXl2tpdStopccnBody));
}

TEST(Golden, WithoutWireOrderResultCodeComesBeforeAssignedTunnelId) {
  const Bytes body = encode_body(without_wire_order(decode_ok(kXl2tpdStopccnBody)));
  EXPECT_EQ(to_hex(body),
            "8008000000000004" "80120000000100010000476f6f6462796521" "800800000009816b");
}

// xl2tpd-basic.pcap frame 8: ICCN with Rx Connect Speed, M clear.
const Bytes kXl2tpdIccnBody = hex(
    "800800000000000c800a0000001800000000800a0000001300000001000a0000002600000000");

TEST(Golden, Xl2tpdIccnKeepsRxConnectSpeedMClear) {
  const ControlMessage m = decode_ok(kXl2tpdIccnBody);
  EXPECT_EQ(m.type(), MessageType::kIccn);
  EXPECT_EQ(m.tx_connect_speed, 0u);
  EXPECT_EQ(m.framing_type, kFramingSync);
  EXPECT_EQ(m.rx_connect_speed, 0u);
  ASSERT_EQ(m.wire_order.size(), 4u);
  EXPECT_EQ(m.wire_order[3], (AvpMeta{0, 38, false, false}));
  EXPECT_TRUE(validate_message(m));
  EXPECT_EQ(to_hex(encode_body(m)), to_hex(kXl2tpdIccnBody));
}

TEST(Golden, ZlbIsTheTwelveOctetHeaderAlone) {
  ControlMessage zlb;
  zlb.zlb = true;
  auto out = encode_control(control_header(0x816b, 0, 1, 2), zlb);
  ASSERT_TRUE(out);
  EXPECT_EQ(to_hex(*out), "c802000c816b000000010002");
}

TEST(Golden, EncodeControlComputesLengthOverHeaderAndAvps) {
  auto out = encode_control(control_header(0x524d, 0, 1, 1), [] {
    ControlMessage m;
    m.message_type = u(MessageType::kScccn);
    return m;
  }());
  ASSERT_TRUE(out);
  // xl2tpd-basic.pcap frame 3.
  EXPECT_EQ(to_hex(*out), "c8020014524d0000000100018008000000000003");
}

TEST(Golden, MBitsComeFromTheTableNotFromTheDecodedMessage) {
  // A peer that clears M on Host Name (4.4.3 says set): we send it set.
  const Bytes body = cat({mt_avp(6), ietf(7, str("x"), false)});
  const ControlMessage m = decode_ok(body);
  EXPECT_FALSE(m.wire_order[1].mandatory);
  EXPECT_EQ(to_hex(encode_body(m)), to_hex(cat({mt_avp(6), ietf(7, str("x"), true)})));
}

// ---------------------------------------------------------------- decode errors

TEST(DecodeMessage, EmptyBodyIsAZlbThatValidates) {
  auto m = decode_message({});
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->zlb);
  EXPECT_FALSE(m->has(AvpType::kMessageType));
  EXPECT_TRUE(validate_message(*m));
  EXPECT_TRUE(m->wire_order.empty());
}

TEST(DecodeMessage, FirstAvpOtherThanMessageTypeIsMissingMessageType) {
  const Bytes body = cat({ietf(7, str("lac")), mt_avp(1)});
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kMissingMessageType);
  EXPECT_EQ(m.error().value, 7u);
  EXPECT_EQ(m.error().offset, 0u);
}

TEST(DecodeMessage, VendorAvpFirstIsMissingMessageType) {
  // Type 0 but vendor 9: not the IETF Message Type.
  auto m = decode_message(avp(true, false, 9, 0, {0x00, 0x01}));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kMissingMessageType);
}

TEST(DecodeMessage, HiddenMessageTypeFirstIsMissingMessageType) {
  auto m = decode_message(avp(true, true, 0, 0, {0x00, 0x01}), {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kMissingMessageType);
}

TEST(DecodeMessage, MessageTypeTwiceIsDuplicateAvp) {
  const Bytes body = cat({mt_avp(6), mt_avp(6)});
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kDuplicateAvp);
  EXPECT_EQ(m.error().avp_type, 0);
  EXPECT_EQ(m.error().offset, 8u);
}

TEST(DecodeMessage, AnyAvpTwiceIsDuplicateAvpNamingIt) {
  for (uint16_t t = 1; t < kAvpTypeLimit; ++t) {
    if (t == 20 || t == u(AvpType::kRandomVector)) continue;
    ControlMessage once = hello();
    set_field(once, t);
    const Bytes one = encode_body(once);
    const Bytes avp_bytes(one.begin() + 8, one.end());
    const Bytes body = cat({one, avp_bytes});
    auto m = decode_message(body);
    ASSERT_FALSE(m) << avp_spec(t)->name;
    EXPECT_EQ(m.error().code, Errc::kDuplicateAvp) << avp_spec(t)->name;
    EXPECT_EQ(m.error().avp_type, t);
    EXPECT_EQ(m.error().offset, one.size());
  }
}

TEST(DecodeMessage, RandomVectorTwiceKeepsTheLastOne) {
  const Bytes body = cat({mt_avp(6), ietf(36, Bytes(4, 0x11)), ietf(36, Bytes(8, 0x22))});
  const ControlMessage m = decode_ok(body);
  EXPECT_EQ(m.random_vector, Bytes(8, 0x22));
  EXPECT_EQ(m.wire_order.size(), 3u);
}

TEST(DecodeMessage, UnknownMessageTypeWithMSetDecodesAndFailsValidation) {
  const ControlMessage m = decode_ok(mt_avp(99, true));
  EXPECT_EQ(m.message_type, 99);
  EXPECT_TRUE(m.message_type_mandatory);
  auto v = validate_message(m);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kUnknownMessageType);
  EXPECT_EQ(v.error().value, 99u);
  EXPECT_EQ(v.error().avp_type, 0);
  EXPECT_THAT(v.error().field, HasSubstr("M set"));
}

TEST(DecodeMessage, UnknownMessageTypeWithMClearSaysMClear) {
  const ControlMessage m = decode_ok(mt_avp(99, false));
  EXPECT_FALSE(m.message_type_mandatory);
  auto v = validate_message(m);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kUnknownMessageType);
  EXPECT_EQ(v.error().value, 99u);
  EXPECT_THAT(v.error().field, HasSubstr("M clear"));
}

TEST(DecodeMessage, UnassignedMessageTypesFailValidation) {
  for (uint16_t t : {0, 5, 13, 17, 0xffff}) {
    auto v = validate_message(decode_ok(mt_avp(t)));
    ASSERT_FALSE(v) << t;
    EXPECT_EQ(v.error().code, Errc::kUnknownMessageType);
    EXPECT_EQ(v.error().value, t);
  }
}

TEST(DecodeMessage, MessageTypeWithMClearIsKeptForReencoding) {
  const Bytes body = mt_avp(6, false);
  EXPECT_EQ(to_hex(encode_body(decode_ok(body))), to_hex(body));
}

void expect_unrecognized(uint16_t type, bool m_bit) {
  SCOPED_TRACE(::testing::Message() << "type " << type << (m_bit ? " M set" : " M clear"));
  const Bytes body = cat({mt_avp(6), ietf(type, hex("deadbeef"), m_bit)});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.unrecognized.size(), 1u);
  EXPECT_EQ(m.unrecognized[0], (OpaqueAvp{0, type, m_bit, false, 0, hex("deadbeef")}));
  EXPECT_EQ(m.wire_order.back(), (AvpMeta{0, type, m_bit, false, AvpKept::kUnrecognized}));
  EXPECT_TRUE(m.vendor_avps.empty());
  if (m_bit) {
    EXPECT_EQ(m.unrecognized_mandatory(), &m.unrecognized[0]);
  } else {
    EXPECT_EQ(m.unrecognized_mandatory(), nullptr);
  }
  EXPECT_TRUE(validate_message(m));  // 4.2 is the caller's decision
}

TEST(DecodeMessage, UnknownAvpType20WithMSetIsUnrecognizedMandatory) { expect_unrecognized(20, true); }
TEST(DecodeMessage, UnknownAvpType45WithMSetIsUnrecognizedMandatory) { expect_unrecognized(45, true); }
TEST(DecodeMessage, UnknownAvpType20WithMClearIsListedButNotMandatory) { expect_unrecognized(20, false); }
TEST(DecodeMessage, UnknownAvpType45WithMClearIsListedButNotMandatory) { expect_unrecognized(45, false); }

TEST(DecodeMessage, UnrecognizedMandatoryReturnsTheFirstMandatoryOne) {
  const Bytes body = cat({mt_avp(6), ietf(41, {}, false), ietf(42, {1}), ietf(43, {2})});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.unrecognized.size(), 3u);
  EXPECT_EQ(m.unrecognized_mandatory(), &m.unrecognized[1]);
}

TEST(DecodeMessage, AvpWithReservedBitsSetIsUnrecognized) {
  // 4.1: reserved bits set: treat as unrecognized, even for a known type.
  const Bytes body = cat({mt_avp(1), avp(true, false, 0, 9, {0x15, 0x63}, 0x1)});
  const ControlMessage m = decode_ok(body);
  EXPECT_FALSE(m.assigned_tunnel_id);
  ASSERT_EQ(m.unrecognized.size(), 1u);
  EXPECT_EQ(m.unrecognized[0].type, 9);
  EXPECT_EQ(m.unrecognized[0].reserved, 0x1);
  EXPECT_EQ(m.unrecognized_mandatory(), &m.unrecognized[0]);
}

TEST(DecodeMessage, AvpWithReservedBitsAndMClearIsNotMandatory) {
  const Bytes body = cat({mt_avp(6), avp(false, false, 0, 6, {0x06, 0x90}, 0x8)});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.unrecognized.size(), 1u);
  EXPECT_EQ(m.unrecognized[0].reserved, 0x8);
  EXPECT_EQ(m.unrecognized_mandatory(), nullptr);
  EXPECT_FALSE(m.firmware_revision);
}

TEST(DecodeMessage, AvpWithReservedBitsDoesNotCountAsADuplicate) {
  const Bytes body =
      cat({mt_avp(6), avp(true, false, 0, 7, str("a"), 0x2), ietf(7, str("b"))});
  const ControlMessage m = decode_ok(body);
  EXPECT_EQ(m.host_name, "b");
}

const Bytes kVendorAvp = avp(false, false, 9, 1, hex("deadbeef"));

TEST(DecodeMessage, VendorAvpIsKeptRawInVendorAvps) {
  const Bytes body = cat({mt_avp(6), kVendorAvp});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.vendor_avps.size(), 1u);
  EXPECT_EQ(m.vendor_avps[0], (OpaqueAvp{9, 1, false, false, 0, hex("deadbeef")}));
  EXPECT_TRUE(m.unrecognized.empty());
  EXPECT_EQ(m.unrecognized_mandatory(), nullptr);
  EXPECT_EQ(m.wire_order[1], (AvpMeta{9, 1, false, false, AvpKept::kVendor}));
}

TEST(DecodeMessage, VendorAvpWithMSetIsUnrecognizedMandatory) {
  // 4.2: this implementation understands no vendor AVP.
  const Bytes body = cat({mt_avp(6), avp(true, false, 9, 1, hex("00"))});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.vendor_avps.size(), 1u);
  EXPECT_EQ(m.unrecognized_mandatory(), &m.vendor_avps[0]);
}

TEST(DecodeMessage, HiddenVendorAvpIsKeptEncryptedWithoutASecret) {
  const Bytes body = cat({mt_avp(6), avp(false, true, 9, 1, hex("0102030405"))});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.vendor_avps.size(), 1u);
  EXPECT_TRUE(m.vendor_avps[0].hidden);
  EXPECT_EQ(m.vendor_avps[0].value, hex("0102030405"));
}

TEST(EncodeAvps, VendorAvpIsReencodedInItsWireOrderPlace) {
  const Bytes body = cat({mt_avp(1), ietf(2, {1, 0}), kVendorAvp, ietf(7, str("lac")),
                          avp(true, true, 0x137, 5, hex("aabb")), ietf(3, {0, 0, 0, 3})});
  EXPECT_EQ(to_hex(encode_body(decode_ok(body))), to_hex(body));
}

TEST(EncodeAvps, VendorAvpsGoLastWithoutWireOrder) {
  ControlMessage m = hello();
  m.vendor_avps.push_back({9, 1, false, false, 0, hex("deadbeef")});
  m.host_name = "h";
  EXPECT_EQ(to_hex(encode_body(m)), to_hex(cat({mt_avp(6), ietf(7, str("h")), kVendorAvp})));
}

TEST(EncodeAvps, ReencodingADecodedMessageDropsUnrecognizedAvpsAndKeepsTheRestInPlace) {
  // RFC 2661 4.2: an unrecognized AVP with M clear is ignored, so it is never
  // sent on; everything understood keeps its place.
  const Bytes body = cat({mt_avp(6), ietf(45, hex("deadbeef"), false), ietf(39, {})});
  EXPECT_EQ(to_hex(encode_body(decode_ok(body))), to_hex(cat({mt_avp(6), ietf(39, {})})));
}

TEST(EncodeAvps, VendorAvpWithReservedBitsDoesNotShiftTheOtherVendorAvps) {
  // A vendor AVP with reserved bits set is unrecognized (4.1); the vendor
  // AVPs after it must stay where they were.
  Bytes reserved_vendor = {0x04, 0x08, 0x00, 0x09, 0x00, 0x01, 0xAA, 0xBB};  // reserved bit 0x0400
  Bytes vendor2 = {0x00, 0x08, 0x00, 0x09, 0x00, 0x02, 0xCC, 0xDD};
  Bytes vendor3 = {0x00, 0x08, 0x00, 0x09, 0x00, 0x03, 0xEE, 0xFF};
  const Bytes body = cat({mt_avp(6), reserved_vendor, ietf(39, {}), vendor2, vendor3});
  auto m = decode_ok(body);
  ASSERT_EQ(m.vendor_avps.size(), 2u);
  ASSERT_EQ(m.unrecognized.size(), 1u);
  EXPECT_EQ(m.wire_order[1].kept, AvpKept::kUnrecognized);
  EXPECT_EQ(to_hex(encode_body(m)), to_hex(cat({mt_avp(6), ietf(39, {}), vendor2, vendor3})));
}

TEST(DecodeMessage, TrailingOctetsAfterTheLastAvpAreTruncated) {
  for (size_t extra = 1; extra <= 5; ++extra) {
    Bytes body = mt_avp(6);
    body.insert(body.end(), extra, 0);
    auto m = decode_message(body);
    ASSERT_FALSE(m) << extra;
    EXPECT_EQ(m.error().code, Errc::kTruncated);
    EXPECT_EQ(m.error().offset, 8u);
  }
}

TEST(DecodeMessage, AvpLengthBelowSixIsBadAvpLength) {
  const Bytes body = cat({mt_avp(6), hex("8005000000070000")});
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(m.error().value, 5u);
}

TEST(DecodeMessage, ErrorOffsetsCountFromTheBaseOffset) {
  const Bytes body = cat({mt_avp(1), ietf(7, {})});
  auto m = decode_message(body, {{}, 12});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().offset, 20u);
}

TEST(DecodeMessage, RandomMutationsOfAFullMessageNeverCrash) {
  EncodeOptions o;
  o.secret = as_bytes(kSecret);
  o.hide.set(u(AvpType::kAssignedTunnelId)).set(u(AvpType::kChallenge));
  const Bytes body = encode_body(full_message(kSection6[0]), o);
  std::mt19937 rng(4242);
  std::uniform_int_distribution<size_t> pos(0, body.size() - 1);
  std::uniform_int_distribution<int> octet(0, 255);
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes b = body;
    for (int k = 0; k < 1 + i % 4; ++k) b[pos(rng)] = static_cast<uint8_t>(octet(rng));
    b.resize(std::uniform_int_distribution<size_t>(0, b.size())(rng));
    b.shrink_to_fit();
    auto m = decode_message(b, {as_bytes(kSecret)});
    if (!m) continue;
    ++decoded;
    (void)validate_message(*m);
    Bytes again;
    (void)encode_avps(*m, {}, again);
  }
  EXPECT_GT(decoded, 0);
}

// ---------------------------------------------------------------- hidden AVPs

EncodeOptions hiding(std::initializer_list<AvpType> types) {
  EncodeOptions o;
  o.secret = as_bytes(kSecret);
  for (AvpType t : types) o.hide.set(u(t));
  return o;
}

Bytes hidden_value(uint16_t type, const Bytes& rv, const Bytes& value, size_t pad = 0,
                   std::string_view secret = kSecret) {
  Bytes out;
  hide_value(type, as_bytes(secret), rv, value, pad, out);
  return out;
}

TEST(Hidden, HidingHostNameIsNotAllowed) {
  ControlMessage m = full_message(kSection6[0]);  // SCCRQ with Random Vector
  Bytes out;
  auto s = encode_avps(m, hiding({AvpType::kAssignedTunnelId, AvpType::kChallenge, AvpType::kHostName}),
                       out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kNotAllowed);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kHostName));
  EXPECT_STREQ(s.error().field, "Host Name");
}

TEST(Hidden, HidingEveryMustNotBeHiddenAvpIsNotAllowed) {
  for (uint16_t t : kNeverHidden) {
    if (t == 0) continue;  // see HidingMessageTypeIsNotAllowed
    ControlMessage m = hello();
    set_field(m, t);
    set_field(m, u(AvpType::kRandomVector));
    EncodeOptions o = hiding({});
    o.hide.set(t);
    Bytes out;
    auto s = encode_avps(m, o, out);
    ASSERT_FALSE(s) << avp_spec(t)->name;
    EXPECT_EQ(s.error().code, Errc::kNotAllowed) << avp_spec(t)->name;
    EXPECT_EQ(s.error().avp_type, t);
  }
}

TEST(Hidden, HidingMessageTypeIsNotAllowed) {
  // message.hpp: encode_avps fails for "a type in `hide` that must not be
  // hidden"; Message Type is always present and 4.4.1 forbids hiding it.
  ControlMessage m = hello();
  m.random_vector = kRv16;
  Bytes out;
  auto s = encode_avps(m, hiding({AvpType::kMessageType}), out);
  ASSERT_FALSE(s) << "Message Type silently sent in the clear: " << to_hex(out);
  EXPECT_EQ(s.error().code, Errc::kNotAllowed);
  EXPECT_EQ(s.error().avp_type, 0);
}

ControlMessage icrq_with_called_number() {
  ControlMessage m;
  m.message_type = u(MessageType::kIcrq);
  m.random_vector = kRv16;
  m.assigned_session_id = 0x43e0;
  m.call_serial_number = 1;
  m.called_number = "0123456789012345678";  // 19: two MD5 blocks once hidden
  return m;
}

TEST(Hidden, HiddenAvpsMatchIndependentlyComputedGoldenBytes) {
  const Bytes body = encode_body(icrq_with_called_number(),
                                 hiding({AvpType::kAssignedSessionId, AvpType::kCalledNumber}));
  const Bytes want = cat({
      hex("80 08 00 00 00 00 00 0a"),                                  // ICRQ
      hex("80 16 00 00 00 24"), kRv16,                                 // Random Vector
      hex("c0 16 00 00 00 0e 809e539bf5448f97d0c414417fd3922e"),       // Assigned Session ID, H
      hex("80 0a 00 00 00 0f 00 00 00 01"),                            // Call Serial Number
      hex("c0 26 00 00 00 15 8703963451441d834b0cb0cb186d7718"
          "9f7e884d5c7c0e09204da30cacac1f69"),                         // Called Number, H
  });
  EXPECT_EQ(to_hex(body), to_hex(want));
}

TEST(Hidden, AssignedTunnelIdHiddenMatchesIndependentlyComputedBytes) {
  ControlMessage m = xl2tpd_sccrq("lac-a", 5475);
  m.random_vector = kRv16;
  const Bytes body = encode_body(m, hiding({AvpType::kAssignedTunnelId}));
  const Bytes tid = hex("c0 16 00 00 00 09 7c693b062e503629690cb479f4544479");
  EXPECT_NE(std::search(body.begin(), body.end(), tid.begin(), tid.end()), body.end()) << to_hex(body);
}

TEST(Hidden, HiddenAssignedTunnelIdAndCalledNumberDecodeWithTheSecret) {
  ControlMessage m = icrq_with_called_number();
  m.assigned_tunnel_id = 5475;
  const Bytes body = encode_body(m, hiding({AvpType::kAssignedTunnelId, AvpType::kCalledNumber}));
  const ControlMessage back = decode_ok(body, {as_bytes(kSecret)});
  EXPECT_EQ(back.assigned_tunnel_id, 5475);
  EXPECT_EQ(back.called_number, "0123456789012345678");
  EXPECT_EQ(without_wire_order(back), m);
  for (const AvpMeta& w : back.wire_order) {
    const bool hidden = w.type == u(AvpType::kAssignedTunnelId) || w.type == u(AvpType::kCalledNumber);
    EXPECT_EQ(w.hidden, hidden) << w.type;
  }
  // With wire_order, the hidden flags are not what decides hiding: options are.
  EXPECT_EQ(to_hex(encode_body(back, hiding({AvpType::kAssignedTunnelId, AvpType::kCalledNumber}))),
            to_hex(body));
}

TEST(Hidden, DecodeWithoutSecretIsHiddenNoSecretNamingTheAvp) {
  const Bytes body = encode_body(icrq_with_called_number(), hiding({AvpType::kCalledNumber}));
  auto m = decode_message(body);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kHiddenNoSecret);
  EXPECT_EQ(m.error().avp_type, u(AvpType::kCalledNumber));
  EXPECT_STREQ(m.error().field, "Called Number");
}

TEST(Hidden, HiddenAvpBeforeAnyRandomVectorIsHiddenNoVector) {
  const Bytes body = cat({mt_avp(1), avp(true, true, 0, 9, hidden_value(9, kRv16, {0x15, 0x63}, 12)),
                          ietf(36, kRv16)});
  auto m = decode_message(body, {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kHiddenNoVector);
  EXPECT_EQ(m.error().avp_type, 9);
  EXPECT_EQ(m.error().offset, 8u);
}

const Bytes kRv1(16, 0x11);
const Bytes kRv2(16, 0x22);

TEST(Hidden, TheRandomVectorClosestBeforeTheHiddenAvpIsUsed) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv1), ietf(36, kRv2),
                          avp(true, true, 0, 9, hidden_value(9, kRv2, {0x15, 0x63}, 4))});
  const ControlMessage m = decode_ok(body, {as_bytes(kSecret)});
  EXPECT_EQ(m.assigned_tunnel_id, 5475);
  EXPECT_EQ(m.random_vector, kRv2);
}

TEST(Hidden, AnEarlierRandomVectorStillAppliesToTheAvpsBeforeTheNextOne) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv1),
                          avp(true, true, 0, 9, hidden_value(9, kRv1, {0x15, 0x63}, 4)),
                          ietf(36, kRv2),
                          avp(true, true, 0, 14, hidden_value(14, kRv2, {0x43, 0xe0}, 4))});
  const ControlMessage m = decode_ok(body, {as_bytes(kSecret)});
  EXPECT_EQ(m.assigned_tunnel_id, 5475);
  EXPECT_EQ(m.assigned_session_id, 0x43e0);
}

TEST(Hidden, AvpHiddenWithAnEarlierVectorButPlacedAfterALaterOneDoesNotDecodeToItsValue) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv1), ietf(36, kRv2),
                          avp(true, true, 0, 9, hidden_value(9, kRv1, {0x15, 0x63}, 14))});
  auto m = decode_message(body, {as_bytes(kSecret)});
  if (m) {
    EXPECT_NE(m->assigned_tunnel_id, std::optional<uint16_t>(5475));
  } else {
    EXPECT_TRUE(m.error().code == Errc::kHiddenBadLength || m.error().code == Errc::kBadAvpLength)
        << m.error().to_string();
    EXPECT_EQ(m.error().avp_type, 9);
  }
}

TEST(Hidden, WrongSecretDoesNotRevealTheValue) {
  const Bytes body = encode_body(icrq_with_called_number(), hiding({AvpType::kCalledNumber}));
  auto m = decode_message(body, {as_bytes("not-the-secret")});
  if (m) {
    EXPECT_NE(m->called_number, std::optional<std::string>("0123456789012345678"));
  }
}

TEST(Hidden, HidingWithoutASecretIsHiddenNoSecret) {
  EncodeOptions o;
  o.hide.set(u(AvpType::kCalledNumber));
  Bytes out;
  auto s = encode_avps(icrq_with_called_number(), o, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kHiddenNoSecret);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kCalledNumber));
}

TEST(Hidden, HidingWithoutARandomVectorIsHiddenNoVector) {
  ControlMessage m = icrq_with_called_number();
  m.random_vector.reset();
  Bytes out;
  auto s = encode_avps(m, hiding({AvpType::kCalledNumber}), out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kHiddenNoVector);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kCalledNumber));
}

TEST(Hidden, HideBitsForAbsentAvpsAreIgnored) {
  ControlMessage m = hello();
  Bytes out;
  EXPECT_TRUE(encode_avps(m, hiding({AvpType::kCalledNumber}), out));
  EXPECT_EQ(to_hex(out), to_hex(mt_avp(6)));
}

TEST(Hidden, PaddingMakesTheHiddenValueAMultipleOf16) {
  for (size_t len = 0; len <= 40; ++len) {
    ControlMessage m = hello();
    m.random_vector = kRv16;
    m.called_number = std::string(len, '7');
    const Bytes body = encode_body(m, hiding({AvpType::kCalledNumber}));
    // MT (8) + RV (22) + hidden Called Number
    ASSERT_GT(body.size(), 30u);
    const size_t avp_len = ((body[30] & 3) << 8) | body[31];
    EXPECT_EQ(body.size(), 30 + avp_len);
    EXPECT_EQ((avp_len - 6) % 16, 0u) << len;
    EXPECT_GE(avp_len - 6, 2 + len);
    EXPECT_LT(avp_len - 6, 2 + len + 16);
    EXPECT_EQ(decode_ok(body, {as_bytes(kSecret)}).called_number, m.called_number);
  }
}

TEST(Hidden, PadToZeroAddsNoPadding) {
  for (size_t len = 0; len <= 20; ++len) {
    ControlMessage m = hello();
    m.random_vector = kRv16;
    m.called_number = std::string(len, '7');
    EncodeOptions o = hiding({AvpType::kCalledNumber});
    o.hidden_pad_to = 0;
    const Bytes body = encode_body(m, o);
    EXPECT_EQ(body.size(), 30 + 6 + 2 + len);
    EXPECT_EQ(decode_ok(body, {as_bytes(kSecret)}).called_number, m.called_number);
  }
}

TEST(Hidden, PaddingIsDroppedWhenItWouldOverflowTheTenBitLength) {
  ControlMessage m = hello();
  m.random_vector = kRv16;
  m.called_number = std::string(1014, 'x');  // 6 + 2 + 1014 = 1022: no room to pad to 1030
  const Bytes body = encode_body(m, hiding({AvpType::kCalledNumber}));
  const size_t avp_len = ((body[30] & 3) << 8) | body[31];
  EXPECT_EQ(avp_len, 1022u);
  EXPECT_EQ(decode_ok(body, {as_bytes(kSecret)}).called_number, m.called_number);
}

TEST(Hidden, ValueTooLongOnceHiddenIsBadAvpLength) {
  ControlMessage m = hello();
  m.random_vector = kRv16;
  m.called_number = std::string(1016, 'x');  // fits in clear (1022), not hidden (1024)
  Bytes clear;
  EXPECT_TRUE(encode_avps(m, {}, clear));
  Bytes out;
  auto s = encode_avps(m, hiding({AvpType::kCalledNumber}), out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(s.error().avp_type, u(AvpType::kCalledNumber));
}

TEST(Hidden, HiddenFixedLengthAvpIsLengthCheckedAfterDecryption) {
  // Three octets of Assigned Tunnel ID, hidden and padded to 16.
  const Bytes body = cat({mt_avp(1), ietf(36, kRv16),
                          avp(true, true, 0, 9, hidden_value(9, kRv16, {1, 2, 3}, 11))});
  auto m = decode_message(body, {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kBadAvpLength);
  EXPECT_EQ(m.error().avp_type, 9);
  EXPECT_EQ(m.error().value, 9u);
}

TEST(Hidden, OriginalLengthBeyondTheSubformatIsHiddenBadLength) {
  Bytes hv = hidden_value(9, kRv16, {0x15, 0x63});
  hv.pop_back();  // Original Length 2, one octet left
  const Bytes body = cat({mt_avp(1), ietf(36, kRv16), avp(true, true, 0, 9, hv)});
  auto m = decode_message(body, {as_bytes(kSecret), 12});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kHiddenBadLength);
  EXPECT_EQ(m.error().avp_type, 9);
  EXPECT_EQ(m.error().offset, 12u + 30u);
  EXPECT_STREQ(m.error().field, "Assigned Tunnel ID");
}

TEST(Hidden, HiddenValueShorterThanOriginalLengthFieldIsTruncated) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv16), avp(true, true, 0, 9, {0x42})});
  auto m = decode_message(body, {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kTruncated);
  EXPECT_EQ(m.error().avp_type, 9);
}

TEST(Hidden, HiddenRandomVectorIsNotAllowed) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv16), avp(true, true, 0, 36, kRv16)});
  auto m = decode_message(body, {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kNotAllowed);
  EXPECT_EQ(m.error().avp_type, 36);
}

TEST(Hidden, HiddenSecondMessageTypeIsNotAllowed) {
  const Bytes body = cat({mt_avp(1), ietf(36, kRv16), avp(true, true, 0, 0, {0, 1})});
  auto m = decode_message(body, {as_bytes(kSecret)});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::kNotAllowed);
  EXPECT_EQ(m.error().avp_type, 0);
}

TEST(Hidden, HiddenUnknownAvpIsUnrecognizedWithoutNeedingASecret) {
  const Bytes body = cat({mt_avp(6), avp(true, true, 0, 45, hex("0102"))});
  const ControlMessage m = decode_ok(body);
  ASSERT_EQ(m.unrecognized.size(), 1u);
  EXPECT_TRUE(m.unrecognized[0].hidden);
  EXPECT_EQ(m.unrecognized_mandatory(), &m.unrecognized[0]);
}

TEST(Hidden, RandomVectorIsEncodedBeforeEveryHiddenAvp) {
  // Canonical order puts the Random Vector right after Message Type, so even
  // Result Code (type 1) could follow it; here Assigned Tunnel ID (9) does.
  ControlMessage m = xl2tpd_sccrq("lac-a", 5475);
  m.random_vector = kRv16;
  const ControlMessage back =
      decode_ok(encode_body(m, hiding({AvpType::kAssignedTunnelId})), {as_bytes(kSecret)});
  ASSERT_GE(back.wire_order.size(), 2u);
  EXPECT_EQ(back.wire_order[1].type, u(AvpType::kRandomVector));
}

}  // namespace
}  // namespace l2tp::wire
