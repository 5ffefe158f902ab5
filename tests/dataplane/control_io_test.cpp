// The control thread's side of the worker rings (dataplane/control_io.hpp)
// and the [dataplane] section (dataplane/dp_config.hpp): golden frames in,
// golden frames out, on rings and the test pool (EAL --no-huge).

#include "dataplane/control_io.hpp"

#include <gtest/gtest.h>

#include <rte_ring.h>

#include "control/net.hpp"
#include "dataplane/dp_config.hpp"
#include "dataplane/reassembly.hpp"
#include "packets.hpp"

namespace l2tp::dp {
namespace {

using namespace test;
using control::ipv4;

const Mac kOurMac{0x02, 0, 0, 0, 0, 0xAA};
const Mac kCoreMac{0x02, 0, 0, 0, 0, 0xCC};
const Mac kLacMac{0x02, 0, 0, 0, 0, 0x01};
const Mac kBroadcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
constexpr uint32_t kOurs = ipv4(192, 0, 2, 2);
constexpr uint32_t kLac = ipv4(192, 0, 2, 1);
constexpr uint32_t kFarLac = ipv4(203, 0, 113, 9);
constexpr uint32_t kGateway = ipv4(192, 0, 2, 254);

rte_ether_addr ether(const Mac& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.data(), 6);
  return a;
}

Bytes arp(uint16_t op, const Mac& sha, uint32_t sip, const Mac& tha, uint32_t tip) {
  Bytes b;
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  put16(b, op);
  b.insert(b.end(), sha.begin(), sha.end());
  put32(b, sip);
  b.insert(b.end(), tha.begin(), tha.end());
  put32(b, tip);
  return b;
}

class ControlIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.access_port = 0;
    config_.core_port = 1;
    config_.access_addr = kOurs;
    config_.access_prefix = 24;
    config_.access_gateway = kGateway;
    config_.core_addr = ipv4(198, 51, 100, 1);
    config_.core_prefix = 24;
    config_.core_next_hop = ipv4(198, 51, 100, 254);
    to_control_ = rte_ring_create(unique_name("ci_up"), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    from_control_ = rte_ring_create(unique_name("ci_down"), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    to_control_high_ = rte_ring_create(unique_name("ci_up_hi"), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(to_control_, nullptr);
    ASSERT_NE(from_control_, nullptr);
    ASSERT_NE(to_control_high_, nullptr);
    io_ = std::make_unique<ControlIo>(config_, test_pool(),
                                      std::vector<ControlIo::WorkerRings>{{to_control_, from_control_, to_control_high_}},
                                      ether(kOurMac), ether(kCoreMac));
  }
  void TearDown() override {
    io_.reset();
    for (rte_ring* r : {to_control_, from_control_, to_control_high_}) {
      void* m;
      while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      rte_ring_free(r);
    }
  }
  // A frame as a worker punts it: on port, through the ring.
  void punt(const Bytes& frame, uint16_t port = 0, bool high = false) {
    rte_mbuf* m = to_mbuf(frame);
    ASSERT_NE(m, nullptr);
    m->port = port;
    ASSERT_EQ(rte_ring_enqueue(high ? to_control_high_ : to_control_, m), 0);
  }
  // Frames the control thread queued for the worker, with their ports.
  std::vector<std::pair<uint16_t, Bytes>> sent() {
    std::vector<std::pair<uint16_t, Bytes>> out;
    void* p;
    while (rte_ring_dequeue(from_control_, &p) == 0) {
      auto* m = static_cast<rte_mbuf*>(p);
      out.emplace_back(m->port, from_mbuf(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }
  struct Got {
    control::DatagramMeta meta;
    Bytes data;
  };
  // A frame from the LAC to our access address and MAC, untagged, port 1701.
  static Outer from_lac() {
    Outer o;
    o.dst = kOurMac;
    o.src = kLacMac;
    o.ip_src = kLac;
    o.ip_dst = kOurs;
    return o;
  }
  std::vector<Got> receive() {
    std::vector<Got> got;
    io_->receive_batch(32, [&](const control::DatagramMeta& m, std::span<const uint8_t> d) {
      got.push_back({m, Bytes(d.begin(), d.end())});
    });
    return got;
  }

  DataPlaneConfig config_;
  rte_ring* to_control_ = nullptr;
  rte_ring* from_control_ = nullptr;
  rte_ring* to_control_high_ = nullptr;
  std::unique_ptr<ControlIo> io_;
};

TEST_F(ControlIoTest, L2tpDatagramGoesUpWithItsMetadataAndTheLacsMacIsLearned) {
  Outer o = from_lac();
  o.vlan = 42;
  o.sport = 40000;
  const Bytes payload{0xC8, 0x02, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};  // a ZLB
  punt(udp_frame(o, payload));
  auto got = receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, payload);
  EXPECT_EQ(got[0].meta.local, (control::Endpoint{kOurs, 1701}));
  EXPECT_EQ(got[0].meta.peer, (control::Endpoint{kLac, 40000}));
  EXPECT_EQ(got[0].meta.vlan, 42);
  EXPECT_EQ(got[0].meta.port_id, 0);
  const auto mac = io_->neighbours().lookup(0, kLac);
  ASSERT_TRUE(mac);
  EXPECT_EQ(std::memcmp(mac->addr_bytes, kLacMac.data(), 6), 0);
  EXPECT_EQ(io_->counters().rx_datagrams, 1u);
}

TEST_F(ControlIoTest, ControlMessageReassembledFromOuterFragmentsGoesUpWhole) {
  // What a worker punts after reassembly (dataplane/reassembly.hpp).
  Outer o = from_lac();
  o.vlan = 42;
  o.sport = 40000;
  o.ip_id = 0x7777;
  Bytes l2tp{0xC8, 0x02, 0x01, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};  // 312 octets
  for (unsigned i = 0; i < 300; ++i) l2tp.push_back(static_cast<uint8_t>(i * 31 + 3));
  Reassembly reassembly({true, 4, 500}, SOCKET_ID_ANY);
  WorkerCounters counters;
  rte_mbuf* whole = nullptr;
  for (const Bytes& f : fragments(udp_frame(o, l2tp), {160, 304})) {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    whole = reassembly.take(m, 1000, counters);
  }
  ASSERT_NE(whole, nullptr);
  whole->port = 0;
  ASSERT_EQ(rte_ring_enqueue(to_control_, whole), 0);
  auto got = receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, l2tp);
  EXPECT_EQ(got[0].meta.peer, (control::Endpoint{kLac, 40000}));
  EXPECT_EQ(got[0].meta.vlan, 42);
  EXPECT_EQ(io_->counters().rx_datagrams, 1u);
}

TEST_F(ControlIoTest, HighPriorityRingIsDrainedFirstAndTheNormalOneKeepsAQuarterOfTheBatch) {
  Outer o = from_lac();
  // Control headers told apart by their tunnel ID (1: high, 0: normal)
  // and numbered by Ns.
  auto message = [](uint16_t tunnel, uint16_t ns) {
    Bytes b{0xC8, 0x02, 0x00, 0x0C};
    put16(b, tunnel);
    put16(b, 0);
    put16(b, ns);
    put16(b, 0);
    return b;
  };
  for (uint16_t i = 0; i < 40; ++i) punt(udp_frame(o, message(0, i)));
  for (uint16_t i = 0; i < 40; ++i) punt(udp_frame(o, message(1, i)), 0, true);
  auto tunnels = [](const std::vector<Got>& got) {
    std::vector<uint16_t> t;
    for (const Got& g : got) t.push_back(static_cast<uint16_t>((g.data[4] << 8) | g.data[5]));
    return t;
  };
  auto expect = [](size_t high, size_t normal) {
    std::vector<uint16_t> t(high, 1);
    t.insert(t.end(), normal, 0);
    return t;
  };
  // 32 a batch: three quarters of it at most for the high ring, the rest
  // for the normal ring; a class with nothing waiting leaves its share.
  EXPECT_EQ(tunnels(receive()), expect(24, 8));
  EXPECT_EQ(tunnels(receive()), expect(16, 16));
  EXPECT_EQ(tunnels(receive()), expect(0, 16));
  EXPECT_TRUE(receive().empty());
  for (uint16_t i = 0; i < 40; ++i) punt(udp_frame(o, message(0, i)));
  EXPECT_EQ(tunnels(receive()), expect(0, 32));
  EXPECT_EQ(tunnels(receive()), expect(0, 8));
  EXPECT_EQ(io_->counters().rx_datagrams, 120u);
}

TEST_F(ControlIoTest, ReplyIsBuiltAsGoldenEthernetVlanIpv4UdpAndQueuedForTheAccessPort) {
  io_->neighbours().learn(0, kLac, ether(kLacMac));
  const Bytes payload{1, 2, 3, 4, 5};
  control::TxDatagram d;
  d.meta.local = {kOurs, 1701};
  d.meta.peer = {kLac, 40000};
  d.meta.vlan = 42;
  d.data = payload;
  ASSERT_EQ(io_->send_batch(std::span(&d, 1)), 1u);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 0);
  Outer o;
  o.dst = kLacMac;
  o.src = kOurMac;
  o.vlan = 42;
  o.ip_src = kOurs;
  o.ip_dst = kLac;
  o.dport = 40000;
  o.frag = 0x4000;  // DF
  Bytes expected = udp_frame(o, payload);
  // The UDP checksum (computed in full here: RFC 768 pseudo-header).
  const size_t udp_at = 18 + 20;
  uint32_t sum = (kOurs >> 16) + (kOurs & 0xFFFF) + (kLac >> 16) + (kLac & 0xFFFF) + 17 + 8 + payload.size();
  for (size_t i = udp_at; i < expected.size(); i += 2)
    sum += (uint32_t{expected[i]} << 8) | (i + 1 < expected.size() ? expected[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  const uint16_t ck = static_cast<uint16_t>(~sum) == 0 ? 0xFFFF : static_cast<uint16_t>(~sum);
  expected[udp_at + 6] = static_cast<uint8_t>(ck >> 8);
  expected[udp_at + 7] = static_cast<uint8_t>(ck);
  EXPECT_EQ(out[0].second, expected);
}

TEST_F(ControlIoTest, UnknownNextHopGetsOneArpRequestAndTheDatagramIsACountedDrop) {
  control::TxDatagram d;
  d.meta.peer = {kFarLac, 1701};  // beyond the subnet: via the gateway
  const Bytes payload{9};
  d.data = payload;
  EXPECT_EQ(io_->send_batch(std::span(&d, 1)), 0u);
  EXPECT_EQ(io_->send_batch(std::span(&d, 1)), 0u);  // the same second: no second request
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  Bytes expected = ethernet(kBroadcast, kOurMac, 0, 0x0806);
  append(expected, arp(1, kOurMac, kOurs, Mac{}, kGateway));
  expected.resize(60, 0);  // padded to the Ethernet minimum
  EXPECT_EQ(out[0].second, expected);
  EXPECT_EQ(io_->dp_counters().unresolved, 2u);
  EXPECT_EQ(io_->counters().tx_dropped, 2u);
  // The gateway answers: learned, and the next datagram goes to its MAC.
  const Mac gw{0x02, 0, 0, 0, 0, 0xFE};
  Bytes reply = ethernet(kOurMac, gw, 0, 0x0806);
  append(reply, arp(2, gw, kGateway, kOurMac, kOurs));
  punt(reply);
  EXPECT_TRUE(receive().empty());
  ASSERT_EQ(io_->send_batch(std::span(&d, 1)), 1u);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::equal(gw.begin(), gw.end(), out[0].second.begin()));
}

TEST_F(ControlIoTest, ArpRequestForOurAddressIsAnsweredOnItsPortAndOthersAreNot) {
  Bytes req = ethernet(kBroadcast, kLacMac, 0, 0x0806);
  append(req, arp(1, kLacMac, kLac, Mac{}, kOurs));
  punt(req, 0);
  Bytes not_ours = ethernet(kBroadcast, kLacMac, 0, 0x0806);
  append(not_ours, arp(1, kLacMac, kLac, Mac{}, ipv4(192, 0, 2, 77)));
  punt(not_ours, 0);
  // Our core address asked on the access port: not ours there.
  Bytes wrong_port = ethernet(kBroadcast, kLacMac, 0, 0x0806);
  append(wrong_port, arp(1, kLacMac, kLac, Mac{}, config_.core_addr));
  punt(wrong_port, 0);
  receive();
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  Bytes expected = ethernet(kLacMac, kOurMac, 0, 0x0806);
  append(expected, arp(2, kOurMac, kOurs, kLacMac, kLac));
  EXPECT_EQ(out[0].first, 0);
  EXPECT_EQ(out[0].second, expected);
  EXPECT_EQ(io_->dp_counters().arp_replies_sent, 1u);
}

TEST_F(ControlIoTest, PingOfOurCoreAddressIsAnswered) {
  const Mac hop{0x02, 0, 0, 0, 0, 0xEE};
  const uint32_t from = ipv4(198, 51, 100, 254);
  Bytes icmp{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g'};
  uint16_t ck = full_checksum(icmp.data(), icmp.size());
  icmp[2] = static_cast<uint8_t>(ck >> 8);
  icmp[3] = static_cast<uint8_t>(ck);
  Bytes frame = ethernet(kCoreMac, hop, 0, 0x0800);
  append(frame, ipv4_header(from, config_.core_addr, 1, 64, static_cast<uint16_t>(20 + icmp.size())));
  append(frame, icmp);
  punt(frame, 1);
  receive();
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 1);
  Bytes reply_icmp = icmp;
  reply_icmp[0] = 0;
  reply_icmp[2] = reply_icmp[3] = 0;
  ck = full_checksum(reply_icmp.data(), reply_icmp.size());
  reply_icmp[2] = static_cast<uint8_t>(ck >> 8);
  reply_icmp[3] = static_cast<uint8_t>(ck);
  Bytes expected = ethernet(hop, kCoreMac, 0, 0x0800);
  append(expected, ipv4_header(config_.core_addr, from, 1, 64, static_cast<uint16_t>(20 + icmp.size())));
  append(expected, reply_icmp);
  EXPECT_EQ(out[0].second, expected);
}

TEST_F(ControlIoTest, WhatIsNotForUsIsCountedAndFreed) {
  Outer o = from_lac();
  o.ip_dst = ipv4(192, 0, 2, 99);  // not our address
  punt(udp_frame(o, Bytes{1, 2, 3}));
  o.ip_dst = kOurs;
  o.dport = 53;  // not L2TP
  punt(udp_frame(o, Bytes{1, 2, 3}));
  o.dport = 1701;
  o.frag = 0x2000;  // a fragment (MF): no reassembly here
  punt(udp_frame(o, Bytes{1, 2, 3}));
  punt(Bytes{1, 2, 3});  // a runt
  const unsigned before = rte_mempool_avail_count(test_pool());
  EXPECT_TRUE(receive().empty());
  EXPECT_EQ(io_->dp_counters().not_for_us, 4u);
  EXPECT_EQ(rte_mempool_avail_count(test_pool()), before + 4);  // every mbuf back
}

// ---- [dataplane] ------------------------------------------------------------

std::map<std::string, std::string> minimal() {
  return {{"access address", "192.0.2.2/24"}, {"core address", "198.51.100.1/24"}, {"core next hop", "198.51.100.254"}};
}

TEST(DataPlaneConfigParse, MinimalSectionGetsTheDefaults) {
  auto r = parse_dataplane_config(minimal(), {"--no-huge"}, 1701);
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0]);
  const DataPlaneConfig& c = *r.config;
  EXPECT_EQ(c.access_addr, ipv4(192, 0, 2, 2));
  EXPECT_EQ(c.access_prefix, 24);
  EXPECT_EQ(c.core_port, c.access_port);  // one port may serve both
  EXPECT_EQ(c.workers, 1u);
  EXPECT_TRUE(c.idle_sleep);
  EXPECT_EQ(c.eal_args, std::vector<std::string>{"--no-huge"});
  EXPECT_TRUE(c.on_access_subnet(ipv4(192, 0, 2, 200)));
  EXPECT_FALSE(c.on_access_subnet(ipv4(192, 0, 3, 1)));
}

TEST(DataPlaneConfigParse, EveryKeyIsRead) {
  auto s = minimal();
  s["eal args"] = "-l 0-2 --vdev=net_null0";
  s["access port"] = "1";
  s["core port"] = "2";
  s["access gateway"] = "192.0.2.254";
  s["core next hop mac"] = "02:00:00:00:00:fe";
  s["workers"] = "2";
  s["mbufs"] = "4096";
  s["ring size"] = "1024";
  s["handoff ring size"] = "256";
  s["max subscribers"] = "1000";
  s["idle sleep"] = "no";
  s["police control rate"] = "300";
  s["police control burst"] = "30";
  s["police sccrq rate"] = "10";
  s["police sccrq burst"] = "2";
  s["police sccrq worker rate"] = "100";
  s["police sccrq worker burst"] = "20";
  s["police other rate"] = "7000";
  s["police other burst"] = "700";
  s["police control worker rate"] = "3000";
  s["police control worker burst"] = "300";
  s["police other worker rate"] = "9000";
  s["police other worker burst"] = "900";
  s["police stray rate"] = "20";
  s["police stray burst"] = "4";
  s["police stray worker rate"] = "200";
  s["police stray worker burst"] = "40";
  auto r = parse_dataplane_config(s, {"--no-shconf"}, 1702);
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0]);
  const DataPlaneConfig& c = *r.config;
  EXPECT_EQ(c.eal_args, (std::vector<std::string>{"-l", "0-2", "--vdev=net_null0", "--no-shconf"}));
  EXPECT_EQ(c.access_port, 1);
  EXPECT_EQ(c.core_port, 2);
  EXPECT_EQ(c.access_gateway, ipv4(192, 0, 2, 254));
  EXPECT_EQ(*c.core_next_hop_mac, (std::array<uint8_t, 6>{2, 0, 0, 0, 0, 0xFE}));
  EXPECT_EQ(c.workers, 2u);
  EXPECT_EQ(c.mbufs, 4096u);
  EXPECT_EQ(c.ring_size, 1024u);
  EXPECT_EQ(c.handoff_ring_size, 256u);
  EXPECT_EQ(c.max_subscribers, 1000u);
  EXPECT_FALSE(c.idle_sleep);
  EXPECT_EQ(c.l2tp_port, 1702);
  EXPECT_EQ(c.police.control.rate, 300u);
  EXPECT_EQ(c.police.control.burst, 30u);
  EXPECT_EQ(c.police.sccrq.rate, 10u);
  EXPECT_EQ(c.police.sccrq.burst, 2u);
  EXPECT_EQ(c.police.sccrq_worker.rate, 100u);
  EXPECT_EQ(c.police.sccrq_worker.burst, 20u);
  EXPECT_EQ(c.police.other.rate, 7000u);
  EXPECT_EQ(c.police.other.burst, 700u);
  EXPECT_EQ(c.police.control_worker.rate, 3000u);
  EXPECT_EQ(c.police.control_worker.burst, 300u);
  EXPECT_EQ(c.police.other_worker.rate, 9000u);
  EXPECT_EQ(c.police.other_worker.burst, 900u);
  EXPECT_EQ(c.police.stray.rate, 20u);
  EXPECT_EQ(c.police.stray.burst, 4u);
  EXPECT_EQ(c.police.stray_worker.rate, 200u);
  EXPECT_EQ(c.police.stray_worker.burst, 40u);
}

