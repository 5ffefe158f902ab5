// The socket seam on real loopback sockets (127.0.0.0/8 is all local on
// Linux, so 127.0.0.1 and 127.0.0.2 are two addresses of one box). Waits are
// poll() with a timeout or the event loop, never sleeps.

#include "control/udp_socket.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>

#include <numeric>
#include <string>
#include <system_error>
#include <vector>

#include "control/event_loop.hpp"
#include "control/net.hpp"

using namespace l2tp::control;

namespace {

constexpr uint32_t kLoopback1 = ipv4(127, 0, 0, 1);
constexpr uint32_t kLoopback2 = ipv4(127, 0, 0, 2);
constexpr int kWaitMs = 5000;  // reached only when a datagram is lost

struct Received {
  DatagramMeta meta;
  std::vector<uint8_t> data;
};

UdpSocketConfig on(uint32_t addr, size_t max_datagram = UdpSocketConfig{}.max_datagram) {
  UdpSocketConfig c;
  c.bind = Endpoint{addr, 0};
  c.max_datagram = max_datagram;
  return c;
}

// Receives until `count` datagrams arrived or nothing came for kWaitMs.
std::vector<Received> receive(UdpSocket& s, size_t count) {
  std::vector<Received> out;
  while (out.size() < count) {
    pollfd p{s.wait_fd(), POLLIN, 0};
    if (::poll(&p, 1, kWaitMs) <= 0) break;
    s.receive_batch(count - out.size(), [&](const DatagramMeta& meta, std::span<const uint8_t> data) {
      out.push_back(Received{meta, std::vector<uint8_t>(data.begin(), data.end())});
    });
  }
  return out;
}

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

TxDatagram to(Endpoint peer, const std::vector<uint8_t>& data, uint32_t from_addr = 0) {
  TxDatagram d;
  d.meta.peer = peer;
  d.meta.local.addr = from_addr;
  d.data = data;
  return d;
}

}  // namespace

TEST(Endpoint, ParsesAddressWithAndWithoutPort) {
  EXPECT_EQ(parse_endpoint("192.0.2.1:1701"), (Endpoint{ipv4(192, 0, 2, 1), 1701}));
  EXPECT_EQ(parse_endpoint("10.0.0.255", 1701), (Endpoint{ipv4(10, 0, 0, 255), 1701}));
  EXPECT_EQ(parse_endpoint("0.0.0.0:0"), (Endpoint{0, 0}));
  EXPECT_EQ(parse_endpoint("255.255.255.255:65535"), (Endpoint{0xFFFFFFFF, 65535}));
}

TEST(Endpoint, RejectsMalformedText) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:", "1.2.3.4:65536",
                          "01.2.3.4", "1.2.3.4:01701", "1..3.4", " 1.2.3.4", "1.2.3.4 ",
                          "1.2.3.4:17x", "a.b.c.d", "1.2.3.-4", "1.2.3.4:+1", "1.2.3.1234"})
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
}

TEST(Endpoint, ToStringIsDottedQuadColonPort) {
  EXPECT_EQ((Endpoint{ipv4(192, 0, 2, 1), 1701}).to_string(), "192.0.2.1:1701");
  EXPECT_EQ((Endpoint{0, 0}).to_string(), "0.0.0.0:0");
  Endpoint e{ipv4(203, 0, 113, 254), 65535};
  EXPECT_EQ(parse_endpoint(e.to_string()), e);
}

TEST(UdpSocket, PortZeroBindsAnEphemeralPort) {
  UdpSocket s(on(kLoopback1));
  EXPECT_EQ(s.local_endpoint().addr, kLoopback1);
  EXPECT_NE(s.local_endpoint().port, 0);
  EXPECT_GE(s.wait_fd(), 0);
}

TEST(UdpSocket, BindFailureThrowsWithTheAddress) {
  // 192.0.2.1 (TEST-NET-1) is not an address of this box.
  try {
    UdpSocket s(on(ipv4(192, 0, 2, 1)));
    FAIL() << "bound a non-local address";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("192.0.2.1:0"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), std::errc::address_not_available);
  }
}

