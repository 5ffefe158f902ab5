// Unit tests of ppp-peer's pure parts: the control packet codec, the RFC 1661
// automaton with the LCP and IPCP policies, and the pppd-style arguments.
// Two automata are wired back to back in memory; time is the test's.

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "ppp_cp.hpp"
#include "ppp_options.hpp"
#include "ppp_peer_args.hpp"

namespace l2tp::peer {
namespace {

constexpr uint8_t kReq = 1, kAck = 2, kNak = 3, kRej = 4, kTermReq = 5, kTermAck = 6, kCodeRej = 7;

// Records what an automaton does.
struct Recorder : FsmOutput {
  struct Sent {
    uint16_t protocol;
    Bytes info;
  };
  std::deque<Sent> sent;
  std::vector<std::string> events;
  void send(uint16_t protocol, const Bytes& info) override { sent.push_back({protocol, info}); }
  void layer_up(uint16_t) override { events.push_back("up"); }
  void layer_down(uint16_t) override { events.push_back("down"); }
  void layer_started(uint16_t) override { events.push_back("started"); }
  void layer_finished(uint16_t) override { events.push_back("finished"); }
  bool extra_code(uint16_t, const CpPacket&) override { return false; }
  Bytes pop() {
    EXPECT_FALSE(sent.empty());
    if (sent.empty()) return {};
    Bytes b = sent.front().info;
    sent.pop_front();
    return b;
  }
};

// Magic-Numbers from a fixed sequence, so packets are golden.
std::function<uint32_t()> magics(std::vector<uint32_t> seq) {
  auto i = std::make_shared<std::size_t>(0);
  return [seq, i] { return seq[(*i)++ % seq.size()]; };
}

struct LcpSide {
  Recorder out;
  LcpPolicy policy;
  Fsm fsm;
  explicit LcpSide(uint32_t magic) : policy(1500, magics({magic, magic + 1, magic + 2})), fsm(0xC021, policy, out) {}
  void start() {
    fsm.open();
    fsm.up();
  }
};

// Delivers every queued packet each way until both are quiet.
void exchange(Recorder& a_out, Fsm& a, Recorder& b_out, Fsm& b) {
  for (int guard = 0; guard < 100 && (!a_out.sent.empty() || !b_out.sent.empty()); ++guard) {
    if (!a_out.sent.empty()) b.receive(a_out.pop());
    if (!b_out.sent.empty()) a.receive(b_out.pop());
  }
}

// ---------------------------------------------------------------- codec

TEST(CpCodec, BuildsConfigureRequestWithMruAndMagic) {
  LcpSide s(0x11223344);
  s.start();
  ASSERT_EQ(s.out.sent.size(), 1u);
  // RFC 1661 5.1, 6.1, 6.4: code 1, id 1, length 14, MRU 1500, magic.
  EXPECT_EQ(s.out.sent[0].info,
            (Bytes{1, 1, 0, 14, 1, 4, 0x05, 0xDC, 5, 6, 0x11, 0x22, 0x33, 0x44}));
  EXPECT_EQ(s.out.sent[0].protocol, 0xC021);
}

TEST(CpCodec, IgnoresPaddingBeyondLengthAndRejectsBadLengths) {
  const Bytes padded{9, 7, 0, 8, 1, 2, 3, 4, 0xEE, 0xEE};
  const auto p = parse_cp(padded);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code, 9);
  EXPECT_EQ(p->id, 7);
  EXPECT_EQ(p->data.size(), 4u);
  EXPECT_FALSE(parse_cp(Bytes{1, 1, 0}));
  EXPECT_FALSE(parse_cp(Bytes{1, 1, 0, 3}));      // below the header
  EXPECT_FALSE(parse_cp(Bytes{1, 1, 0, 9, 0}));   // beyond the octets present
}

TEST(CpCodec, RejectsOptionsThatOverrunOrAreTooShort) {
  EXPECT_TRUE(parse_options(Bytes{1, 4, 5, 0xDC, 7, 2}));
  EXPECT_FALSE(parse_options(Bytes{1, 5, 5, 0xDC}));
  EXPECT_FALSE(parse_options(Bytes{1, 1}));
  EXPECT_FALSE(parse_options(Bytes{1}));
}

TEST(CpCodec, FrameCarriesAddressControlAndProtocol) {
  EXPECT_EQ(build_frame(0x8021, Bytes{1, 2}), (Bytes{0xFF, 0x03, 0x80, 0x21, 1, 2}));
}

TEST(CpCodec, EchoReplyCarriesOurMagicAndTheRequestsData) {
  const Bytes request{9, 0x42, 0, 11, 0xAA, 0xBB, 0xCC, 0xDD, 'p', 'i', 'n'};
  const auto reply = build_echo_reply(*parse_cp(request), 0x01020304);
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, (Bytes{10, 0x42, 0, 11, 1, 2, 3, 4, 'p', 'i', 'n'}));
  EXPECT_FALSE(build_echo_reply(*parse_cp(Bytes{9, 1, 0, 6, 0, 0}), 1));  // no room for a magic
}

