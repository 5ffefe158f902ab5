#pragma once
// Downstream fast path: an IPv4 packet for a subscriber gets the session's
// outer headers and leaves by the access port (DESIGN.md "Packet paths").

#include <cstdint>
#include <cstring>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "dataplane/checksum.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/mtu.hpp"
#include "shared/header.hpp"

namespace l2tp::dp {

// Defined here, inline: they run once per packet in the worker's loop.

// The parts of encap_ipv4() that the MTU path (dataplane/mtu.hpp) shares.
// encap_admit: the checks that come first (the session still holds the
// address, the caller owns it, the TTL allows forwarding); changes nothing.
[[gnu::always_inline]] inline bool encap_admit(const rte_mbuf* m, const DownstreamPacket& pkt,
                                               const Session& s, uint16_t worker, Drop& drop) {
  // The session may have been republished without this address since the
  // lookup: the entry, not the hash, is the truth.
  if (!s.in_fast_path() || s.subscriber_addr != pkt.dst) return drop = Drop::kNoSubscriber, false;
  if (s.owner_worker != worker) return drop = Drop::kNotOwner, false;
  // RFC 1812 5.3.1: the LNS routes the packet into the tunnel.
  if (rte_pktmbuf_mtod_offset(m, const uint8_t*, pkt.l2_len)[8] <= 1) return drop = Drop::kTtlExceeded, false;
  return true;
}

// The template is stored right-aligned in its 64 octets: one copy of fixed
// size ends exactly where the inner packet begins (what lies before the
// template is headroom). Replaces the first `strip` octets of m's data by
// s's template of len octets and returns where it starts; the caller has
// checked that the headroom takes the copy and sets the lengths.
[[gnu::always_inline]] inline uint8_t* copy_template(rte_mbuf* m, uint16_t strip, uint16_t len, const Session& s) {
  uint8_t* out = rte_pktmbuf_mtod(m, uint8_t*) + strip - len;
  std::memcpy(out + len - kMaxTemplateSize, s.header_template, kMaxTemplateSize);
  m->data_off = static_cast<uint16_t>(m->data_off + strip - len);
  return out;
}

// RFC 2661 5.4, a LAC that follows the LNS (Session::follows_peer): its
// next packet carries Ns when the LNS's last data message carried S.
[[gnu::always_inline]] inline bool follows_with_ns(const Session& s, const SessionState& state) {
  return s.follows_peer && state.peer_sequences;
}
// The length of the outer headers s's next packet gets.
[[gnu::always_inline]] inline uint16_t template_len_now(const Session& s, const SessionState& state) {
  return static_cast<uint16_t>(s.template_len + (follows_with_ns(s, state) ? kNsNrLen : 0));
}

// copy_template() for the sequenced form of a session that follows_peer:
// its template with Ns and Nr inserted before the PPP header (its last 4
// octets) and S set, template_len + kNsNrLen octets (Ns left 0 for
// fill_template()). The caller has checked the headroom likewise.
inline uint8_t* copy_template_with_ns(rte_mbuf* m, uint16_t strip, const Session& s) {
  const auto len = static_cast<uint16_t>(s.template_len + kNsNrLen);
  uint8_t* out = rte_pktmbuf_mtod(m, uint8_t*) + strip - len;
  const auto ppp_at = static_cast<uint16_t>(s.template_len - 4);
  std::memcpy(out, s.header(), ppp_at);
  std::memset(out + ppp_at, 0, kNsNrLen);
  std::memcpy(out + ppp_at + kNsNrLen, s.header() + ppp_at, 4);
  out[s.ip_offset + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr)] |= static_cast<uint8_t>(wire::kFlagSequence >> 8);
  m->data_off = static_cast<uint16_t>(m->data_off + strip - len);
  return out;
}

// The outer IPv4 total length and checksum (from the folded sum of the
// rest of the header) and the UDP length, in the template's IPv4 header.
// The sum and the length are each at most 0xFFFF: one fold is enough.
[[gnu::always_inline]] inline void fill_outer_lengths(uint8_t* outer_ip, uint16_t outer_total, uint16_t ip_sum) {
  uint32_t sum = uint32_t{ip_sum} + outer_total;
  sum = (sum & 0xFFFF) + (sum >> 16);
  const uint16_t total_be = __builtin_bswap16(outer_total), sum_be = __builtin_bswap16(static_cast<uint16_t>(~sum)),
                 udp_be = __builtin_bswap16(static_cast<uint16_t>(outer_total - sizeof(rte_ipv4_hdr)));
  std::memcpy(outer_ip + 2, &total_be, 2);
  std::memcpy(outer_ip + 10, &sum_be, 2);
  std::memcpy(outer_ip + sizeof(rte_ipv4_hdr) + 4, &udp_be, 2);
}

