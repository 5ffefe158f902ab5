#pragma once
// Sorting a received packet (DESIGN.md "Packet paths"): fast-path data,
// control-bound, or a counted drop. Classification reads headers only; it
// changes nothing, so a packet punted to the control thread arrives as it
// came off the wire.

#include <algorithm>
#include <cstdint>
#include <cstddef>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/counters.hpp"
#include "dataplane/session_table.hpp"
#include "shared/bytes.hpp"
#include "shared/header.hpp"

struct rte_mbuf;

namespace l2tp::dp {

enum class Verdict : uint8_t {
  kFast,     // take the fast path (decap or encap)
  kControl,  // hand the frame to the control thread
  kDrop,     // count the Drop reason and free
  kHandoff,  // fast-path data of a session another worker owns: hand the
             // frame, unchanged, to out.session->owner_worker (handoff.hpp)
};

// Where the subscriber's IPv4 packet starts in an upstream frame, and its
// place in the session's sequence (RFC 2661 5.4).
struct UpstreamPacket {
  const Session* session = nullptr;
  uint16_t inner_offset = 0;  // from the start of the frame
  uint16_t inner_len = 0;     // PPP information bytes (Length or UDP bounded)
  uint16_t ns = 0;            // Ns, when sequenced
  bool sequenced = false;     // the S bit was set
};

// Access side: Ethernet [+802.1Q] / IPv4 / UDP / L2TP / PPP.
// - ARP and L2TP control messages (T=1): kControl.
// - Data for a session we know and own, PPP protocol IPv4, session in the
//   fast path: kFast with `out` filled.
// - Data with any other PPP protocol (LCP, IPCP, PAP, CHAP, CCP, IPv6...)
//   or for a known session not in the fast path: kControl, with `out`'s
//   session, sequenced and ns filled (the punted frame consumes an Ns
//   too); any other kControl has sequenced false.
// - Anything malformed, or data for an unknown tunnel/session/peer: kDrop
//   with `drop` set.
// worker is the caller's worker ID: fast-path data of a session another
// worker owns is kHandoff with out.session set (only the owner writes a
// session's state).
Verdict classify_upstream(const rte_mbuf* m, const SessionTable& table, uint16_t worker,
                          UpstreamPacket& out, Drop& drop);

namespace detail {
// The data messages LACs send nearly always, read at fixed offsets instead
// of through wire::decode_header and wire::parse_ppp (the same rules, for
// these shapes only): flags with no S, O or P bit, with or without L (then
// Length equal to the UDP payload), and PPP "FF 03 00 21" (IPv4 with
// address and control, RFC 1662 3.1). Returns the L2TP header length
// (6 or 8), or 0 for anything else, which takes the general decoder.
[[gnu::always_inline]] inline uint32_t fixed_data_header(const uint8_t* l2tp, uint16_t flags,
                                                        uint32_t readable, uint32_t datagram_len) {
  uint32_t hlen;
  if (flags == wire::kVersion2) {
    hlen = 6;
  } else if (flags == (wire::kFlagLength | wire::kVersion2) && wire::load_be16(l2tp + 2) == datagram_len &&
             datagram_len <= readable) {
    hlen = 8;
  } else {
    return 0;
  }
  // The PPP header must lie within the message (readable bounds it).
  if (readable < hlen + 4) return 0;
  uint32_t ppp;
  std::memcpy(&ppp, l2tp + hlen, 4);
  return ppp == rte_cpu_to_be_32(0xFF030021) ? hlen : 0;
}

// The session a data message names, when the message came the session's
// way: its tunnel, from its peer's address and port to ours. addrs is the
// outer IPv4 source and destination and ports the UDP source and
// destination ports, each as the frame carries them, read as one word
// (little-endian: the source in the low half). nullptr: an unknown
// session.
[[gnu::always_inline]] inline const Session* matching_session(const SessionTable& table, uint16_t tunnel_id,
                                                             uint16_t session_id, uint64_t addrs, uint32_t ports) {
  static_assert(offsetof(Session, local_addr) == offsetof(Session, peer_addr) + 4 &&
                    offsetof(Session, peer_port) == offsetof(Session, peer_addr) + 8 &&
                    offsetof(Session, local_port) == offsetof(Session, peer_addr) + 10,
                "the Session's addresses and ports are read as two words");
  static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN);
  const Session* s = table.by_session_id(session_id);
  if (s == nullptr || s->local_tunnel_id != tunnel_id) return nullptr;
  // Two compares and one branch for the four fields.
  uint64_t have_addrs;
  uint32_t have_ports;
  std::memcpy(&have_addrs, &s->peer_addr, 8);
  std::memcpy(&have_ports, &s->peer_port, 4);
  if (((have_addrs ^ addrs) | (have_ports ^ ports)) != 0) return nullptr;
  return s;
}
}  // namespace detail

