// The incremental checksum updates of the fast path (dataplane/checksum.hpp)
// against a full recomputation (rte_ipv4_cksum) of the same header.

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <rte_ip.h>

#include "dataplane/checksum.hpp"

namespace l2tp::dp::test {
namespace {

// Every TTL that may be forwarded, over headers whose checksum takes every
// value (the identification field sweeps it), including those where the
// update carries out of 16 bits and the one that would give 0xFFFF.
TEST(Checksum, TtlDecrementAgreesWithAFullRecomputationForEveryTtlAndChecksum) {
  std::mt19937 rng(7);
  unsigned checked = 0, carried = 0;
  for (unsigned ttl = 2; ttl <= 255; ++ttl) {
    for (unsigned id = 0; id < 65536; id += (ttl < 8 ? 1 : 251)) {
      rte_ipv4_hdr h{};
      h.version_ihl = 0x45;
      h.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(20 + rng() % 1480));
      h.packet_id = rte_cpu_to_be_16(static_cast<uint16_t>(id));
      h.time_to_live = static_cast<uint8_t>(ttl);
      h.next_proto_id = static_cast<uint8_t>(rng());
      h.src_addr = rng();
      h.dst_addr = rng();
      h.hdr_checksum = 0;
      h.hdr_checksum = rte_ipv4_cksum(&h);
      const uint16_t before = rte_be_to_cpu_16(h.hdr_checksum);
      ipv4_decrement_ttl(reinterpret_cast<uint8_t*>(&h));
      ASSERT_EQ(h.time_to_live, ttl - 1);
      const uint16_t updated = h.hdr_checksum;
      h.hdr_checksum = 0;
      ASSERT_EQ(updated, rte_ipv4_cksum(&h)) << "ttl " << ttl << " id " << id;
      carried += before >= 0xFF00;
      ++checked;
    }
  }
  EXPECT_GT(carried, 0u);  // the end-around carry was exercised
  EXPECT_GT(checked, 100000u);
}

}  // namespace
}  // namespace l2tp::dp::test