// The end of every encap: the outer header lengths in the mbuf, and the
// packet counted on its session.
[[gnu::always_inline]] inline void count_encap(rte_mbuf* m, uint16_t ip_offset, uint16_t ip_len, SessionState& state) {
  m->l2_len = ip_offset;
  m->l3_len = sizeof(rte_ipv4_hdr);
  ++state.tx_packets;
  state.tx_bytes += ip_len;
}

// The per-packet fields of the template of len octets at out, in front
// of an inner IPv4 packet of ip_len octets: the outer lengths and
// checksum and, when sequenced, Ns; counts the packet on the session.
[[gnu::always_inline]] inline void fill_template(rte_mbuf* m, uint8_t* out, uint16_t len, uint16_t ip_len,
                                                 const Session& s, SessionState& state) {
  fill_outer_lengths(out + s.ip_offset, static_cast<uint16_t>(len - s.ip_offset + ip_len), s.ip_sum_without_length);
  if (s.ns_offset != 0 || len != s.template_len) {
    // RFC 2661 5.4: Ns counts data messages of the session, modulo 2^16.
    // (A session that follows_peer has it where a sequenced one does.)
    const rte_be16_t ns = rte_cpu_to_be_16(state.next_ns++);
    std::memcpy(out + s.ip_offset + kDirectNsFromIp, &ns, 2);
  }
  count_encap(m, s.ip_offset, ip_len, state);
}

// The worker's encap of a one-segment untagged frame (downstream_shape)
// for a compact session, from its subscriber's DirectLine alone: w0 is
// the line's first word (read with acquire, count even) and h its head,
// which the caller has checked (the address, the owner). The line is
// read into registers with what encap needs from it (the MTU, the MSS
// limit and the header sum its template carries), and taken only if the
// count did not move meanwhile and the packet is within that MTU: false
// otherwise, with the frame unchanged, for the general path. Then the line
// is stored in front of the inner packet, right-aligned like a Session's
// template (the head lands in the headroom), and the inner header (TTL,
// MSS: clamped counts into *clamped) and the outer lengths, checksum and
// Ns are filled in, as put_template() does, the padding dropped.
[[gnu::always_inline]] inline bool encap_from_line(rte_mbuf* m, uint16_t ip_len, const DirectLine& l, uint64_t w0,
                                                   const DirectHead& h, SessionState& state, uint64_t& clamped) {
  const uint16_t len = h.template_len();
  const uint16_t ip_offset = h.ip_offset();
  // The outer IPv4 header's place in the line, and in the packet.
  const size_t ip_at = direct_line_ip_at(h);
  DirectLineRead r;
  if (!load_direct_line(l, w0, ip_at, r) || ip_len > r.mtu) [[unlikely]]
    return false;
  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, RTE_ETHER_HDR_LEN);
  auto* to = reinterpret_cast<__m128i*>(ip - RTE_CACHE_LINE_SIZE);
  for (size_t i = 0; i < RTE_CACHE_LINE_SIZE / 16; ++i) _mm_storeu_si128(to + i, r.q[i]);
  clamped += mss_clamp_ipv4(ip, ip_len, r.mss_max);
  ipv4_decrement_ttl(ip);
  m->data_off = static_cast<uint16_t>(m->data_off + RTE_ETHER_HDR_LEN - len);
  m->data_len = static_cast<uint16_t>(len + ip_len);
  m->pkt_len = m->data_len;
  uint8_t* outer_ip = ip - RTE_CACHE_LINE_SIZE + ip_at;
  fill_outer_lengths(outer_ip, static_cast<uint16_t>(RTE_CACHE_LINE_SIZE - ip_at + ip_len), r.ip_sum);
  if (h.sequenced()) {
    // RFC 2661 5.4: Ns counts data messages of the session, modulo 2^16.
    const uint16_t ns = __builtin_bswap16(state.next_ns++);
    std::memcpy(outer_ip + kDirectNsFromIp, &ns, 2);
  }
  count_encap(m, ip_offset, ip_len, state);
  return true;
}