TEST(DataPlaneConfigParse, PoliceLimitsMustBePositiveAndBounded) {
  auto s = minimal();
  s["police sccrq rate"] = "0";
  s["police control burst"] = "2000000";
  s["police other rate"] = "fast";
  s["police stray worker burst"] = "0";
  auto r = parse_dataplane_config(s, {}, 1701);
  EXPECT_FALSE(r.config);
  auto has = [&](const std::string& what) {
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const std::string& e) { return e.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(has("\"police sccrq rate\": \"0\": packets per second, 1 to 10000000"));
  EXPECT_TRUE(has("\"police control burst\": \"2000000\": packets, 1 to 1000000"));
  EXPECT_TRUE(has("\"police other rate\": \"fast\""));
  EXPECT_TRUE(has("\"police stray worker burst\": \"0\": packets, 1 to 1000000"));
  EXPECT_EQ(r.errors.size(), 4u);
}

TEST(DataPlaneConfigParse, ErrorsNameKeyAndValueAndAllAreReported) {
  std::map<std::string, std::string> s{{"access address", "192.0.2.2"},  // no prefix
                                       {"core address", "198.51.100.1/24"},
                                       {"core next hop", "10.0.0.1"},  // off the core subnet
                                       {"workers", "0"},
                                       {"ring size", "1000"},
                                       {"handoff ring size", "32"},
                                       {"core next hop mac", "02:00:00:00:00"},
                                       {"colour", "blue"}};
  auto r = parse_dataplane_config(s, {}, 1701);
  EXPECT_FALSE(r.config);
  auto has = [&](const std::string& what) {
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const std::string& e) { return e.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(has("\"access address\": \"192.0.2.2\": an IPv4 address with its prefix length"));
  EXPECT_TRUE(has("\"workers\": \"0\""));
  EXPECT_TRUE(has("\"ring size\": \"1000\": a power of two"));
  EXPECT_TRUE(has("\"handoff ring size\": \"32\": a power of two, 64 or more"));
  EXPECT_TRUE(has("\"core next hop mac\""));
  EXPECT_TRUE(has("\"colour\": \"blue\": unknown key"));
  EXPECT_TRUE(has("\"core next hop\" is not on the core address's subnet"));
}

TEST(DataPlaneConfigParse, ReassemblyKeysAreReadAndBoundedByThePool) {
  auto defaults = parse_dataplane_config(minimal(), {}, 1701);
  ASSERT_TRUE(defaults.config);
  EXPECT_TRUE(defaults.config->reassembly);
  EXPECT_EQ(defaults.config->reassembly_flows, 128u);
  EXPECT_EQ(defaults.config->reassembly_timeout_ms, 500u);

  auto s = minimal();
  s["reassembly flows"] = "64";
  s["reassembly timeout"] = "250";
  auto r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.config->reassembly_flows, 64u);
  EXPECT_EQ(r.config->reassembly_timeout_ms, 250u);

  // 2 workers * 1024 flows * 8 fragments: more than half of 16383 mbufs.
  s["workers"] = "2";
  s["reassembly flows"] = "1024";
  r = parse_dataplane_config(s, {}, 1701);
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("\"reassembly flows\" (1024) * 8 fragments * 2 workers exceeds half of \"mbufs\""),
            std::string::npos)
      << r.errors[0];
  s["mbufs"] = "32768";
  EXPECT_TRUE(parse_dataplane_config(s, {}, 1701).config);
  s["mbufs"] = "16383";
  s["reassembly"] = "no";  // nothing held: no bound
  r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->reassembly);

  s["reassembly"] = "maybe";
  s["reassembly flows"] = "0";
  s["reassembly timeout"] = "60001";
  r = parse_dataplane_config(s, {}, 1701);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.errors.size(), 3u);
}

TEST(DataPlaneConfigParse, MissingRequiredKeysAreNamed) {
  auto r = parse_dataplane_config({}, {}, 1701);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.errors.size(), 3u);
}

}  // namespace
}  // namespace l2tp::dp