// The data message nearly every LAC sends, in one look: untagged IPv4 with
// a 20-octet header, not a fragment, UDP with port 1701 at one end and a
// consistent length, L2TP data with no S, O or P bit (with or without L),
// PPP FF 03 00 21. The worker reads it in a burst's first pass, fetches the
// session by it, and has only the session left to check.
struct UpstreamShape {
  uint64_t addrs = 0;  // outer addresses and ports, as matching_session() takes them
  uint32_t ports = 0;
  uint16_t tunnel_id = 0, session_id = 0;  // host order
  uint16_t inner_offset = 0, inner_len = 0;
};
// true when m has that shape; then classify_shaped() gives exactly the
// verdict, `out` and `drop` that classify_upstream() would. false: any
// other frame, for classify_upstream(). Inline: the worker runs it on
// every packet.
[[gnu::always_inline]] inline bool upstream_shape(const rte_mbuf* m, UpstreamShape& out) {
  // classify_upstream()'s checks for this one shape, several octets at a
  // time (compared in network order).
  constexpr uint32_t kL2tpAt = RTE_ETHER_HDR_LEN + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < kL2tpAt + 6 + 4) return false;
  uint32_t w;
  std::memcpy(&w, p + 12, 4);  // EtherType, version and IHL, TOS
  if ((w & rte_cpu_to_be_32(0xFFFFFF00)) != rte_cpu_to_be_32(0x08004500)) return false;
  const uint8_t* ip = p + RTE_ETHER_HDR_LEN;
  std::memcpy(&w, ip + 6, 4);  // flags and fragment offset, TTL, protocol: no MF, offset 0, UDP
  if ((w & rte_cpu_to_be_32(0x3FFF00FF)) != rte_cpu_to_be_32(IPPROTO_UDP)) return false;
  const uint32_t total = wire::load_be16(ip + 2);
  if (total < sizeof(rte_ipv4_hdr) || total > rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN) return false;
  const uint8_t* udp = ip + sizeof(rte_ipv4_hdr);
  if (wire::load_be16(udp + 2) != wire::kL2tpPort && wire::load_be16(udp) != wire::kL2tpPort) return false;
  const uint32_t udp_len = wire::load_be16(udp + 4);
  if (udp_len < sizeof(rte_udp_hdr) || udp_len != total - sizeof(rte_ipv4_hdr)) return false;
  const uint32_t datagram_len = udp_len - sizeof(rte_udp_hdr);
  const uint32_t readable = std::min(datagram_len, seg_len - kL2tpAt);
  const uint8_t* l2tp = p + kL2tpAt;
  const uint16_t flags = wire::load_be16(l2tp);
  const uint32_t hlen = detail::fixed_data_header(l2tp, flags, readable, datagram_len);
  if (hlen == 0) return false;
  out.tunnel_id = wire::load_be16(l2tp + hlen - 4);
  out.session_id = wire::load_be16(l2tp + hlen - 2);
  const uint32_t message_len = (flags & wire::kFlagLength) ? datagram_len : readable;
  out.inner_offset = static_cast<uint16_t>(kL2tpAt + hlen + 4);
  out.inner_len = static_cast<uint16_t>(message_len - hlen - 4);
  std::memcpy(&out.addrs, ip + 12, 8);
  std::memcpy(&out.ports, udp, 4);
  return true;
}

