// Outer IPv4 reassembly on its own (dataplane/reassembly.cpp), with the
// timestamps in the test's hands: no clock, no sleep.

#include <gtest/gtest.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/reassembly.hpp"
#include "fixture.hpp"

namespace l2tp::dp::test {
namespace {

class ReassemblyTest : public FastPathTest {
 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    baseline_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override { EXPECT_EQ(rte_mempool_in_use_count(test_pool()), baseline_) << "an mbuf was lost"; }

  // An L2TP data message from the LAC, big enough to need cutting.
  static Bytes datagram(uint16_t ip_id, uint16_t vlan = 0, uint16_t inner_payload = 1200) {
    return upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner_ipv4(kSubscriber, kInternetHost, 64, inner_payload)),
                    vlan, ip_id);
  }

  rte_mbuf* take(Reassembly& r, const Bytes& fragment, uint64_t now) {
    rte_mbuf* m = to_mbuf(fragment);
    EXPECT_NE(m, nullptr);
    return m == nullptr ? nullptr : r.take(m, now, counters_);
  }

  static uint64_t cycles_per_ms() { return (rte_get_tsc_hz() + 999) / 1000; }

  WorkerCounters counters_;
  unsigned baseline_ = 0;
};

TEST_F(ReassemblyTest, ReassembledFrameIsTheUnfragmentedFrameInOneSegment) {
  Reassembly r({true, 16, 500}, SOCKET_ID_ANY);
  for (uint16_t vlan : {0, 42}) {
    const Bytes frame = datagram(static_cast<uint16_t>(0x100 + vlan), vlan);
    const std::vector<Bytes> parts = fragments(frame, {8, 512, 1016});
    ASSERT_EQ(parts.size(), 4u);
    // Out of order: the last fragment first.
    EXPECT_EQ(take(r, parts[3], 1000), nullptr);
    EXPECT_EQ(take(r, parts[0], 1001), nullptr);
    EXPECT_EQ(take(r, parts[2], 1002), nullptr);
    rte_mbuf* whole = take(r, parts[1], 1003);
    ASSERT_NE(whole, nullptr);
    EXPECT_EQ(whole->nb_segs, 1u);
    // Total length, fragment field and header checksum as if never cut.
    EXPECT_EQ(from_mbuf(whole), frame) << "VLAN " << vlan;
    rte_pktmbuf_free(whole);
  }
  EXPECT_EQ(counters_.outer_fragments, 8u);
  EXPECT_EQ(counters_.reassembled, 2u);
  EXPECT_EQ(counters_.dropped_total(), 0u);
}

TEST_F(ReassemblyTest, FullTableRefusesANewDatagramUntilTheOldOneTimesOut) {
  const uint64_t ms = cycles_per_ms();
  Reassembly r({true, 1, 1}, SOCKET_ID_ANY);  // one datagram at a time, 1 ms
  const std::vector<Bytes> a = fragments(datagram(0xa), {512});
  const std::vector<Bytes> b = fragments(datagram(0xb), {512});

  EXPECT_EQ(take(r, a[0], 10 * ms), nullptr);
  // A is still within its time: B's fragment finds no room and is given up.
  EXPECT_EQ(take(r, b[0], 10 * ms + ms / 2), nullptr);
  EXPECT_EQ(counters_.dropped(Drop::kReassembly), 1u);
  // Later than A's timeout: A's fragment is freed for B's.
  EXPECT_EQ(take(r, b[0], 12 * ms), nullptr);
  EXPECT_EQ(counters_.dropped(Drop::kReassembly), 2u);
  rte_mbuf* whole = take(r, b[1], 12 * ms);
  ASSERT_NE(whole, nullptr);
  EXPECT_EQ(from_mbuf(whole), datagram(0xb));
  rte_pktmbuf_free(whole);
  // A's last fragment alone cannot complete A any more.
  EXPECT_EQ(take(r, a[1], 12 * ms), nullptr);
  EXPECT_EQ(counters_.outer_fragments, 5u);
  EXPECT_EQ(counters_.reassembled, 1u);
}

TEST_F(ReassemblyTest, DuplicateFragmentIsGivenUpWithItsDatagram) {
  Reassembly r({true, 16, 500}, SOCKET_ID_ANY);
  const std::vector<Bytes> a = fragments(datagram(0xa), {512});
  EXPECT_EQ(take(r, a[0], 1000), nullptr);
  EXPECT_EQ(take(r, a[0], 1001), nullptr);
  EXPECT_GE(counters_.dropped(Drop::kReassembly), 1u);
  EXPECT_EQ(counters_.reassembled, 0u);
}

TEST_F(ReassemblyTest, DatagramTooBigForOneMbufIsACountedDrop) {
  Reassembly r({true, 16, 500}, SOCKET_ID_ANY);
  // 2500 octets of inner payload: more than one default mbuf holds.
  const std::vector<Bytes> parts = fragments(datagram(0xc, 0, 2500), {1000, 2000});
  EXPECT_EQ(take(r, parts[0], 1000), nullptr);
  EXPECT_EQ(take(r, parts[1], 1000), nullptr);
  EXPECT_EQ(take(r, parts[2], 1000), nullptr);
  EXPECT_EQ(counters_.reassembled, 1u);
  EXPECT_EQ(counters_.dropped(Drop::kReassembledTooBig), 1u);
}

TEST_F(ReassemblyTest, IncompleteDatagramsAreFreedWithTheTable) {
  {
    Reassembly r({true, 16, 500}, SOCKET_ID_ANY);
    for (uint16_t id = 1; id <= 5; ++id) EXPECT_EQ(take(r, fragments(datagram(id), {512})[0], 1000), nullptr);
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), baseline_ + 5);
  }
  EXPECT_EQ(counters_.dropped_total(), 0u);
  // TearDown checks that the five held fragments came back.
}

}  // namespace
}  // namespace l2tp::dp::test