TEST(CpCodec, ProtocolRejectNamesTheProtocolAndFitsThePeersMru) {
  const Bytes info(300, 0x5A);
  const Bytes reject = build_protocol_reject(7, 0x8057, info, 200);
  ASSERT_EQ(reject.size(), 200u);
  EXPECT_EQ(Bytes(reject.begin(), reject.begin() + 6), (Bytes{8, 7, 0, 200, 0x80, 0x57}));
  EXPECT_EQ(reject.back(), 0x5A);
  EXPECT_EQ(build_protocol_reject(1, 0x0057, Bytes{1, 2}, 1500), (Bytes{8, 1, 0, 8, 0x00, 0x57, 1, 2}));
}

// ---------------------------------------------------------------- LCP

TEST(Lcp, TwoPeersOpenAndLearnEachOthersMagic) {
  LcpSide a(0xA0A0A0A0), b(0xB0B0B0B0);
  a.start();
  b.start();
  exchange(a.out, a.fsm, b.out, b.fsm);
  EXPECT_EQ(a.fsm.state(), State::kOpened);
  EXPECT_EQ(b.fsm.state(), State::kOpened);
  EXPECT_EQ(a.policy.peer_magic(), 0xB0B0B0B0u);
  EXPECT_EQ(b.policy.peer_magic(), 0xA0A0A0A0u);
  EXPECT_EQ(a.policy.peer_mru(), 1500);
  EXPECT_FALSE(a.fsm.timer_running());
  EXPECT_EQ(a.out.events, (std::vector<std::string>{"started", "up"}));
}

TEST(Lcp, RejectsAuthProtocolAndQualityProtocol) {
  LcpSide s(1);
  s.start();
  s.out.pop();
  // Peer's request: MRU 1400, Auth-Protocol CHAP/MD5, Quality (LQR).
  const Bytes req{kReq, 9, 0, 21, 1, 4, 0x05, 0x78, 3, 5, 0xC2, 0x23, 5, 4, 8, 0xC0, 0x25, 0, 0, 0, 0};
  s.fsm.receive(req);
  // RFC 1661 5.4: only the rejected options, unmodified, same Identifier.
  EXPECT_EQ(s.out.pop(), (Bytes{kRej, 9, 0, 17, 3, 5, 0xC2, 0x23, 5, 4, 8, 0xC0, 0x25, 0, 0, 0, 0}));
  EXPECT_EQ(s.fsm.state(), State::kReqSent);
}

TEST(Lcp, NaksOwnMagicNumberAsLoopback) {
  LcpSide s(0x12345678);
  s.start();
  s.out.pop();
  s.fsm.receive(Bytes{kReq, 3, 0, 10, 5, 6, 0x12, 0x34, 0x56, 0x78});
  // The next random (0x12345679) is suggested instead.
  EXPECT_EQ(s.out.pop(), (Bytes{kNak, 3, 0, 10, 5, 6, 0x12, 0x34, 0x56, 0x79}));
}