// classify_upstream()'s verdict for a frame upstream_shape() has read:
// only the session is left to check.
inline Verdict classify_shaped(const UpstreamShape& sh, const SessionTable& table, uint16_t worker,
                               UpstreamPacket& out, Drop& drop) {
  const Session* s =
      detail::matching_session(table, sh.tunnel_id, sh.session_id, sh.addrs, sh.ports);
  if (s == nullptr) return drop = Drop::kUnknownSession, Verdict::kDrop;
  out.session = s;
  out.sequenced = false;
  out.ns = 0;
  if (!s->in_fast_path()) return Verdict::kControl;
  if (s->owner_worker != worker) return Verdict::kHandoff;
  out.inner_offset = sh.inner_offset;
  out.inner_len = sh.inner_len;
  return Verdict::kFast;
}

// The Session ID of what looks like an L2TP data message, or 0: a cheap
// look at fixed offsets, bounds-checked but not validating, so that the
// worker can prefetch the session of every packet of a burst before
// classify_upstream() needs it (the session entries of 60000 subscribers
// do not fit in the L2; one miss per packet, overlapped across the burst).
uint16_t upstream_session_hint(const rte_mbuf* m);

// A core-side IPv4 packet headed for a subscriber.
struct DownstreamPacket {
  rte_be32_t dst = 0;     // the subscriber address, network order
  uint16_t l2_len = 0;    // Ethernet [+802.1Q]
  uint16_t ip_len = 0;    // IPv4 total length
};

// Core side: Ethernet [+802.1Q] / IPv4. ARP: kControl; IPv4 with a sane
// header: kFast (the subscriber lookup is done in bulk by the caller);
// anything else: kDrop.
Verdict classify_downstream(const rte_mbuf* m, DownstreamPacket& out, Drop& drop);

// The frame nearly every subscriber is sent, read at fixed offsets: one
// segment of untagged Ethernet / IPv4 with a 20-octet header, its total
// length within the frame (what follows it is padding), a TTL that allows
// forwarding, a destination other than 0.0.0.0 and the headroom for the
// fixed template copy (encap.hpp). Returns the IPv4 total length, with the
// destination (network order) in dst; 0 for any other frame, which
// classify_downstream() and encap_ipv4() take. Inline: the worker runs it
// on every packet.
[[gnu::always_inline]] inline uint16_t downstream_shape(const rte_mbuf* m, rte_be32_t& dst) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t seg_len = rte_pktmbuf_data_len(m);
  if (seg_len < RTE_ETHER_HDR_LEN + sizeof(rte_ipv4_hdr) || seg_len != rte_pktmbuf_pkt_len(m) ||
      uint32_t{rte_pktmbuf_headroom(m)} + RTE_ETHER_HDR_LEN < kMaxTemplateSize)
    return 0;
  uint32_t w;
  std::memcpy(&w, p + 12, 4);  // EtherType, version and IHL, TOS
  if ((w & rte_cpu_to_be_32(0xFFFFFF00)) != rte_cpu_to_be_32(0x08004500)) return 0;
  const uint8_t* ip = p + RTE_ETHER_HDR_LEN;
  const uint16_t total = wire::load_be16(ip + 2);
  std::memcpy(&dst, ip + 16, 4);
  if (total < sizeof(rte_ipv4_hdr) || total > seg_len - RTE_ETHER_HDR_LEN || ip[8] <= 1 || dst == 0) return 0;
  return total;
}

}  // namespace l2tp::dp
