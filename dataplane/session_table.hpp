#pragma once
// The fast-path tables (DESIGN.md "Sharing state"): the control thread
// publishes and withdraws sessions, the workers read without locks.
//
// - Upstream: local session IDs are unique box-wide, so a data message's
//   Session ID indexes an array of 65536 pointers directly; the worker then
//   checks tunnel ID, peer and local address and port against the entry.
// - Downstream: the subscriber's IPv4 address finds the session through a
//   direct-indexed array on the address's low 16 bits (each entry: the
//   Session pointer tagged with its session ID, so that one read yields
//   both the Session and its SessionState to fetch at once), so that a /16
//   or smaller pools never need more; addresses that share their low 16
//   bits take an rte_hash with lock-free reader/writer concurrency, which
//   holds every address. The entry does not hold the address's high bits:
//   the caller compares the Session's subscriber_addr (it must anyway, the
//   session may have been republished since).
// - A Session is immutable once published. Replacing or withdrawing one
//   unlinks it; it is freed only after an rte_rcu_qsbr grace period (every
//   registered worker has reported a quiescent state since), so a worker
//   may use the pointer it loaded until its next rte_rcu_qsbr_quiescent().
// - What changes per packet (data Ns, counters) lives in SessionState, one
//   cache line per session ID, written only by the session's owner worker.
//
// Invariants: Session IDs in host byte order; addresses, ports and the
// header template in network byte order (compared with the wire as is).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>

#include <emmintrin.h>

#include "control/fast_path.hpp"

struct rte_hash;
struct rte_rcu_qsbr;

namespace l2tp::dp {

inline constexpr size_t kSessionSlots = 65536;
// Ethernet 14 + 802.1Q 4 + IPv4 20 + UDP 8 + L2TP 10 (flags, IDs, Ns, Nr)
// + PPP 4 (FF 03 00 21) = 60.
inline constexpr size_t kMaxTemplateSize = 64;

// "mss clamp = auto": session MTU - 40 (dataplane/mtu.hpp).
inline constexpr uint16_t kMssClampAuto = 0xFFFF;

// What every session's MTU and MSS limit derive from besides its own
// entry: the [dataplane] keys "access mtu" and "mss clamp" (0: off,
// kMssClampAuto, or that MSS).
struct SessionLimits {
  uint16_t access_mtu = 1500;
  uint16_t mss_clamp = kMssClampAuto;
};

// Written only by the owner worker; read (racily, for reports) by others.
struct alignas(RTE_CACHE_LINE_SIZE) SessionState {
  uint64_t rx_packets = 0;  // decapsulated (upstream)
  uint64_t rx_bytes = 0;    // inner IPv4 bytes
  uint64_t tx_packets = 0;  // encapsulated (downstream)
  uint64_t tx_bytes = 0;    // inner IPv4 bytes
  uint16_t next_ns = 0;     // RFC 2661 5.4: Ns of the next data message we send
  // Receive sequencing (dataplane/reorder.hpp): the Ns expected next once
  // the peer has sent one with S, and 1 + the owner's reorder context
  // holding this session's early packets (0: none).
  uint16_t rx_expected_ns = 0;
  uint16_t reorder_ctx = 0;
  bool rx_sequenced = false;
  // A Session that follows_peer: the peer's last data message carried S,
  // so what we send carries Ns (written by the owner's upstream, read by
  // its encap).
  bool peer_sequences = false;
};

// The longest template that leaves room in a cache line for what else
// encap reads (DirectHead): tagged or sequenced, not both (Ethernet
// [+802.1Q], IPv4, UDP, 6 octets of L2TP [+ Ns and Nr], 4 of PPP).
inline constexpr size_t kCompactTemplate = 56;
// Where a DirectLine's template carries what encap reads besides the head
// (see DirectHead), from the start of its outer IPv4 header.
inline constexpr size_t kDirectMtuFromIp = 2;    // the IPv4 total length
inline constexpr size_t kDirectSumFromIp = 10;   // the IPv4 checksum
inline constexpr size_t kDirectMssFromIp = 24;   // the UDP length
inline constexpr size_t kDirectNsFromIp = 34;    // Ns: IPv4, UDP, L2TP flags, tunnel and session IDs
// Ns and Nr in a data message's header (RFC 2661 3.1).
inline constexpr uint16_t kNsNrLen = 4;

struct alignas(RTE_CACHE_LINE_SIZE) Session {
  // Upstream check (the first cache line: what every data message reads).
  uint16_t local_tunnel_id = 0;   // host order
  uint16_t local_session_id = 0;  // host order
  rte_be32_t peer_addr = 0;
  rte_be32_t local_addr = 0;
  rte_be16_t peer_port = 0;
  rte_be16_t local_port = 0;
  rte_be32_t subscriber_addr = 0;  // 0: known session, PPP all to control
  uint16_t owner_worker = 0;
  uint16_t access_port = 0;
  bool sequenced = false;
  // RFC 2661 5.4: we are the LAC and did not require sequencing, so the
  // LNS decides: Ns while its data carries S (SessionState::
  // peer_sequences). The template is the unsequenced one; the sequenced
  // one is it with Ns and Nr (kNsNrLen octets) before the PPP header and
  // S set (encap.hpp). The MTU leaves room for them.
  bool follows_peer = false;
  // Downstream: the outer headers, ready to copy in front of an IPv4
  // packet. The IPv4 total length and checksum, the UDP length and (when
  // sequenced) Ns are filled in per packet.
  uint8_t template_len = 0;
  uint8_t ip_offset = 0;   // IPv4 header in the template (14 or 18 with VLAN)
  uint8_t ns_offset = 0;   // Ns in the template, 0 when not sequenced
  // Ones'-complement sum of the template's IPv4 header with total length
  // and checksum 0 (RFC 1071), folded to 16 bits, so the checksum per
  // packet is one addition and one fold.
  uint16_t ip_sum_without_length = 0;
  uint16_t peer_tunnel_id = 0;
  uint16_t peer_session_id = 0;
  // dataplane/mtu.hpp: the largest inner IPv4 packet the session carries
  // (peer MRU, access MTU less the outer headers), and the largest MSS a
  // TCP SYN may carry either way (0: no clamping). In the first line,
  // which both directions read anyway.
  uint16_t mtu = 1500;
  uint16_t mss_max = 0;
  // Right-aligned: the template is the last template_len octets, so that
  // encap copies a fixed 64 octets that end where the inner packet starts
  // (what the copy puts before the template lands in the headroom). In a
  // line of its own.
  alignas(RTE_CACHE_LINE_SIZE) uint8_t header_template[kMaxTemplateSize]{};