TEST(Lcp, NakOfMruIsTakenWhenSmaller) {
  LcpSide s(7);
  s.start();
  const Bytes first = s.out.pop();
  s.fsm.receive(Bytes{kNak, first[1], 0, 8, 1, 4, 0x04, 0x00});
  const Bytes second = s.out.pop();
  EXPECT_EQ(second[0], kReq);
  EXPECT_NE(second[1], first[1]);  // RFC 1661 5.1: new Identifier for new contents
  EXPECT_EQ(get_u16(std::span(second).subspan(6)), 1024);
  EXPECT_EQ(s.policy.our_mru(), 1024);
}

TEST(Lcp, RejectedOptionsAreNotRequestedAgain) {
  LcpSide s(7);
  s.start();
  const Bytes first = s.out.pop();
  s.fsm.receive(Bytes{kRej, first[1], 0, 8, 1, 4, 0x05, 0xDC});
  const Bytes second = s.out.pop();
  EXPECT_EQ(second.size(), 10u);  // header and Magic-Number only
  EXPECT_EQ(second[4], lcp::kMagicNumber);
}

TEST(Lcp, AckWithWrongIdentifierOrOptionsIsDiscarded) {
  LcpSide s(7);
  s.start();
  Bytes req = s.out.pop();
  Bytes ack = req;
  ack[0] = kAck;
  ack[1] = static_cast<uint8_t>(req[1] + 1);
  s.fsm.receive(ack);
  EXPECT_EQ(s.fsm.state(), State::kReqSent);
  ack[1] = req[1];
  ack.back() ^= 1;  // a different magic than we sent
  s.fsm.receive(ack);
  EXPECT_EQ(s.fsm.state(), State::kReqSent);
  ack.back() ^= 1;
  s.fsm.receive(ack);
  EXPECT_EQ(s.fsm.state(), State::kAckRcvd);
}

TEST(Lcp, GivesUpAfterMaxConfigureRequests) {
  LcpSide s(7);
  s.start();
  for (int i = 1; i < Fsm::kMaxConfigure; ++i) {
    ASSERT_TRUE(s.fsm.timer_running());
    s.fsm.timeout();
  }
  EXPECT_EQ(s.out.sent.size(), static_cast<std::size_t>(Fsm::kMaxConfigure));
  s.fsm.timeout();  // TO-
  EXPECT_EQ(s.fsm.state(), State::kStopped);
  EXPECT_EQ(s.out.events.back(), "finished");
  // RFC 1661 4.2 Stopped: a Configure-Request from the peer starts again
  // (what pppd's "passive" waits for).
  s.fsm.receive(Bytes{kReq, 1, 0, 4});
  EXPECT_EQ(s.fsm.state(), State::kAckSent);
}

TEST(Lcp, CloseSendsTerminateRequestAndFinishesOnAck) {
  LcpSide a(1), b(2);
  a.start();
  b.start();
  exchange(a.out, a.fsm, b.out, b.fsm);
  a.fsm.close();
  EXPECT_EQ(a.fsm.state(), State::kClosing);
  const Bytes term = a.out.pop();
  EXPECT_EQ(term[0], kTermReq);
  b.fsm.receive(term);
  EXPECT_EQ(b.fsm.state(), State::kStopping);
  EXPECT_EQ(b.out.events.back(), "down");
  const Bytes term_ack = b.out.pop();
  EXPECT_EQ(term_ack, (Bytes{kTermAck, term[1], 0, 4}));
  a.fsm.receive(term_ack);
  EXPECT_EQ(a.fsm.state(), State::kClosed);
  EXPECT_EQ(a.out.events.back(), "finished");
  // The peer waits one restart period (zrc), then finishes too.
  ASSERT_TRUE(b.fsm.timer_running());
  b.fsm.timeout();
  EXPECT_EQ(b.fsm.state(), State::kStopped);
  EXPECT_EQ(b.out.events.back(), "finished");
}

