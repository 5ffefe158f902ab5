// The receive-side reorder buffer alone (dataplane/reorder.hpp), with time
// in our hands: the TSC runs at 1 MHz here, so a tick is a microsecond.
// Each packet carries its Ns in its first two bytes, so what comes out
// shows the order.

#include <gtest/gtest.h>

#include <vector>

#include <rte_mbuf.h>

#include "dataplane/dp_config.hpp"
#include "dataplane/reorder.hpp"
#include "fixture.hpp"

namespace l2tp::dp::test {
namespace {

constexpr uint64_t kHz = 1000000;
constexpr uint16_t kId = 0xb7e1;

class ReorderTest : public FastPathTest {
 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    ASSERT_TRUE(table_->publish(entry()));
    in_use_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    r_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_) << "an mbuf was lost or freed twice";
  }

  Reorder& make(uint16_t window = 4, uint32_t timeout_us = 1000, uint32_t contexts = 8, uint16_t worker = 0) {
    ReorderConfig c;
    c.window = window;
    c.timeout_us = timeout_us;
    c.contexts = contexts;
    r_ = std::make_unique<Reorder>(c, *table_, worker, counters_, kHz, SOCKET_ID_ANY);
    return *r_;
  }

  static rte_mbuf* packet(uint16_t ns) { return to_mbuf(Bytes{static_cast<uint8_t>(ns >> 8), static_cast<uint8_t>(ns)}); }
  static uint16_t ns_of(rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
  }

  // Does what the worker does: a packet admitted now is processed at
  // once, then what the buffer released, in order.
  void admit(uint16_t ns, uint64_t now, uint16_t session = kId) {
    rte_mbuf* m = packet(ns);
    ASSERT_NE(m, nullptr);
    switch (r_->admit(m, *table_->by_session_id(session), ns, now)) {
      case Reorder::Admit::kNow: out(m); break;
      case Reorder::Admit::kLater: break;
      case Reorder::Admit::kStale:
        stale_.push_back(ns);
        rte_pktmbuf_free(m);
        break;
    }
    drain();
  }
  void expire(uint64_t now) {
    r_->expire(now);
    drain();
  }
  void drain() {
    rte_mbuf* pkts[8];
    while (uint16_t k = r_->take_ready(pkts, 8))
      for (uint16_t i = 0; i < k; ++i) out(pkts[i]);
  }
  void out(rte_mbuf* m) {
    delivered_.push_back(ns_of(m));
    rte_pktmbuf_free(m);
  }

  WorkerCounters counters_;
  std::unique_ptr<Reorder> r_;
  std::vector<uint16_t> delivered_, stale_;
  unsigned in_use_ = 0;
};

using V = std::vector<uint16_t>;

TEST_F(ReorderTest, InOrderIsDeliveredAtOnceAndHoldsNoContext) {
  make();
  for (uint16_t ns = 0; ns < 5; ++ns) admit(ns, 0);
  EXPECT_EQ(delivered_, (V{0, 1, 2, 3, 4}));
  EXPECT_EQ(r_->contexts_in_use(), 0u);
  EXPECT_FALSE(r_->busy());
  EXPECT_EQ(counters_.reordered, 0u);
  EXPECT_EQ(table_->state(kId).rx_expected_ns, 5u);
}

TEST_F(ReorderTest, FirstNsAboveZeroWithinTheWindowWaitsForItsPredecessors) {
  // RFC 2661 3.1: Ns begins at 0, so Ns 1 first means 0 was overtaken.
  make();
  admit(1, 0);
  EXPECT_TRUE(delivered_.empty());
  admit(0, 5);
  EXPECT_EQ(delivered_, (V{0, 1}));
  EXPECT_EQ(counters_.reordered, 1u);
  EXPECT_EQ(r_->contexts_in_use(), 0u) << "an emptied context goes back to the pool";
  EXPECT_EQ(table_->state(kId).reorder_ctx, 0u);
}

TEST_F(ReorderTest, FirstNsBeyondTheWindowStartsTheSequenceThere) {
  make(4);
  admit(1000, 0);
  admit(1001, 0);
  EXPECT_EQ(delivered_, (V{1000, 1001}));
}

TEST_F(ReorderTest, GapFilledLaterReleasesEverythingHeldInOrder) {
  make();
  admit(0, 0);
  admit(2, 10);
  admit(3, 20);
  EXPECT_EQ(delivered_, V{0});
  EXPECT_EQ(r_->held(), 2u);
  admit(1, 30);
  EXPECT_EQ(delivered_, (V{0, 1, 2, 3}));
  EXPECT_EQ(counters_.reordered, 2u);
  EXPECT_EQ(counters_.reorder_gaps, 0u);
  EXPECT_EQ(r_->held(), 0u);
}