  bool in_fast_path() const { return subscriber_addr != 0; }
  // Of an owner below 256, with a template of at most kCompactTemplate
  // octets laid out as build_session() lays them (IPv4 after an untagged or
  // a tagged Ethernet header; Ns, if any, right after the session ID): its
  // subscriber's DirectLine can hold all encap needs.
  bool compact() const {
    return !follows_peer && template_len <= kCompactTemplate &&
           (ip_offset == RTE_ETHER_HDR_LEN || ip_offset == RTE_ETHER_HDR_LEN + 4) &&
           (ns_offset == 0 || ns_offset == ip_offset + kDirectNsFromIp) && owner_worker <= UINT8_MAX;
  }
  const uint8_t* header() const { return header_template + kMaxTemplateSize - template_len; }
};
static_assert(offsetof(Session, header_template) == RTE_CACHE_LINE_SIZE, "the template has a line of its own");
static_assert(offsetof(Session, mss_max) + sizeof(uint16_t) <= RTE_CACHE_LINE_SIZE,
              "the MTU fields share the first cache line with the upstream check");

// The worker's first read for a subscriber address on the downstream fast
// path: one cache line per value of the address's low 16 bits. For the
// one subscriber with those bits and a compact Session, the line holds
// all encap needs (head and template), so a packet costs the line and its
// state, not a pointer's line and then the Session's. Otherwise the line
// holds what the direct entry does (shape 0).
//
// The head is 8 octets so that a 56-octet template fits behind it (a
// sequenced or a tagged session's). What else encap reads travels in the
// template's fields that it fills per packet anyway, host order: the MTU
// in the outer IPv4 total length, the MSS limit in the UDP length, and
// the folded IPv4 header sum without the length in the IPv4 checksum.
//
// The control thread rewrites a line in place under a sequence count
// (odd while it writes); the worker copies it and takes the copy only if
// the count was even and unchanged (read_direct_line(), or as encap
// does: load_direct_line(), direct_line_entry()). DPDK 22.11's rte_seqcount
// does the same with a 32-bit count (and is experimental); a line has
// room for 16 bits. What a line points to is still covered by RCU.
struct DirectHead {
  uint16_t seq;
  uint16_t session_id;   // local session ID: the state's index
  uint16_t addr_high;    // the address's first two octets, network order (the low two index the line)
  uint8_t owner_worker;
  uint8_t shape;         // template length | kShapeTagged | kShapeSequenced; 0: no template, the direct entry