TEST(Lcp, TerminateRequestRetransmitsThenGivesUp) {
  LcpSide a(1), b(2);
  a.start();
  b.start();
  exchange(a.out, a.fsm, b.out, b.fsm);
  a.fsm.close();
  a.fsm.timeout();
  EXPECT_EQ(a.out.sent.size(), 2u);  // Max-Terminate Terminate-Requests
  a.fsm.timeout();
  EXPECT_EQ(a.fsm.state(), State::kClosed);
  EXPECT_EQ(a.out.events.back(), "finished");
}

TEST(Lcp, UnknownCodeGetsCodeReject) {
  LcpSide s(1);
  s.start();
  s.out.pop();
  s.fsm.receive(Bytes{42, 5, 0, 6, 0xAB, 0xCD});
  EXPECT_EQ(s.out.pop(), (Bytes{kCodeRej, 2, 0, 10, 42, 5, 0, 6, 0xAB, 0xCD}));
}

TEST(Lcp, CodeRejectOfAConfigureCodeIsFatal) {
  LcpSide s(1);
  s.start();
  s.out.pop();
  s.fsm.receive(Bytes{kCodeRej, 1, 0, 8, kReq, 1, 0, 4});
  EXPECT_EQ(s.fsm.state(), State::kStopped);
  EXPECT_EQ(s.out.events.back(), "finished");
}

TEST(Lcp, NaksTurnIntoRejectsAfterMaxFailure) {
  LcpSide s(1);
  s.start();
  s.out.pop();
  const Bytes small_mru{kReq, 1, 0, 8, 1, 4, 0, 64};
  for (int i = 0; i < Fsm::kMaxFailure; ++i) {
    s.fsm.receive(small_mru);
    EXPECT_EQ(s.out.pop()[0], kNak);
    while (!s.out.sent.empty()) s.out.pop();
  }
  s.fsm.receive(small_mru);
  EXPECT_EQ(s.out.pop(), (Bytes{kRej, 1, 0, 8, 1, 4, 0, 64}));
}

// ---------------------------------------------------------------- IPCP

struct IpcpSide {
  Recorder out;
  IpcpPolicy policy;
  Fsm fsm;
  IpcpSide(uint32_t local, uint32_t remote) : policy(local, remote), fsm(0x8021, policy, out) {}
};

constexpr uint32_t kLns = 0x0A090001;  // 10.9.0.1
constexpr uint32_t kLac = 0x0A09000A;  // 10.9.0.10

TEST(Ipcp, PeerWithoutAddressGetsOneByNak) {
  IpcpSide lns(kLns, kLac), lac(0, 0);
  lns.fsm.open();
  lns.fsm.up();
  lac.fsm.open();
  lac.fsm.up();
  // RFC 1332 3.3: the LAC asks for 0.0.0.0.
  EXPECT_EQ(lac.out.sent[0].info, (Bytes{kReq, 1, 0, 10, 3, 6, 0, 0, 0, 0}));
  lns.fsm.receive(lac.out.pop());
  EXPECT_EQ(lns.out.sent.back().info, (Bytes{kNak, 1, 0, 10, 3, 6, 10, 9, 0, 10}));
  exchange(lns.out, lns.fsm, lac.out, lac.fsm);
  EXPECT_EQ(lns.fsm.state(), State::kOpened);
  EXPECT_EQ(lac.fsm.state(), State::kOpened);
  EXPECT_EQ(lac.policy.local(), kLac);
  EXPECT_EQ(lac.policy.remote(), kLns);
  EXPECT_EQ(lns.policy.local(), kLns);
  EXPECT_EQ(lns.policy.remote(), kLac);
}

TEST(Ipcp, AddressRequestWithNothingToGiveIsRejected) {
  IpcpSide s(kLns, 0);
  s.fsm.open();
  s.fsm.up();
  s.out.pop();
  s.fsm.receive(Bytes{kReq, 4, 0, 10, 3, 6, 0, 0, 0, 0});
  EXPECT_EQ(s.out.pop(), (Bytes{kRej, 4, 0, 10, 3, 6, 0, 0, 0, 0}));
}

