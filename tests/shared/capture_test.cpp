// The real captures (xl2tpd 1.3.18 + pppd 2.4.9 on both sides, see
// tests/captures/README.md) as golden packets: every L2TP packet decodes,
// every control message re-encodes to exactly the bytes xl2tpd sent, and the
// tunnel authentication in xl2tpd-auth.pcap verifies with its secret.

#include <gtest/gtest.h>

#include <string>

#include "shared/bytes.hpp"
#include "shared/challenge.hpp"
#include "shared/header.hpp"
#include "shared/message.hpp"
#include "shared/ppp.hpp"
#include "tools/pcap_frames.hpp"

using namespace l2tp::wire;

namespace {

const std::string kDir = L2TP_TEST_CAPTURES;
constexpr std::string_view kAuthSecret = "s3cr3t-tunnel-key";

l2tp::tools::Capture load(const char* name) {
  auto c = l2tp::tools::read_capture(kDir + "/" + name);
  EXPECT_EQ(c.error, "") << name;
  return c;
}

class EveryCapture : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryCapture, EveryPacketDecodesAndControlMessagesReencodeToTheSameBytes) {
  auto cap = load(GetParam());
  ASSERT_FALSE(cap.frames.empty());
  size_t control = 0, data = 0;
  for (const auto& d : cap.frames) {
    SCOPED_TRACE("frame " + std::to_string(d.frame));
    ASSERT_EQ(d.skipped, "");
    ASSERT_EQ(d.dst_port, kL2tpPort);
    auto h = decode_header(d.payload);
    ASSERT_TRUE(h) << h.error().to_string();
    std::span<const uint8_t> body(d.payload.data() + h->header_len, h->message_len - h->header_len);
    if (!h->control) {
      ++data;
      auto p = parse_ppp(body);
      ASSERT_TRUE(p) << p.error().to_string();
      // pppd in userspace mode (xl2tpd-user.pcap) negotiates ACFC and
      // drops FF 03 from IPv4 frames: both forms occur on real links.
      if (p->protocol == ppp::kLcp) {
        EXPECT_TRUE(p->address_control);  // RFC 1661 6.6: never compressed for LCP
      }
      continue;
    }
    ++control;
    auto m = decode_message(body, {as_bytes(kAuthSecret), h->header_len});
    ASSERT_TRUE(m) << m.error().to_string();
    auto v = validate_message(*m);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_EQ(m->unrecognized_mandatory(), nullptr);
    // Golden: the header with the same flags and the AVPs in wire order with
    // the M bits of RFC 2661 4.4 give back xl2tpd's bytes exactly.
    auto again = encode_control(*h, *m);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(to_hex(*again), to_hex(d.payload));
  }
  EXPECT_GE(control, 9u);
  EXPECT_GE(data, 20u);
}

INSTANTIATE_TEST_SUITE_P(Captures, EveryCapture,
                         ::testing::Values("xl2tpd-basic.pcap", "xl2tpd-auth.pcap", "xl2tpd-user.pcap"));

TEST(Captures, AuthCaptureChallengeResponsesVerifyWithTheSecret) {
  auto cap = load("xl2tpd-auth.pcap");
  Bytes sccrq_challenge, sccrp_challenge;
  int verified = 0;
  for (const auto& d : cap.frames) {
    auto h = decode_header(d.payload);
    ASSERT_TRUE(h);
    if (!h->control) continue;
    auto m = decode_message({d.payload.data() + h->header_len, h->message_len - h->header_len});
    ASSERT_TRUE(m);
    if (m->zlb) continue;
    if (m->type() == MessageType::kSccrq) sccrq_challenge = m->challenge.value();
    if (m->type() == MessageType::kSccrp) {
      sccrp_challenge = m->challenge.value();
      EXPECT_TRUE(challenge_response_matches(MessageType::kSccrp, as_bytes(kAuthSecret), sccrq_challenge,
                                             m->challenge_response.value()));
      EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes("wrong"), sccrq_challenge,
                                              m->challenge_response.value()));
      ++verified;
    }
    if (m->type() == MessageType::kScccn) {
      EXPECT_TRUE(challenge_response_matches(MessageType::kScccn, as_bytes(kAuthSecret), sccrp_challenge,
                                             m->challenge_response.value()));
      // The ID is the message type: the SCCRP's ID does not verify here.
      EXPECT_FALSE(challenge_response_matches(MessageType::kSccrp, as_bytes(kAuthSecret), sccrp_challenge,
                                              m->challenge_response.value()));
      ++verified;
    }
  }
  EXPECT_EQ(verified, 2);
}