  constexpr uint8_t template_len() const { return shape & kShapeLength; }
  // 14, or 18 when tagged: without a branch (kShapeTagged >> 5 is 4).
  constexpr uint8_t ip_offset() const { return static_cast<uint8_t>(RTE_ETHER_HDR_LEN + ((shape >> 5) & 4)); }
  constexpr bool sequenced() const { return (shape & kShapeSequenced) != 0; }

  static constexpr uint8_t kShapeLength = 0x3F, kShapeSequenced = 0x40, kShapeTagged = 0x80;
};
static_assert(DirectHead{0, 0, 0, 0, DirectHead::kShapeTagged | DirectHead::kShapeSequenced | 56}.ip_offset() == 18 &&
              DirectHead{0, 0, 0, 0, DirectHead::kShapeSequenced | 56}.ip_offset() == 14);
static_assert(sizeof(DirectHead) == 8);
struct alignas(RTE_CACHE_LINE_SIZE) DirectLine {
  uint64_t w[RTE_CACHE_LINE_SIZE / 8];
};
// Where a line without a template holds the direct entry (a word of w).
inline constexpr size_t kDirectLineEntry = 2;
// Where a line keeps what its template carries for encap: offsets from
// the line's start, from its head.
inline constexpr size_t direct_line_ip_at(const DirectHead& h) {
  return RTE_CACHE_LINE_SIZE - h.template_len() + h.ip_offset();
}
static_assert(kCompactTemplate == RTE_CACHE_LINE_SIZE - sizeof(DirectHead));
static_assert(kCompactTemplate <= DirectHead::kShapeLength);
static_assert(RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN, "DirectHead::seq is the low 16 bits of the line's first word");

// The head of a line from its first word (DirectHead's layout,
// little-endian).
[[gnu::always_inline]] constexpr DirectHead direct_head(uint64_t w0) {
  DirectHead h;
  h.seq = static_cast<uint16_t>(w0);
  h.session_id = static_cast<uint16_t>(w0 >> 16);
  h.addr_high = static_cast<uint16_t>(w0 >> 32);
  h.owner_worker = static_cast<uint8_t>(w0 >> 48);
  h.shape = static_cast<uint8_t>(w0 >> 56);
  return h;
}

// The worker's reads of a line in place, each checked against w0, the
// line's first word read with acquire (and its count even): the direct
// entry of a line without a template, and a compact line with what
// encap needs from it (what is in r after a false return is garbage).
[[gnu::always_inline]] inline bool direct_line_entry(const DirectLine& l, uint64_t w0, uint64_t& entry) {
  entry = __atomic_load_n(&l.w[kDirectLineEntry], __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&l.w[0], __ATOMIC_RELAXED) == w0;
}
// A compact line as encap reads it: the whole line in registers, and the
// three fields its template carries for encap (host order; see
// DirectHead), read between the same two reads of the count.
struct DirectLineRead {
  __m128i q[RTE_CACHE_LINE_SIZE / 16];
  uint16_t mtu, mss_max, ip_sum;
};
[[gnu::always_inline]] inline bool load_direct_line(const DirectLine& l, uint64_t w0, size_t ip_at,
                                                    DirectLineRead& r) {
  const auto* q = reinterpret_cast<const __m128i*>(l.w);
  for (size_t i = 0; i < RTE_CACHE_LINE_SIZE / 16; ++i) r.q[i] = _mm_load_si128(q + i);
  const uint8_t* ip = reinterpret_cast<const uint8_t*>(l.w) + ip_at;
  std::memcpy(&r.mtu, ip + kDirectMtuFromIp, 2);
  std::memcpy(&r.mss_max, ip + kDirectMssFromIp, 2);
  std::memcpy(&r.ip_sum, ip + kDirectSumFromIp, 2);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&l.w[0], __ATOMIC_RELAXED) == w0;
}

// A consistent copy of l into w: false while the control thread rewrites
// it. The copy between the two reads of the count is a plain one (as
// DPDK's rte_seqcount readers do): the fences keep it between them, and
// a copy that raced with a writer is never used.
[[gnu::always_inline]] inline bool read_direct_line(const DirectLine& l, uint64_t (&w)[RTE_CACHE_LINE_SIZE / 8]) {
  w[0] = __atomic_load_n(&l.w[0], __ATOMIC_ACQUIRE);
  std::memcpy(&w[1], &l.w[1], sizeof l.w - sizeof l.w[0]);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return (w[0] & 1) == 0 && __atomic_load_n(&l.w[0], __ATOMIC_RELAXED) == w[0];
}