TEST_F(ReorderTest, GapNeverFilledIsSkippedWhenTheOldestHeldPacketTimesOut) {
  make(4, 1000);
  admit(0, 0);
  admit(2, 100);
  admit(3, 500);
  expire(1099);
  EXPECT_EQ(delivered_, V{0}) << "the timeout runs from the arrival of the first held packet";
  expire(1100);
  EXPECT_EQ(delivered_, (V{0, 2, 3}));
  EXPECT_EQ(counters_.reorder_gaps, 1u);
  EXPECT_FALSE(r_->busy());
  admit(4, 1200);  // in order again
  admit(1, 1300);  // too late now
  EXPECT_EQ(delivered_, (V{0, 2, 3, 4}));
  EXPECT_EQ(stale_, V{1});
}

TEST_F(ReorderTest, AfterASkipTheNextGapTimesOutFromItsOwnOldestPacket) {
  make(8, 1000);
  admit(0, 0);
  admit(2, 100);   // gap at 1
  admit(5, 800);   // gap at 3-4
  expire(1100);    // 1 skipped, 2 out; 5 has waited 300
  EXPECT_EQ(delivered_, (V{0, 2}));
  expire(1799);
  EXPECT_EQ(delivered_, (V{0, 2}));
  expire(1800);
  EXPECT_EQ(delivered_, (V{0, 2, 5}));
  EXPECT_EQ(counters_.reorder_gaps, 2u);
}

TEST_F(ReorderTest, ExpiryOfSeveralDueGapsAtOnceReleasesAllInOrder) {
  make(8, 1000);
  admit(0, 0);
  admit(2, 0);
  admit(4, 0);
  admit(6, 0);
  expire(5000);
  EXPECT_EQ(delivered_, (V{0, 2, 4, 6}));
  EXPECT_EQ(counters_.reorder_gaps, 3u);
  EXPECT_EQ(r_->contexts_in_use(), 0u);
}

TEST_F(ReorderTest, DuplicatesAndLatePacketsAreStale) {
  make();
  admit(0, 0);
  admit(1, 0);
  admit(1, 0);  // duplicate of one delivered
  admit(3, 0);
  admit(3, 0);  // duplicate of one held
  admit(0, 0);  // late
  admit(2, 0);
  EXPECT_EQ(delivered_, (V{0, 1, 2, 3}));
  EXPECT_EQ(stale_, (V{1, 3, 0}));
}

TEST_F(ReorderTest, SequenceWrapsFrom65535ToZero) {
  // RFC 2661 5.8's comparison, modulo 2^16: 0 follows 65535.
  make();
  admit(65533, 0);
  admit(65535, 0);
  admit(1, 0);
  admit(65534, 0);
  admit(0, 0);
  admit(65532, 0);  // behind, across the wrap
  EXPECT_EQ(delivered_, (V{65533, 65534, 65535, 0, 1}));
  EXPECT_EQ(stale_, V{65532});
}

TEST_F(ReorderTest, PacketBeyondTheWindowFlushesWhatIsHeldInOrderThenFollows) {
  make(4);
  admit(0, 0);
  admit(3, 0);
  admit(2, 0);
  admit(9, 0);  // 1 and 4-8 are given up
  EXPECT_EQ(delivered_, (V{0, 2, 3, 9}));
  EXPECT_EQ(counters_.reorder_gaps, 1u);
  EXPECT_EQ(r_->contexts_in_use(), 0u);
  admit(10, 0);
  EXPECT_EQ(delivered_.back(), 10u);
}

TEST_F(ReorderTest, EmptyPoolDeliversOutOfOrderAndCountsIt) {
  control::FastPathEntry second = entry();
  second.local_session_id = 0x0777;
  second.subscriber_addr = kSubscriber + 1;
  ASSERT_TRUE(table_->publish(second));
  make(4, 1000, 1);
  admit(0, 0);
  admit(2, 0);  // takes the only context
  admit(0, 0, 0x0777);
  admit(2, 0, 0x0777);  // none left: out at once, the gap is a loss
  admit(1, 0, 0x0777);
  EXPECT_EQ(delivered_, (V{0, 0, 2}));
  EXPECT_EQ(stale_, V{1});
  EXPECT_EQ(counters_.reorder_no_context, 1u);
  EXPECT_EQ(counters_.reorder_gaps, 1u);
  admit(1, 0);
  EXPECT_EQ(delivered_, (V{0, 0, 2, 1, 2}));
}

TEST_F(ReorderTest, WindowZeroHoldsNothingButStillDropsLatePackets) {
  make(0);
  admit(0, 0);
  admit(2, 0);
  admit(1, 0);
  admit(3, 0);
  EXPECT_EQ(delivered_, (V{0, 2, 3}));
  EXPECT_EQ(stale_, V{1});
  EXPECT_EQ(counters_.reorder_gaps, 1u);
  EXPECT_FALSE(r_->busy());
}

