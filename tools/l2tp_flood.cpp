// l2tp-flood: floods an L2TP access port at the highest rate this machine
// makes, to test the protection of the control path (tests/integration/
// control_flood.sh). From an AF_PACKET socket (PACKET_QDISC_BYPASS,
// sendmmsg of 256 frames a call) it sends, in turn:
//   sccrq      SCCRQs (tunnel ID 0) from random sources
//   unknown    data messages for random tunnels and sessions nobody set up
//   malformed  L2TPv3 on 1701, an L2TP Length beyond the datagram, a UDP
//              length that disagrees with IPv4's, a bad IPv4 IHL
//   control    Hellos for random tunnel IDs (not 0) from random sources:
//              the workers police them as stray control (police.hpp), apart
//              from the live tunnels' own
// (--kinds picks which) for a number of seconds, then prints what it sent,
// by kind, and the rate:
//   sent 1234567 frames in 5.00 s: 246913 pps (sccrq 308642, unknown 308642, malformed 308642, control 308641)
// Frames are built once (a pool of 16384, random sources from 198.18.0.0/15,
// RFC 2544's benchmarking range) and sent round and round. Exit 2 on usage
// or socket errors.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "shared/header.hpp"
#include "shared/message.hpp"

namespace po = boost::program_options;
using namespace l2tp::wire;

namespace {

enum Kind { kSccrq, kUnknown, kMalformed, kControl, kKinds };
const char* const kKindNames[kKinds] = {"sccrq", "unknown", "malformed", "control"};

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

uint16_t ip_checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

struct Frame {
  Bytes bytes;
  Kind kind;
};

// Ethernet / IPv4 / UDP 1701 -> 1701 / payload. ihl_words and udp_extra
// make the malformed kinds.
Bytes frame(const std::array<uint8_t, 6>& dst, const std::array<uint8_t, 6>& src, uint32_t ip_src, uint32_t ip_dst,
            const Bytes& payload, uint8_t ihl_words = 5, uint16_t udp_extra = 0) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  put16(b, ETHERTYPE_IP);
  const size_t ip_at = b.size();
  b.push_back(static_cast<uint8_t>(0x40 | ihl_words));
  b.push_back(0);
  put16(b, static_cast<uint16_t>(20 + 8 + payload.size()));
  put16(b, 0);
  put16(b, 0x4000);  // DF
  b.push_back(64);
  b.push_back(17);
  put16(b, 0);
  put32(b, ip_src);
  put32(b, ip_dst);
  const uint16_t sum = ip_checksum(b.data() + ip_at, 20);
  b[ip_at + 10] = static_cast<uint8_t>(sum >> 8);
  b[ip_at + 11] = static_cast<uint8_t>(sum);
  put16(b, kL2tpPort);
  put16(b, kL2tpPort);
  put16(b, static_cast<uint16_t>(8 + payload.size() + udp_extra));
  put16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

bool parse_mac(const std::string& s, std::array<uint8_t, 6>& mac) {
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v[i]);
  return true;
}

std::vector<Frame> build_pool(const std::array<uint8_t, 6>& dst, const std::array<uint8_t, 6>& src, uint32_t ip_dst,
                              uint32_t lac, const std::vector<Kind>& kinds, size_t size) {
  std::mt19937 rng(2661);
  auto random_source = [&] { return (uint32_t{198} << 24 | uint32_t{18} << 16) + (rng() & 0x1FFFF); };
  std::vector<Frame> pool;
  pool.reserve(size);
  for (size_t i = 0; pool.size() < size; ++i) {
    const size_t v = i / kinds.size();  // which variant of its kind
    switch (kinds[i % kinds.size()]) {
      case kSccrq: {
        ControlMessage m;
        m.message_type = static_cast<uint16_t>(MessageType::kSccrq);
        m.protocol_version = ProtocolVersion{1, 0};
        m.framing_capabilities = kFramingSync | kFramingAsync;
        m.host_name = "flood" + std::to_string(i);
        m.assigned_tunnel_id = static_cast<uint16_t>(1 + rng() % 65535);
        auto body = encode_control(control_header(0, 0, 0, 0), m);
        if (!body) throw std::runtime_error("SCCRQ: " + body.error().to_string());
        pool.push_back({frame(dst, src, random_source(), ip_dst, *body), kSccrq});
        break;
      }
      case kUnknown: {
        Bytes l2tp;
        put16(l2tp, kVersion2);
        put16(l2tp, static_cast<uint16_t>(1 + rng() % 65535));
        put16(l2tp, static_cast<uint16_t>(1 + rng() % 65535));
        for (uint8_t x : {0xFF, 0x03, 0x00, 0x21}) l2tp.push_back(x);
        l2tp.resize(l2tp.size() + 40, 0x45);  // something IPv4-sized
        pool.push_back({frame(dst, src, v % 2 ? lac : random_source(), ip_dst, l2tp), kUnknown});
        break;
      }
      case kMalformed: {
        Bytes l2tp;
        put16(l2tp, 0x0003);  // L2TPv3 on 1701
        put16(l2tp, 1);
        put16(l2tp, 1);
        l2tp.resize(32, 0);
        switch (v % 4) {
          case 0: pool.push_back({frame(dst, src, random_source(), ip_dst, l2tp), kMalformed}); break;
          case 1:
            l2tp[0] = 0x40;  // L: Length beyond the datagram
            l2tp[1] = 0x02;
            l2tp[2] = 0x01;
            l2tp[3] = 0x00;
            pool.push_back({frame(dst, src, random_source(), ip_dst, l2tp), kMalformed});
            break;
          case 2: pool.push_back({frame(dst, src, random_source(), ip_dst, l2tp, 5, 100), kMalformed}); break;
          case 3: pool.push_back({frame(dst, src, random_source(), ip_dst, l2tp, 4), kMalformed}); break;
        }
        break;
      }
      case kControl: {
        ControlMessage m;
        m.message_type = static_cast<uint16_t>(MessageType::kHello);
        auto body = encode_control(control_header(static_cast<uint16_t>(1 + rng() % 65535), 0, 0, 0), m);
        if (!body) throw std::runtime_error("Hello: " + body.error().to_string());
        pool.push_back({frame(dst, src, random_source(), ip_dst, *body), kControl});
        break;
      }
      case kKinds: break;
    }
  }
  return pool;
}

}  // namespace

