// The classic PPP handler: pppd_arguments() as a pure function, and the pty
// handoff with tests/control/fake_pppd.cpp standing in for pppd (this kernel
// has no PPP). No test sleeps: every wait is the event loop's own, bounded
// by a guard only a broken handler reaches.

#include "control/pppd_handler.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace l2tp::control;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr Duration kGuard = 10s;

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

// ---- pppd_arguments -------------------------------------------------------

TEST(PppdArguments, DefaultsArePassiveNodetachNoAddressesAndNoauth) {
  EXPECT_EQ(pppd_arguments({}),
            (std::vector<std::string>{"passive", "nodetach", ":", "noauth"}));
}

TEST(PppdArguments, LnsCallCarriesAddressesAuthFileNameDebugAndIpparam) {
  PppdConfig c;
  c.local_ip = ip(192, 0, 2, 1);
  c.remote_ip = ip(192, 0, 2, 100);
  c.require_authentication = true;
  c.require_chap = true;
  c.refuse_pap = true;
  c.pppoptfile = "/etc/ppp/options.l2tpd.lns";
  c.name = "lns.example";
  c.debug = true;
  c.ipparam = "198.51.100.7";
  EXPECT_EQ(pppd_arguments(c),
            (std::vector<std::string>{"passive", "nodetach", "192.0.2.1:192.0.2.100",
                                      "refuse-pap", "auth", "require-chap", "file",
                                      "/etc/ppp/options.l2tpd.lns", "name", "lns.example",
                                      "debug", "ipparam", "198.51.100.7"}));
}

TEST(PppdArguments, RefuseAuthenticationRefusesBothProtocols) {
  PppdConfig c;
  c.refuse_authentication = true;
  EXPECT_EQ(pppd_arguments(c), (std::vector<std::string>{"passive", "nodetach", ":",
                                                         "refuse-pap", "refuse-chap", "noauth"}));
}

TEST(PppdArguments, RequirePapWithoutRequireAuthenticationAsksNothingOfThePeer) {
  // xl2tpd passes require-pap/require-chap only under "require authentication".
  PppdConfig c;
  c.require_pap = true;
  EXPECT_EQ(pppd_arguments(c),
            (std::vector<std::string>{"passive", "nodetach", ":", "noauth"}));
}

TEST(PppdArguments, RequireAuthenticationWithBothProtocolsAndUnixLogin) {
  PppdConfig c;
  c.require_authentication = true;
  c.require_pap = true;
  c.require_chap = true;
  c.unix_authentication = true;
  EXPECT_EQ(pppd_arguments(c),
            (std::vector<std::string>{"passive", "nodetach", ":", "auth", "require-pap",
                                      "require-chap", "login"}));
}

TEST(PppdArguments, LacWithDefaultrouteAndOnlyARemoteAddress) {
  PppdConfig c;
  c.defaultroute = true;
  c.remote_ip = ip(10, 0, 0, 2);
  EXPECT_EQ(pppd_arguments(c), (std::vector<std::string>{"passive", "nodetach", "defaultroute",
                                                         ":10.0.0.2", "noauth"}));
}

TEST(PppdArguments, AnOptionsFileIdleIsOverriddenWithIdleZeroAfterTheFile) {
  PppdConfig c;
  c.pppoptfile = "/etc/ppp/options.lns";
  c.override_idle = true;
  EXPECT_EQ(pppd_arguments(c), (std::vector<std::string>{"passive", "nodetach", ":", "noauth", "file",
                                                         "/etc/ppp/options.lns", "idle", "0"}));
}

TEST(PppdArguments, WithADataPlaneNoHeaderOrPayloadCompressionAfterTheFile) {
  // VJ or CCP frames are not IPv4 to the fast path: they would take the
  // pty, and the LNS pppd has no route for them.
  PppdConfig c;
  c.pppoptfile = "/etc/ppp/options.lns";
  c.fast_path = true;
  EXPECT_EQ(pppd_arguments(c), (std::vector<std::string>{"passive", "nodetach", ":", "noauth", "file",
                                                         "/etc/ppp/options.lns", "novj", "novjccomp", "noccp"}));
  c.fast_path = false;
  for (const auto& a : pppd_arguments(c)) EXPECT_NE(a, "novj");  // socket mode: pppd carries the data itself
}