TEST_F(ReorderTest, InOrderPacketQueuesBehindReleasedOnes) {
  // One burst: 1 releases 2 into the FIFO; 3 must not overtake it.
  make();
  admit(0, 0);
  admit(2, 0);
  rte_mbuf* one = packet(1);
  rte_mbuf* three = packet(3);
  const Session& s = *table_->by_session_id(kId);
  EXPECT_EQ(r_->admit(one, s, 1, 0), Reorder::Admit::kLater);
  EXPECT_EQ(r_->admit(three, s, 3, 0), Reorder::Admit::kLater);
  drain();
  EXPECT_EQ(delivered_, (V{0, 1, 2, 3}));
}

TEST_F(ReorderTest, SessionOfAnotherWorkerIsLeftAlone) {
  make(4, 1000, 8, /*worker=*/1);
  admit(0, 0);
  admit(2, 0);
  admit(1, 0);
  EXPECT_EQ(delivered_, (V{0, 2, 1}));
  EXPECT_FALSE(table_->state(kId).rx_sequenced);
}

TEST_F(ReorderTest, RepublishedSessionKeepsItsExpectationAndHeldPackets) {
  make(4, 1000);
  admit(0, 0);
  admit(2, 0);
  control::FastPathEntry e = entry();
  e.subscriber_addr = 0;  // IPCP went down, say: republished, same ID
  ASSERT_TRUE(table_->publish(e));
  admit(1, 10);
  EXPECT_EQ(delivered_, (V{0, 1, 2}));
}

TEST_F(ReorderTest, WithdrawnSessionsHeldPacketsAreFreedAndCountedAtItsTimeout) {
  make(4, 1000);
  admit(0, 0);
  admit(2, 0);
  admit(3, 0);
  ASSERT_TRUE(table_->withdraw(kId));
  expire(999);
  EXPECT_EQ(r_->held(), 2u);
  expire(1000);
  EXPECT_EQ(r_->held(), 0u);
  EXPECT_EQ(delivered_, V{0});
  EXPECT_EQ(counters_.dropped(Drop::kReorderFlushed), 2u);
  EXPECT_EQ(r_->contexts_in_use(), 0u);
}

TEST_F(ReorderTest, SessionPublishedAfreshUnderTheSameIdDoesNotInheritHeldPackets) {
  make(4, 1000);
  admit(0, 0);
  admit(2, 0);
  ASSERT_TRUE(table_->withdraw(kId));
  table_->synchronize();  // no worker registered: the state is reset now
  ASSERT_TRUE(table_->publish(entry()));
  admit(0, 10);  // the new session's first
  admit(1, 20);
  EXPECT_EQ(delivered_, (V{0, 0, 1}));
  expire(1000);
  EXPECT_EQ(delivered_, (V{0, 0, 1})) << "the old session's 2 is not delivered into the new one";
  EXPECT_EQ(counters_.dropped(Drop::kReorderFlushed), 1u);
}

TEST_F(ReorderTest, DestroyingTheBufferFreesWhatItHoldsAndCountsIt) {
  make();
  admit(0, 0);
  admit(2, 0);
  admit(4, 0);
  r_.reset();
  EXPECT_EQ(counters_.dropped(Drop::kReorderFlushed), 2u);
}

TEST(DataPlaneConfigParse, ReorderKeysAreReadAndCheckedAgainstThePool) {
  std::map<std::string, std::string> s{{"access address", "192.0.2.2/24"},
                                       {"core address", "198.51.100.1/24"},
                                       {"core next hop", "198.51.100.254"}};
  auto d = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(d.config);
  EXPECT_EQ(d.config->reorder_window, 16u);
  EXPECT_EQ(d.config->reorder_timeout_ms, 10u);
  EXPECT_EQ(d.config->reorder_sessions, 16383u / (4 * 16)) << "auto: a quarter of the mbufs at most";

  s["reorder window"] = "0";
  s["reorder timeout"] = "50";
  s["reorder sessions"] = "100";
  auto r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->reorder_window, 0u);
  EXPECT_EQ(r.config->reorder_timeout_ms, 50u);
  EXPECT_EQ(r.config->reorder_sessions, 100u);

  s["reorder window"] = "257";
  s["reorder timeout"] = "0";
  s["reorder sessions"] = "none";
  EXPECT_EQ(parse_dataplane_config(s, {}, 1701).errors.size(), 3u);

  s["reorder window"] = "64";
  s["reorder timeout"] = "10";
  s["reorder sessions"] = "1024";  // 65536 mbufs could wait: refused
  auto big = parse_dataplane_config(s, {}, 1701);
  ASSERT_EQ(big.errors.size(), 1u);
  EXPECT_NE(big.errors[0].find("reorder sessions"), std::string::npos);
}

}  // namespace
}  // namespace l2tp::dp::test