int main(int argc, char** argv) {
  std::string iface, dst_mac_text, dst_text, lac_text, kinds_text;
  double seconds = 5;
  po::options_description desc("l2tp-flood: floods an L2TP access port (SCCRQs, unknown sessions, malformed, control)");
  desc.add_options()("help,h", "this text")("iface,i", po::value(&iface)->required(), "interface to send on")(
      "dst-mac", po::value(&dst_mac_text)->required(), "the port's MAC, as 02:00:00:00:00:01")(
      "dst", po::value(&dst_text)->required(), "the LNS's L2TP address")(
      "lac", po::value(&lac_text)->default_value("192.0.2.1"), "half of the unknown-session frames come from here")(
      "seconds,t", po::value(&seconds)->default_value(5), "how long to flood")(
      "kinds,k", po::value(&kinds_text)->default_value("sccrq,unknown,malformed,control"),
      "what to send, in turn: sccrq, unknown, malformed, control (comma-separated)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "l2tp-flood: " << e.what() << "\n" << desc;
    return 2;
  }
  std::array<uint8_t, 6> dst_mac{};
  in_addr dst{}, lac{};
  if (!parse_mac(dst_mac_text, dst_mac) || inet_pton(AF_INET, dst_text.c_str(), &dst) != 1 ||
      inet_pton(AF_INET, lac_text.c_str(), &lac) != 1) {
    std::cerr << "l2tp-flood: bad --dst-mac, --dst or --lac\n";
    return 2;
  }
  std::vector<Kind> kinds;
  for (size_t at = 0; at <= kinds_text.size();) {
    const size_t comma = std::min(kinds_text.find(',', at), kinds_text.size());
    const std::string name = kinds_text.substr(at, comma - at);
    int k = 0;
    while (k < kKinds && name != kKindNames[k]) ++k;
    if (k == kKinds) {
      std::cerr << "l2tp-flood: unknown kind \"" << name << "\" (sccrq, unknown, malformed, control)\n";
      return 2;
    }
    kinds.push_back(static_cast<Kind>(k));
    at = comma + 1;
  }
  const int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only
  if (fd < 0) {
    std::perror("l2tp-flood: socket(AF_PACKET)");
    return 2;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
    std::perror(("l2tp-flood: " + iface).c_str());
    return 2;
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = ifr.ifr_ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
    std::perror("l2tp-flood: bind");
    return 2;
  }
  std::array<uint8_t, 6> src_mac{};
  std::memcpy(src_mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  const int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);  // best effort: faster without the qdisc

  std::vector<Frame> pool;
  try {
    pool = build_pool(dst_mac, src_mac, ntohl(dst.s_addr), ntohl(lac.s_addr), kinds, 16384);
  } catch (const std::exception& e) {
    std::cerr << "l2tp-flood: " << e.what() << "\n";
    return 2;
  }
  constexpr size_t kBatch = 256;
  std::vector<iovec> iov(pool.size());
  std::vector<mmsghdr> msgs(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) {
    iov[i] = {pool[i].bytes.data(), pool[i].bytes.size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  std::array<uint64_t, kKinds> sent{};
  uint64_t total = 0, refused = 0;
  size_t next = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  auto now = start;
  for (unsigned calls = 0; now < end; ++calls) {
    const size_t n = std::min(kBatch, pool.size() - next);
    const int r = sendmmsg(fd, &msgs[next], static_cast<unsigned>(n), 0);
    if (r > 0) {
      for (int k = 0; k < r; ++k) ++sent[pool[next + k].kind];
      total += static_cast<uint64_t>(r);
      next = (next + static_cast<size_t>(r)) % pool.size();
    } else {
      ++refused;  // ENOBUFS and the like: the device is full, try again
    }
    if (calls % 16 == 0) now = std::chrono::steady_clock::now();
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sent %llu frames in %.2f s: %.0f pps (", static_cast<unsigned long long>(total), elapsed,
              static_cast<double>(total) / elapsed);
  for (int k = 0; k < kKinds; ++k)
    std::printf("%s%s %llu", k ? ", " : "", kKindNames[k], static_cast<unsigned long long>(sent[k]));
  std::printf("; refused calls %llu)\n", static_cast<unsigned long long>(refused));
  close(fd);
  return 0;
}