TEST(PppdArguments, NeverPassesIdle) {
  PppdConfig c;
  c.require_authentication = true;
  c.pppoptfile = "/x";
  for (const auto& a : pppd_arguments(c)) EXPECT_NE(a, "idle");
}

// ---- the handler with fake_pppd -------------------------------------------

std::string fake_pppd_path() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "fake_pppd").string();
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;  // includes the iterator's own fd, the same every time
}

bool child_gone(pid_t pid) {
  // Reaped children are unknown to waitpid: ECHILD, never a zombie left.
  return waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

class PppdHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The daemon's way: one SIGCHLD callback on the loop, dispatching to
    // the handlers (here the one).
    loop_.add_signal(SIGCHLD, [this](int, TimePoint) {
      if (handler_) handler_->reap();
    });
    argv_file_ = std::filesystem::temp_directory_path() /
                 ("fake_pppd_argv." + std::to_string(getpid()));
    std::filesystem::remove(argv_file_);
  }
  void TearDown() override {
    handler_.reset();
    std::filesystem::remove(argv_file_);
  }

  PppdOptions options(const std::string& mode) {
    PppdOptions o;
    o.path = fake_pppd_path();
    o.args = {"passive", "nodetach"};
    o.extra_env = {"FAKE_PPPD_MODE=" + mode, "FAKE_PPPD_ARGV=" + argv_file_.string()};
    return o;
  }

  void spawn(PppdOptions o) {
    PppEvents ev;
    ev.frame_to_peer = [this](std::span<const uint8_t> f) { received_.emplace_back(f.begin(), f.end()); };
    ev.ended = [this](const std::string& why) {
      ++ended_;
      why_ = why;
    };
    ev.link = [this](PppEvent e, const PppLinkState&) { link_events_.push_back(e); };
    auto r = PppdHandler::spawn(loop_, std::move(o), std::move(ev));
    ASSERT_TRUE(r.handler) << r.what << ": " << r.error.message();
    handler_ = std::move(r.handler);
    pid_ = handler_->pid();
  }

  template <class Pred>
  bool run_until(Pred done, Duration guard = kGuard) {
    const TimePoint deadline = Clock::now() + guard;
    while (!done() && Clock::now() < deadline) loop_.run_once(50ms);
    return done();
  }

  // Sends one frame and waits for its echo: proves the fake is running
  // (and has set up its signal handling).
  void echo_one() {
    const Bytes f{0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x04};
    const size_t before = received_.size();
    handler_->frame_from_peer(f);
    ASSERT_TRUE(run_until([&] { return received_.size() > before; }));
    EXPECT_EQ(received_.back(), f);
  }

  EventLoop loop_;
  std::filesystem::path argv_file_;
  std::unique_ptr<PppdHandler> handler_;
  pid_t pid_ = -1;
  std::vector<Bytes> received_;
  int ended_ = 0;
  std::string why_;
  std::vector<PppEvent> link_events_;
};

TEST_F(PppdHandlerTest, PassesArgumentsAndTheTtyNameToPppd) {
  spawn(options("echo"));
  ASSERT_TRUE(run_until([&] { return std::filesystem::exists(argv_file_); }));
  std::ifstream in(argv_file_);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  EXPECT_EQ(lines, (std::vector<std::string>{fake_pppd_path(), "passive", "nodetach",
                                             handler_->tty_name()}));
  EXPECT_TRUE(handler_->tty_name().starts_with("/dev/pts/"));
}

TEST_F(PppdHandlerTest, PasswordReachesPppdThroughAPipeNeverOnItsCommandLine) {
  PppdOptions o = options("echo");
  o.password = "s3cret pass";
  spawn(std::move(o));
  ASSERT_TRUE(run_until([&] { return std::filesystem::exists(argv_file_); }));
  std::ifstream in(argv_file_);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  EXPECT_EQ(lines, (std::vector<std::string>{fake_pppd_path(), "passive", "nodetach", "plugin", "passwordfd.so",
                                             "passwordfd", "3", handler_->tty_name(), "fd3:s3cret pass"}));
}