class SessionTable final : public control::FastPath {
 public:
  // Throws std::runtime_error (start-up only). rcu must outlive the table;
  // workers register with it. name must be unique in the EAL (rte_hash).
  SessionTable(const std::string& name, rte_rcu_qsbr* rcu, uint32_t max_subscribers,
               int socket_id);
  ~SessionTable() override;
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // control::FastPath, control thread only.
  bool publish(const control::FastPathEntry& entry) override;
  bool withdraw(uint16_t local_session_id) override;

  // Frees what a grace period has passed for; publish and withdraw call it
  // too. Returns how many entries still wait. Control thread only.
  size_t reclaim();
  // Blocks until every worker has passed a quiescent state, then frees all
  // that waits (for shutdown and tests).
  void synchronize();
  size_t sessions() const { return sessions_; }
  // For the sessions published from now on. Control thread only.
  void set_limits(const SessionLimits& limits) { limits_ = limits; }

  // Workers. Valid until the caller's next rte_rcu_qsbr_quiescent().
  const Session* by_session_id(uint16_t id) const {
    return slots_[id].load(std::memory_order_acquire);
  }
  // For prefetching: where by_session_id(id) reads.
  const void* slot_address(uint16_t id) const { return &slots_[id]; }
  // Looks up n (at most 64) subscriber addresses, network byte order
  // (the general path; the downstream fast path reads direct_line()).
  // out[i] is nullptr on a miss, or a Session that may have another
  // subscriber_addr (one sharing the low 16 bits, or republished since):
  // the caller compares. ids, when given, gets each hit's local session ID;
  // neither reads the Session.
  void lookup_subscribers(const rte_be32_t** addrs, uint32_t n, const Session** out,
                          uint16_t* ids = nullptr) const;
  const Session* lookup_subscriber(rte_be32_t addr) const;
  // The downstream fast path's line for addr (DirectLine).
  const DirectLine& direct_line(rte_be32_t addr) const {
    return lines_[static_cast<uint16_t>(rte_be_to_cpu_32(addr))];
  }
  // The Session a direct entry (what a DirectLine without a template holds
  // at kDirectLineEntry) names, with its local session ID in id. nullptr:
  // no subscriber has the address's low 16 bits, or several have (the
  // hash decides). The caller compares subscriber_addr.
  static const Session* direct_session(uint64_t entry, uint16_t& id) {
    if (entry <= kDirectCollide) return nullptr;
    id = static_cast<uint16_t>(entry >> kTagShift);
    return reinterpret_cast<const Session*>(entry & kPointerMask);
  }

  SessionState& state(uint16_t id) const { return states_[id]; }

  // The subscriber hash and the direct array hold a Session pointer with
  // its local session ID in the top 16 bits (user-space addresses are below
  // 2^47 on x86-64 and on arm64 with 48-bit VAs; publish() refuses a
  // pointer above 2^48), so the worker learns the SessionState index from
  // the lookup itself and fetches the Session and its state at once
  // instead of one after the other.
  static constexpr unsigned kTagShift = 48;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kTagShift) - 1;

 private:
  struct Retired {
    Session* session;
    uint64_t token;  // rte_rcu_qsbr_start() when it was unlinked
  };
  void retire(Session* session);
  bool retired_pending(uint16_t id) const;
  void direct_add(rte_be32_t addr, uint16_t id);
  void direct_remove(rte_be32_t addr, uint16_t id);
  void direct_refresh(uint16_t low);

  // Indexed by the host-order address's low 16 bits: the session of the
  // one subscriber with those low bits (slots_[id], tagged with id as the
  // hash's data is), 0 for none, kDirectCollide for several (then the hash
  // decides; a Session is cache-line aligned, so no tagged pointer is 1).
  static constexpr uint64_t kDirectCollide = 1;
  std::atomic<uint64_t>* direct_ = nullptr;  // 65536
  DirectLine* lines_ = nullptr;              // 65536, in direct_'s allocation
  // Control thread: per low-16 index, how many subscribers and the XOR of
  // their session IDs (the ID of the one left when the count drops to 1).
  std::vector<uint16_t> direct_count_, direct_xor_;

  rte_rcu_qsbr* rcu_;
  rte_hash* subscribers_ = nullptr;  // key: rte_be32_t, data: const Session*
  std::atomic<Session*>* slots_ = nullptr;  // kSessionSlots, indexed by local session ID
  SessionState* states_ = nullptr;          // kSessionSlots
  std::vector<Retired> retired_;
  size_t sessions_ = 0;
  SessionLimits limits_;
};

// Fills s's header template from e (exposed for tests). false when e is
// not valid for the fast path (IDs of 0).
bool build_session(const control::FastPathEntry& e, Session& s, const SessionLimits& limits = {});

}  // namespace l2tp::dp