TEST(Ipcp, CompressionIsRejectedAndAConfiguredLocalAddressIsKept) {
  IpcpSide s(kLns, kLac);
  s.fsm.open();
  s.fsm.up();
  const Bytes req = s.out.pop();
  // VJ compression (RFC 1332 3.2) is not ours to do.
  s.fsm.receive(Bytes{kReq, 8, 0, 16, 2, 6, 0x00, 0x2D, 0x0F, 0x01, 3, 6, 10, 9, 0, 10});
  EXPECT_EQ(s.out.pop(), (Bytes{kRej, 8, 0, 10, 2, 6, 0x00, 0x2D, 0x0F, 0x01}));
  // A Nak suggesting another address for us does not move a configured one.
  s.fsm.receive(Bytes{kNak, req[1], 0, 10, 3, 6, 192, 0, 2, 99});
  EXPECT_EQ(s.policy.local(), kLns);
  EXPECT_EQ(s.out.pop(), (Bytes{kReq, static_cast<uint8_t>(req[1] + 1), 0, 10, 3, 6, 10, 9, 0, 1}));
}

// ---------------------------------------------------------------- arguments

ReadFile files(std::map<std::string, std::string> m) {
  return [m](const std::string& path) -> std::optional<std::string> {
    const auto it = m.find(path);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(PeerArgs, ParsesXl2tpdCommandLine) {
  // xl2tpd 1.3: the tty right after argv[0], then its options.
  const auto r = parse_args({"/dev/pts/7", "passive", "nodetach", "10.9.0.1:10.9.0.10", "refuse-pap",
                             "refuse-chap", "name", "/odd", "debug", "file", "/etc/ppp/opts"},
                            files({{"/etc/ppp/opts", "# comment\nnoauth\nlogfile /tmp/p.log\nifname tun7\n"}}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.args.tty, "/dev/pts/7");  // "name /odd" is not a device
  EXPECT_TRUE(r.args.passive);
  EXPECT_TRUE(r.args.nodetach);
  EXPECT_EQ(r.args.local, kLns);
  EXPECT_EQ(r.args.remote, kLac);
  EXPECT_EQ(r.args.logfile, "/tmp/p.log");
  EXPECT_EQ(r.args.ifname, "tun7");
}

TEST(PeerArgs, ParsesOurDaemonsCommandLineWithEmptyLocal) {
  // As control/pppd_handler.cpp builds it, the passwordfd plugin included.
  const auto r = parse_args({"passive", "nodetach", ":10.9.0.10", "noauth", "idle", "0", "ipparam", "tunnel 3",
                             "plugin", "passwordfd.so", "passwordfd", "3", "/dev/pts/2"},
                            files({}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.args.local, 0u);
  EXPECT_EQ(r.args.remote, kLac);
  EXPECT_EQ(r.args.ipparam, "tunnel 3");
  EXPECT_EQ(r.args.tty, "/dev/pts/2");
}

TEST(PeerArgs, WithoutDeviceUsesStdin) {
  const auto r = parse_args({"nodetach", "mru", "1400", "ip-up-script", "/x/up"}, files({}));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.args.tty, "");
  EXPECT_EQ(r.args.mru, 1400);
  EXPECT_EQ(r.args.ip_up_script, "/x/up");
}

TEST(PeerArgs, ReportsErrors) {
  EXPECT_NE(parse_args({"10.9.0.300:"}, files({})).error, "");
  EXPECT_NE(parse_args({"file", "/missing"}, files({})).error, "");
  EXPECT_NE(parse_args({"ipparam"}, files({})).error, "");
  EXPECT_NE(parse_args({"mru", "20"}, files({})).error, "");
  EXPECT_NE(parse_args({"file", "/loop"}, files({{"/loop", "file /loop"}})).error, "");
}

TEST(PeerArgs, OptionsFileQuotesAndComments) {
  EXPECT_EQ(split_options_file("a \"b c\" # d e\n f"), (std::vector<std::string>{"a", "b c", "f"}));
}

}  // namespace
}  // namespace l2tp::peer