TEST_F(PppdHandlerTest, WithoutAPasswordPppdGetsNoDescriptorThree) {
  spawn(options("echo"));
  ASSERT_TRUE(run_until([&] { return std::filesystem::exists(argv_file_); }));
  std::ifstream in(argv_file_);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("fd3:"), std::string::npos);  // every other descriptor of ours is O_CLOEXEC
  EXPECT_EQ(all.find("passwordfd"), std::string::npos);
}

TEST_F(PppdHandlerTest, LinkEventsComeFromFramesSeenBothWays) {
  spawn(options("echo"));
  // The echo peer returns each frame as pppd's: our Configure-Request comes
  // back as its request, our Ack of it as its Ack of ours, so each side has
  // acknowledged the other's request and LCP is up (control/ppp_watch.hpp).
  const Bytes req{0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xD4};
  const Bytes ack{0xFF, 0x03, 0xC0, 0x21, 0x02, 0x01, 0x00, 0x08, 0x01, 0x04, 0x05, 0xD4};
  handler_->frame_from_peer(req);
  ASSERT_TRUE(run_until([&] { return received_.size() == 1; }));
  EXPECT_TRUE(link_events_.empty());
  handler_->frame_from_peer(ack);  // acks pppd's (echoed) request
  ASSERT_TRUE(run_until([&] { return received_.size() == 2; }));
  EXPECT_EQ(link_events_, (std::vector<PppEvent>{PppEvent::kLcpUp}));
  EXPECT_TRUE(handler_->link_state().lcp_up);
  EXPECT_EQ(handler_->link_state().peer_mru, 1492);
  EXPECT_EQ(handler_->link_state().local_mru, 1492);
  const Bytes term{0xFF, 0x03, 0xC0, 0x21, 0x05, 0x02, 0x00, 0x04};
  handler_->frame_from_peer(term);
  EXPECT_EQ(link_events_, (std::vector<PppEvent>{PppEvent::kLcpUp, PppEvent::kLcpDown}));
}

TEST_F(PppdHandlerTest, FramesComeBackByteForByteThroughTheEchoPeer) {
  spawn(options("echo"));
  std::vector<Bytes> sent;
  // LCP Configure-Request as pppd sends it (FF 03 kept).
  sent.push_back({0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x0E, 0x01, 0x04, 0x05,
                  0xDC, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78});
  // Flag, escape and control octets inside the frame.
  sent.push_back({0xFF, 0x03, 0x00, 0x21, 0x7E, 0x7D, 0x00, 0x01, 0x11, 0x13, 0x1F, 0x20,
                  0x5E, 0x5D, 0x7E, 0x7E, 0x7D});
  // No FF 03 (ACFC negotiated): passes as is.
  sent.push_back({0x21, 0x45, 0x00, 0x00, 0x14});
  // 1500 octets, every value many times.
  Bytes big(1500);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + 3);
  big[0] = 0xFF;
  big[1] = 0x03;
  sent.push_back(big);
  for (const auto& f : sent) handler_->frame_from_peer(f);
  ASSERT_TRUE(run_until([&] { return received_.size() >= sent.size(); }));
  EXPECT_EQ(received_, sent);
  const auto& c = handler_->counters();
  EXPECT_EQ(c.frames_from_peer, sent.size());
  EXPECT_EQ(c.frames_to_peer, sent.size());
  EXPECT_EQ(c.bytes_from_peer, c.bytes_to_peer);
  EXPECT_EQ(c.dropped_queue_full, 0u);
  EXPECT_EQ(handler_->hdlc_counters().bad_fcs, 0u);
  EXPECT_EQ(handler_->queued_bytes(), 0u);
}

TEST_F(PppdHandlerTest, TerminateEndsPppdWithSigtermFiresEndedOnceAndReaps) {
  spawn(options("echo"));
  echo_one();
  handler_->terminate();
  handler_->terminate();  // idempotent
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  EXPECT_EQ(ended_, 1);
  EXPECT_NE(why_.find("SIGTERM"), std::string::npos) << why_;
  EXPECT_TRUE(handler_->reaped());
  EXPECT_TRUE(child_gone(pid_));
  EXPECT_EQ(handler_->counters().sigterm_sent, 1u);
  EXPECT_EQ(handler_->counters().sigkill_sent, 0u);
  EXPECT_EQ(loop_.pending_timers(), 0u);  // the SIGKILL timer was cancelled
  loop_.run_once(0ms);
  EXPECT_EQ(ended_, 1);
}

