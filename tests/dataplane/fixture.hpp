#pragma once
// A session table with one published session, shared by the fast-path
// tests.

#include <gtest/gtest.h>

#include <memory>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "control/fast_path.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/session_table.hpp"
#include "packets.hpp"

namespace l2tp::dp::test {

using control::ipv4;

inline constexpr uint32_t kMaxThreads = 4;

struct Rcu {
  rte_rcu_qsbr* v = nullptr;
  Rcu() {
    size_t size = rte_rcu_qsbr_get_memsize(kMaxThreads);
    v = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, size, RTE_CACHE_LINE_SIZE));
    if (v != nullptr) rte_rcu_qsbr_init(v, kMaxThreads);
  }
  ~Rcu() { rte_free(v); }
};

class FastPathTest : public ::testing::Test {
 public:
  static constexpr Mac kLacMac{0x02, 0, 0, 0, 0, 0x02};
  static constexpr Mac kOurAccessMac{0x02, 0, 0, 0, 0, 0x01};
  static constexpr Mac kOurCoreMac{0x02, 0, 0, 0, 1, 0x01};
  static constexpr Mac kRouterMac{0x02, 0, 0, 0, 1, 0x02};
  static constexpr uint32_t kOurAddr = ipv4(192, 0, 2, 1);
  static constexpr uint32_t kLacAddr = ipv4(198, 51, 100, 7);
  static constexpr uint32_t kSubscriber = ipv4(100, 64, 0, 10);
  static constexpr uint32_t kInternetHost = ipv4(203, 0, 113, 50);

 protected:

  void SetUp() override {
    ASSERT_NE(rcu_.v, nullptr);
    table_ = std::make_unique<SessionTable>(unique_name("subs"), rcu_.v, 1024, SOCKET_ID_ANY);
    hop_.src = to_ether(kOurCoreMac);
    hop_.dst = to_ether(kRouterMac);
  }

  static rte_ether_addr to_ether(const Mac& m) {
    rte_ether_addr a;
    std::memcpy(a.addr_bytes, m.data(), 6);
    return a;
  }

  static control::FastPathEntry entry(uint16_t vlan = 0, bool sequenced = false) {
    control::FastPathEntry e;
    e.local_tunnel_id = 0x4d2a;
    e.local_session_id = 0xb7e1;
    e.peer_tunnel_id = 0x0457;
    e.peer_session_id = 0x22b8;
    e.local = {kOurAddr, 1701};
    e.peer = {kLacAddr, 1701};
    e.subscriber_addr = kSubscriber;
    e.sequenced = sequenced;
    e.owner_worker = 0;
    e.vlan = vlan;
    e.local_mac = kOurAccessMac;
    e.peer_mac = kLacMac;
    return e;
  }

  // An upstream frame from the LAC for the published session.
  static Bytes upstream(const Bytes& l2tp, uint16_t vlan = 0, uint16_t ip_id = 0) {
    Outer o;
    o.ip_id = ip_id;
    o.dst = kOurAccessMac;
    o.src = kLacMac;
    o.vlan = vlan;
    o.ip_src = kLacAddr;
    o.ip_dst = kOurAddr;
    return udp_frame(o, l2tp);
  }

  Rcu rcu_;
  std::unique_ptr<SessionTable> table_;
  CoreNextHop hop_;
};

}  // namespace l2tp::dp::test
