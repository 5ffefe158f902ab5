#pragma once
// Golden-packet builders: every field written explicitly and every checksum
// computed in full (never by the incremental code under test), so an
// expected packet is an independent statement of what the wire must carry.

#include <array>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <vector>

#include <rte_mbuf.h>

#include "eal_environment.hpp"

namespace l2tp::dp::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
inline void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
inline Bytes cat(Bytes a, const Bytes& b) {
  append(a, b);
  return a;
}

// RFC 1071, over the whole header.
inline uint16_t full_checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline Bytes ethernet(const Mac& dst, const Mac& src, uint16_t vlan, uint16_t ether_type) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  if (vlan != 0) {
    put16(b, 0x8100);
    put16(b, vlan);
  }
  put16(b, ether_type);
  return b;
}

// A 20-octet IPv4 header; addresses host order.
inline Bytes ipv4_header(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t ttl, uint16_t total_len,
                         uint16_t id = 0, uint16_t frag = 0) {
  Bytes b{0x45, 0x00};
  put16(b, total_len);
  put16(b, id);
  put16(b, frag);
  b.push_back(ttl);
  b.push_back(protocol);
  put16(b, 0);
  put32(b, src);
  put32(b, dst);
  uint16_t sum = full_checksum(b.data(), b.size());
  b[10] = static_cast<uint8_t>(sum >> 8);
  b[11] = static_cast<uint8_t>(sum);
  return b;
}

inline Bytes udp_header(uint16_t sport, uint16_t dport, uint16_t payload_len) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<uint16_t>(8 + payload_len));
  put16(b, 0);  // no checksum (IPv4)
  return b;
}

// A subscriber's packet: IPv4 / UDP with a counting payload.
inline Bytes inner_ipv4(uint32_t src, uint32_t dst, uint8_t ttl, uint16_t payload_len = 18) {
  Bytes payload;
  for (uint16_t i = 0; i < payload_len; ++i) payload.push_back(static_cast<uint8_t>(i * 7 + 1));
  Bytes b = ipv4_header(src, dst, 17, ttl, static_cast<uint16_t>(20 + 8 + payload_len), 0x1c46, 0x4000);
  append(b, udp_header(40000, 53, payload_len));
  append(b, payload);
  return b;
}

// The same packet one hop later: TTL - 1, checksum recomputed in full.
inline Bytes forwarded(Bytes ip) {
  ip[8] = static_cast<uint8_t>(ip[8] - 1);
  ip[10] = ip[11] = 0;
  uint16_t sum = full_checksum(ip.data(), 20);
  ip[10] = static_cast<uint8_t>(sum >> 8);
  ip[11] = static_cast<uint8_t>(sum);
  return ip;
}

struct L2tpOptions {
  bool length = false;
  bool sequence = false;
  bool offset = false;
  uint16_t offset_size = 0;
  bool address_control = true;   // FF 03
  bool protocol_compressed = false;  // one-octet protocol (PFC)
  uint16_t ns = 0, nr = 0;
  bool control = false;  // T bit (then L and S set too)
  uint16_t version = 2;
};

// L2TP header + PPP header + information.
inline Bytes l2tp_ppp(uint16_t tunnel, uint16_t session, const L2tpOptions& o, uint16_t protocol,
                      const Bytes& information) {
  Bytes ppp;
  if (o.address_control) ppp = {0xFF, 0x03};
  if (o.protocol_compressed)
    ppp.push_back(static_cast<uint8_t>(protocol));
  else
    put16(ppp, protocol);
  append(ppp, information);

  uint16_t flags = o.version;
  if (o.control) flags |= 0x8000;
  if (o.length) flags |= 0x4000;
  if (o.sequence) flags |= 0x0800;
  if (o.offset) flags |= 0x0200;
  size_t hlen = 6 + (o.length ? 2 : 0) + (o.sequence ? 4 : 0) + (o.offset ? 2 + o.offset_size : 0);
  Bytes b;
  put16(b, flags);
  if (o.length) put16(b, static_cast<uint16_t>(hlen + ppp.size()));
  put16(b, tunnel);
  put16(b, session);
  if (o.sequence) {
    put16(b, o.ns);
    put16(b, o.nr);
  }
  if (o.offset) {
    put16(b, o.offset_size);
    for (uint16_t i = 0; i < o.offset_size; ++i) b.push_back(0xAA);  // pad: any value
  }
  append(b, ppp);
  return b;
}