TEST(UdpSocket, ReceiveOnAnEmptySocketReturnsAtOnce) {
  UdpSocket s(on(kLoopback1));
  bool called = false;
  EXPECT_EQ(s.receive_batch(32, [&](const DatagramMeta&, std::span<const uint8_t>) { called = true; }), 0u);
  EXPECT_FALSE(called);
}

TEST(UdpSocket, TwoSocketsExchangeABatchOf100Datagrams) {
  UdpSocket a(on(kLoopback1));
  UdpSocket b(on(kLoopback1));
  std::vector<std::vector<uint8_t>> payloads;
  for (int i = 0; i < 100; ++i) payloads.push_back(bytes("datagram " + std::to_string(i)));
  std::vector<TxDatagram> batch;
  for (const auto& p : payloads) batch.push_back(to(b.local_endpoint(), p));

  EXPECT_EQ(a.send_batch(batch), 100u);
  std::vector<Received> got = receive(b, 100);
  ASSERT_EQ(got.size(), 100u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data, payloads[i]);  // loopback keeps the order
    EXPECT_EQ(got[i].meta.peer, a.local_endpoint());
    EXPECT_EQ(got[i].meta.local, b.local_endpoint());
    EXPECT_EQ(got[i].meta.port_id, 0);
    EXPECT_EQ(got[i].meta.vlan, 0);
  }
}

TEST(UdpSocket, ReceiveBatchDeliversAtMostMax) {
  UdpSocket a(on(kLoopback1));
  UdpSocket b(on(kLoopback1));
  std::vector<uint8_t> p = bytes("x");
  std::vector<TxDatagram> batch(50, to(b.local_endpoint(), p));
  ASSERT_EQ(a.send_batch(batch), 50u);
  ASSERT_EQ(receive(b, 10).size(), 10u);
  EXPECT_EQ(receive(b, 40).size(), 40u);
}

TEST(UdpSocket, CountersAddUp) {
  UdpSocket a(on(kLoopback1));
  UdpSocket b(on(kLoopback1));
  std::vector<std::vector<uint8_t>> payloads;
  for (size_t i = 1; i <= 70; ++i) payloads.push_back(std::vector<uint8_t>(i, 0x5A));
  std::vector<TxDatagram> batch;
  for (const auto& p : payloads) batch.push_back(to(b.local_endpoint(), p));
  const uint64_t total = 70 * 71 / 2;

  ASSERT_EQ(a.send_batch(batch), 70u);
  ASSERT_EQ(receive(b, 70).size(), 70u);
  EXPECT_EQ(a.counters().tx_datagrams, 70u);
  EXPECT_EQ(a.counters().tx_bytes, total);
  EXPECT_EQ(a.counters().tx_dropped + a.counters().tx_errors, 0u);
  EXPECT_EQ(b.counters().rx_datagrams, 70u);
  EXPECT_EQ(b.counters().rx_bytes, total);
  EXPECT_EQ(b.counters().rx_truncated + b.counters().rx_errors, 0u);
}

TEST(UdpSocket, RefusedDatagramIsCountedAndTheRestOfTheBatchIsSent) {
  UdpSocket a(on(0));
  UdpSocket b(on(kLoopback1));
  std::vector<uint8_t> one = bytes("one"), two = bytes("two"), three = bytes("three");
  // The middle one asks for a source address this box does not have.
  std::vector<TxDatagram> batch{to(b.local_endpoint(), one),
                                to(b.local_endpoint(), two, ipv4(192, 0, 2, 1)),
                                to(b.local_endpoint(), three)};
  EXPECT_EQ(a.send_batch(batch), 2u);
  EXPECT_EQ(a.counters().tx_datagrams, 2u);
  EXPECT_EQ(a.counters().tx_errors, 1u);
  EXPECT_EQ(a.counters().tx_datagrams + a.counters().tx_errors + a.counters().tx_dropped, 3u);
  std::vector<Received> got = receive(b, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, one);
  EXPECT_EQ(got[1].data, three);
}