// Values as tshark 4.0 decodes them from the same file.
TEST(Captures, AuthCaptureValuesMatchTshark) {
  auto cap = load("xl2tpd-auth.pcap");
  auto msg = [&](size_t frame) {
    const auto& d = cap.frames.at(frame - 1);
    auto h = decode_header(d.payload).value();
    return std::make_pair(h, decode_message({d.payload.data() + h.header_len, h.message_len - h.header_len}).value());
  };
  auto [h1, sccrq] = msg(1);
  EXPECT_EQ(h1.tunnel_id, 0);
  EXPECT_EQ(h1.length, 146);
  EXPECT_EQ(sccrq.type(), MessageType::kSccrq);
  EXPECT_EQ(to_hex(*sccrq.random_vector), "43e2677da54180a82ddbf86438414f87");
  EXPECT_EQ(*sccrq.host_name, "lac-a");
  EXPECT_EQ(*sccrq.vendor_name, "xelerance.com");
  EXPECT_EQ(*sccrq.firmware_revision, 0x0690);
  EXPECT_EQ(*sccrq.assigned_tunnel_id, 5475);
  EXPECT_EQ(*sccrq.receive_window_size, 4);
  EXPECT_EQ(*sccrq.framing_capabilities, kFramingSync | kFramingAsync);
  EXPECT_EQ(to_hex(*sccrq.challenge), "1aaa71b31495f9a92fce755841aeae12");
  EXPECT_FALSE(sccrq.wire_order[5].mandatory);  // Firmware Revision, M clear (4.4.3)

  auto [h2, sccrp] = msg(2);
  EXPECT_EQ(h2.tunnel_id, 5475);
  EXPECT_EQ(h2.nr, 1);
  EXPECT_EQ(to_hex(*sccrp.challenge_response), "02d7092092906f638b6e65e041419b8d");
  EXPECT_EQ(*sccrp.assigned_tunnel_id, 42380);

  auto [h6, icrp] = msg(6);
  EXPECT_EQ(h6.session_id, 46540);
  EXPECT_EQ(*icrp.assigned_session_id, 59455);

  auto [h34, stop] = msg(34);
  EXPECT_EQ(stop.type(), MessageType::kStopccn);
  EXPECT_EQ(stop.result_code->result, result::kGeneralClearControl);
  EXPECT_EQ(stop.result_code->error, error_code::kNoError);
  EXPECT_EQ(stop.result_code->message, "Goodbye!");
}

TEST(Captures, UserspaceDataCarriesTheLengthBitAndKernelDataDoesNot) {
  auto user = load("xl2tpd-user.pcap");
  auto basic = load("xl2tpd-basic.pcap");
  auto h_user = decode_header(user.frames.at(9).payload).value();  // frame 10: LCP
  auto h_basic = decode_header(basic.frames.at(9).payload).value();
  EXPECT_FALSE(h_user.control);
  EXPECT_TRUE(h_user.has_length);
  EXPECT_EQ(h_user.length, user.frames.at(9).payload.size());
  EXPECT_FALSE(h_basic.has_length);
  EXPECT_FALSE(h_basic.has_sequence);
  EXPECT_EQ(h_basic.header_len, 6);
}

}  // namespace