// The same for a session that is not compact, from the Session: the
// caller has checked that s holds the address, is this worker's and takes
// the packet within its MTU.
[[gnu::always_inline]] inline void encap_shaped(rte_mbuf* m, uint16_t ip_len, const Session& s, SessionState& state,
                                                uint64_t& clamped) {
  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, RTE_ETHER_HDR_LEN);
  clamped += mss_clamp_ipv4(ip, ip_len, s.mss_max);
  ipv4_decrement_ttl(ip);
  // downstream_shape() checked the headroom for the longest template.
  const uint16_t len = template_len_now(s, state);
  uint8_t* out = len != s.template_len ? copy_template_with_ns(m, RTE_ETHER_HDR_LEN, s)
                                       : copy_template(m, RTE_ETHER_HDR_LEN, len, s);
  // One segment (downstream_shape): what followed the packet was padding.
  m->data_len = static_cast<uint16_t>(len + ip_len);
  m->pkt_len = m->data_len;
  fill_template(m, out, len, ip_len, s, state);
}

// Replaces the first `strip` octets of m (its L2 header, or nothing) by
// s's template and fills in the outer lengths, checksum and Ns. The caller
// has checked that the first segment holds them and that the headroom
// takes the template.
[[gnu::always_inline]] inline void put_template(rte_mbuf* m, uint16_t strip, uint16_t ip_len, const Session& s,
                                                SessionState& state) {
  const uint16_t len = template_len_now(s, state);
  uint8_t* out;
  // The sequenced form is copied exactly (its length checked by the
  // caller), the template as a fixed 64 octets where the headroom allows.
  if (len != s.template_len || rte_pktmbuf_headroom(m) + strip >= kMaxTemplateSize) {
    out = len != s.template_len ? copy_template_with_ns(m, strip, s) : copy_template(m, strip, len, s);
    m->data_len = static_cast<uint16_t>(m->data_len - strip + len);
    m->pkt_len = m->pkt_len - strip + len;
  } else {
    rte_pktmbuf_adj(m, strip);
    out = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, len));
    rte_memcpy(out, s.header(), len);
  }
  fill_template(m, out, len, ip_len, s, state);
}

// Replaces the L2 header of the packet classify_downstream() described
// with s's template (Ethernet [+802.1Q] / IPv4 / UDP / L2TP / PPP IPv4),
// decrementing the inner TTL and filling the outer lengths, the outer IPv4
// checksum and, for a sequenced session, Ns (RFC 2661 5.4). worker is the
// caller's worker ID: only s's owner may write its state. false with drop
// set when the packet must be freed; the mbuf is then unchanged.
[[gnu::always_inline]] inline bool encap_ipv4(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s,
                                              SessionState& state, uint16_t worker, Drop& drop) {
  if (!encap_admit(m, pkt, s, worker, drop)) return false;
  const uint16_t len = template_len_now(s, state);
  if (rte_pktmbuf_headroom(m) + pkt.l2_len < len) return drop = Drop::kNoHeadroom, false;
  if (pkt.ip_len > 0xFFFF - (len - s.ip_offset)) return drop = Drop::kTooBig, false;
  const uint32_t excess = rte_pktmbuf_pkt_len(m) - pkt.l2_len - pkt.ip_len;
  if (excess != 0 && rte_pktmbuf_trim(m, static_cast<uint16_t>(excess)) != 0) [[unlikely]]
    return drop = Drop::kIpv4Header, false;
  // The L2 header goes, the template comes: classify checked that the
  // first segment holds the L2 and IPv4 headers.
  ipv4_decrement_ttl(rte_pktmbuf_mtod_offset(m, uint8_t*, pkt.l2_len));
  put_template(m, pkt.l2_len, pkt.ip_len, s, state);
  return true;
}

// encap_prepend: m starts with an inner IPv4 packet of ip_len octets (in
// one segment or several; the TTL already decremented) and its first
// segment has template_len_now() of headroom: prepends the template and fills
// the outer lengths, checksum and Ns; counts the packet on the session.
inline void encap_prepend(rte_mbuf* m, uint16_t ip_len, const Session& s, SessionState& state) {
  put_template(m, 0, ip_len, s, state);
}

}  // namespace l2tp::dp