TEST_F(PppdHandlerTest, PppdIgnoringSigtermIsKilledAfterTheGracePeriod) {
  auto o = options("ignore-term");
  o.kill_grace = 200ms;
  spawn(std::move(o));
  echo_one();
  const TimePoint asked = Clock::now();
  handler_->terminate();
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  EXPECT_GE(Clock::now() - asked, 200ms);
  EXPECT_EQ(ended_, 1);
  EXPECT_NE(why_.find("SIGKILL"), std::string::npos) << why_;
  EXPECT_EQ(handler_->counters().sigkill_sent, 1u);
  EXPECT_TRUE(child_gone(pid_));
}

TEST_F(PppdHandlerTest, PppdExitingByItselfFiresEndedWithItsStatus) {
  auto o = options("exit");
  o.extra_env.push_back("FAKE_PPPD_STATUS=7");
  spawn(std::move(o));
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  EXPECT_EQ(ended_, 1);
  EXPECT_NE(why_.find("status 7"), std::string::npos) << why_;
  EXPECT_TRUE(child_gone(pid_));
}

TEST_F(PppdHandlerTest, PtyHangUpTerminatesPppdAndEndsAfterTheReap) {
  spawn(options("close-pty"));
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  EXPECT_EQ(ended_, 1);
  EXPECT_NE(why_.find("pty hang-up"), std::string::npos) << why_;
  EXPECT_NE(why_.find("SIGTERM"), std::string::npos) << why_;
  EXPECT_TRUE(child_gone(pid_));
}

TEST_F(PppdHandlerTest, FramesAfterThePtyClosedAreCountedDrops) {
  spawn(options("exit"));
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  handler_->frame_from_peer(Bytes{0xFF, 0x03, 0xC0, 0x21});
  EXPECT_EQ(handler_->counters().dropped_closed, 1u);
}

TEST_F(PppdHandlerTest, LeavesNoDescriptorOrZombieBehind) {
  const size_t before = open_fds();
  spawn(options("echo"));
  echo_one();
  EXPECT_GT(open_fds(), before);  // the master
  handler_->terminate();
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  handler_.reset();
  EXPECT_EQ(open_fds(), before);
  EXPECT_TRUE(child_gone(pid_));
}

TEST_F(PppdHandlerTest, DestroyingALiveHandlerKillsAndReapsPppd) {
  const size_t before = open_fds();
  spawn(options("ignore-term"));
  echo_one();
  handler_.reset();
  EXPECT_TRUE(child_gone(pid_));
  EXPECT_EQ(open_fds(), before);
  EXPECT_EQ(ended_, 0);  // no callback into a session that is going away
}

TEST_F(PppdHandlerTest, SpawnOfAMissingProgramFailsWithoutLeaks) {
  const size_t before = open_fds();
  auto o = options("echo");
  o.path = "/nonexistent/pppd";
  auto r = PppdHandler::spawn(loop_, std::move(o), {});
  EXPECT_FALSE(r.handler);
  EXPECT_EQ(r.error, std::errc::no_such_file_or_directory) << r.what;
  EXPECT_EQ(open_fds(), before);
}

TEST_F(PppdHandlerTest, FullWriteQueueDropsAndCountsFramesWithoutBlocking) {
  auto o = options("no-read");
  o.write_queue_limit = 16 * 1024;
  spawn(std::move(o));
  Bytes f(1000, 0x41);
  f[0] = 0xFF;
  f[1] = 0x03;
  constexpr int kFrames = 400;  // ~400 KB: far beyond the pty's buffer + 16 KiB
  for (int i = 0; i < kFrames; ++i) {
    handler_->frame_from_peer(f);
    loop_.run_once(0ms);
  }
  const auto& c = handler_->counters();
  EXPECT_GT(c.dropped_queue_full, 0u);
  EXPECT_EQ(c.frames_from_peer + c.dropped_queue_full, static_cast<uint64_t>(kFrames));
  EXPECT_LE(handler_->queued_bytes(), 16u * 1024);
  EXPECT_GT(handler_->queued_bytes(), 0u);
  handler_->terminate();
  ASSERT_TRUE(run_until([&] { return ended_ > 0; }));
  EXPECT_TRUE(child_gone(pid_));
}

}  // namespace