TEST(UdpSocket, PktinfoGivesTheAddressSentToAndTheReplyLeavesFromIt) {
  UdpSocket server(on(0));  // INADDR_ANY: every local address
  UdpSocket client(on(kLoopback1));
  const uint16_t port = server.local_endpoint().port;
  std::vector<uint8_t> to1 = bytes("to 127.0.0.1"), to2 = bytes("to 127.0.0.2");
  std::vector<TxDatagram> asks{to(Endpoint{kLoopback2, port}, to2), to(Endpoint{kLoopback1, port}, to1)};
  ASSERT_EQ(client.send_batch(asks), 2u);

  std::vector<Received> got = receive(server, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, to2);
  EXPECT_EQ(got[0].meta.local, (Endpoint{kLoopback2, port}));
  EXPECT_EQ(got[1].data, to1);
  EXPECT_EQ(got[1].meta.local, (Endpoint{kLoopback1, port}));
  for (const Received& r : got) EXPECT_EQ(r.meta.peer, client.local_endpoint());

  // Answer each from the address it was asked on. The routing table alone
  // would pick 127.0.0.1 for both (the client is on 127.0.0.1).
  std::vector<TxDatagram> replies;
  for (const Received& r : got) {
    TxDatagram d;
    d.meta.local = r.meta.local;
    d.meta.peer = r.meta.peer;
    d.data = r.data;
    replies.push_back(d);
  }
  ASSERT_EQ(server.send_batch(replies), 2u);
  std::vector<Received> answers = receive(client, 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].data, to2);
  EXPECT_EQ(answers[0].meta.peer, (Endpoint{kLoopback2, port}));
  EXPECT_EQ(answers[1].data, to1);
  EXPECT_EQ(answers[1].meta.peer, (Endpoint{kLoopback1, port}));
}

TEST(UdpSocket, OversizedDatagramIsCountedAsTruncatedAndDropped) {
  UdpSocket client(on(kLoopback1));
  UdpSocket server(on(kLoopback1, 512));
  std::vector<uint8_t> big(513, 0xAB), exact(512, 0xCD), small = bytes("small");
  std::vector<TxDatagram> batch{to(server.local_endpoint(), big), to(server.local_endpoint(), exact),
                                to(server.local_endpoint(), small)};
  ASSERT_EQ(client.send_batch(batch), 3u);
  std::vector<Received> got = receive(server, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, exact);  // exactly max_datagram still fits
  EXPECT_EQ(got[1].data, small);
  EXPECT_EQ(server.counters().rx_truncated, 1u);
  EXPECT_EQ(server.counters().rx_datagrams, 2u);
  EXPECT_EQ(server.counters().rx_bytes, 512u + small.size());
}

TEST(UdpSocket, EventLoopCallsBackWhenADatagramArrives) {
  EventLoop loop;
  UdpSocket a(on(kLoopback1));
  UdpSocket b(on(kLoopback1));
  std::vector<Received> got;
  ASSERT_FALSE(loop.add_fd(b.wait_fd(), EPOLLIN, [&](uint32_t, TimePoint) {
    b.receive_batch(UdpSocket::kBatch, [&](const DatagramMeta& meta, std::span<const uint8_t> data) {
      got.push_back(Received{meta, std::vector<uint8_t>(data.begin(), data.end())});
    });
  }));
  std::vector<uint8_t> hello = bytes("hello");
  std::vector<TxDatagram> batch{to(b.local_endpoint(), hello)};
  ASSERT_EQ(a.send_batch(batch), 1u);
  loop.run_once(std::chrono::milliseconds(kWaitMs));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, hello);
  EXPECT_FALSE(loop.remove_fd(b.wait_fd()));
}