struct Outer {
  Mac dst{}, src{};
  uint16_t vlan = 0;
  uint32_t ip_src = 0, ip_dst = 0;
  uint16_t sport = 1701, dport = 1701;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  uint16_t frag = 0;
};

// Ethernet [+VLAN] / IPv4 / UDP / payload.
inline Bytes udp_frame(const Outer& o, const Bytes& payload) {
  Bytes b = ethernet(o.dst, o.src, o.vlan, 0x0800);
  append(b, ipv4_header(o.ip_src, o.ip_dst, 17, o.ttl, static_cast<uint16_t>(20 + 8 + payload.size()),
                        o.ip_id, o.frag));
  append(b, udp_header(o.sport, o.dport, static_cast<uint16_t>(payload.size())));
  append(b, payload);
  return b;
}

// An Ethernet [+802.1Q] / IPv4 frame cut into IPv4 fragments (RFC 791
// 3.2): cuts are offsets into the IPv4 payload, multiples of 8, ascending.
// Each fragment repeats the Ethernet and IPv4 headers with its own total
// length, its offset in 8-octet units, MF on all but the last (the DF bit
// as it was) and its checksum computed in full.
inline std::vector<Bytes> fragments(const Bytes& frame, const std::vector<size_t>& cuts) {
  const size_t l2 = (frame[12] == 0x81 && frame[13] == 0x00) ? 18 : 14;
  const size_t ihl = (frame[l2] & 0x0F) * 4u;
  const size_t total = (size_t{frame[l2 + 2]} << 8) | frame[l2 + 3];
  const size_t payload = total - ihl;
  std::vector<Bytes> out;
  for (size_t k = 0; k <= cuts.size(); ++k) {
    const size_t from = k == 0 ? 0 : cuts[k - 1];
    const size_t to = k == cuts.size() ? payload : cuts[k];
    Bytes f(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(l2 + ihl));
    const size_t len = ihl + to - from;
    f[l2 + 2] = static_cast<uint8_t>(len >> 8);
    f[l2 + 3] = static_cast<uint8_t>(len);
    uint16_t field = static_cast<uint16_t>((frame[l2 + 6] & 0x40) << 8);  // DF
    if (k != cuts.size()) field |= 0x2000;                                 // MF
    field = static_cast<uint16_t>(field | (from / 8));
    f[l2 + 6] = static_cast<uint8_t>(field >> 8);
    f[l2 + 7] = static_cast<uint8_t>(field);
    f[l2 + 10] = f[l2 + 11] = 0;
    const uint16_t sum = full_checksum(f.data() + l2, ihl);
    f[l2 + 10] = static_cast<uint8_t>(sum >> 8);
    f[l2 + 11] = static_cast<uint8_t>(sum);
    const auto at = static_cast<std::ptrdiff_t>(l2 + ihl);
    f.insert(f.end(), frame.begin() + at + static_cast<std::ptrdiff_t>(from),
             frame.begin() + at + static_cast<std::ptrdiff_t>(to));
    out.push_back(std::move(f));
  }
  return out;
}

inline rte_mbuf* to_mbuf(const Bytes& b) {
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(p, b.data(), b.size());
  return m;
}

inline Bytes from_mbuf(const rte_mbuf* m) {
  Bytes b(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(b.size()), b.data());
  if (p != b.data()) std::memcpy(b.data(), p, b.size());
  return b;
}

}  // namespace l2tp::dp::test
