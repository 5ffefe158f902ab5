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
};

// What downstream encap reads of a session, at the front of the template's
// cache line when the template leaves room for it (Session::compact): the
// common session then costs the worker one line, not two.
struct DownstreamHead {
  rte_be32_t subscriber_addr;
  uint16_t mtu;
  uint16_t mss_max;
  uint16_t ip_sum;  // Session::ip_sum_without_length, folded to 16 bits
  uint8_t owner_worker;
  uint8_t template_len;
};
static_assert(sizeof(DownstreamHead) == 12);
// The longest template that leaves room for the head: untagged and
// unsequenced (Ethernet, IPv4, UDP, 6 octets of L2TP, 4 of PPP).
inline constexpr size_t kCompactTemplate = kMaxTemplateSize - sizeof(DownstreamHead);

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
  // Downstream: the outer headers, ready to copy in front of an IPv4
  // packet. The IPv4 total length and checksum, the UDP length and (when
  // sequenced) Ns are filled in per packet.
  uint8_t template_len = 0;
  uint8_t ip_offset = 0;   // IPv4 header in the template (14 or 18 with VLAN)
  uint8_t ns_offset = 0;   // Ns in the template, 0 when not sequenced
  // Ones'-complement sum of the template's IPv4 header with total length
  // and checksum 0 (RFC 1071), so the checksum per packet is one addition.
  uint32_t ip_sum_without_length = 0;
  uint16_t peer_tunnel_id = 0;
  uint16_t peer_session_id = 0;
  // dataplane/mtu.hpp: the largest inner IPv4 packet the session carries
  // (peer MRU, access MTU less the outer headers), and the largest MSS a
  // TCP SYN may carry either way (0: no clamping). In the first line,
  // which both directions read anyway.
  uint16_t mtu = 1500;
  uint16_t mss_max = 0;
  // The template's line starts with a DownstreamHead (build_session()):
  // an untagged, unsequenced session of an owner below 256 whose template
  // is at most kCompactTemplate octets. Its direct entry says so too.
  bool compact = false;
  // Right-aligned: the template is the last template_len octets, so that
  // encap copies a fixed 64 octets that end where the inner packet starts
  // (what the copy puts before the template, the head among it, lands in
  // the headroom).
  alignas(RTE_CACHE_LINE_SIZE) uint8_t header_template[kMaxTemplateSize]{};

  bool in_fast_path() const { return subscriber_addr != 0; }
  const uint8_t* header() const { return header_template + kMaxTemplateSize - template_len; }
  // Valid when compact.
  DownstreamHead head() const {
    DownstreamHead h;
    std::memcpy(&h, header_template, sizeof h);
    return h;
  }
};
static_assert(offsetof(Session, header_template) == RTE_CACHE_LINE_SIZE, "the template has a line of its own");
static_assert(offsetof(Session, mss_max) + sizeof(uint16_t) <= RTE_CACHE_LINE_SIZE,
              "the MTU fields share the first cache line with the upstream check");

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
  // Looks up n (at most 64) subscriber addresses, network byte order;
  // a caller that wants the misses to overlap prefetches
  // subscriber_address() of each first.
  // out[i] is nullptr on a miss, or a Session that may have another
  // subscriber_addr (one sharing the low 16 bits, or republished since):
  // the caller compares. ids, when given, gets each hit's local session ID
  // (the state(ids[i]) to prefetch); neither reads the Session.
  void lookup_subscribers(const rte_be32_t** addrs, uint32_t n, const Session** out,
                          uint16_t* ids = nullptr) const;
  const Session* lookup_subscriber(rte_be32_t addr) const;
  // For prefetching: what lookup_subscribers() reads first for addr.
  const void* subscriber_address(rte_be32_t addr) const {
    return &direct_[static_cast<uint16_t>(rte_be_to_cpu_32(addr))];
  }
  // The downstream fast path reads the direct array itself, a burst ahead
  // of use: direct_entry(addr) is what lookup_subscribers() reads first
  // (prefetch subscriber_address(addr) before), direct_session() the
  // Session an entry names, with its local session ID in id. nullptr: no
  // subscriber has addr's low 16 bits, or several have
  // (lookup_subscribers() asks the hash). As with lookup_subscribers(),
  // the caller compares subscriber_addr.
  uint64_t direct_entry(rte_be32_t addr) const {
    return direct_[static_cast<uint16_t>(rte_be_to_cpu_32(addr))].load(std::memory_order_acquire);
  }
  static const Session* direct_session(uint64_t entry, uint16_t& id) {
    if (entry <= kDirectCollide) return nullptr;
    id = static_cast<uint16_t>(entry >> kTagShift);
    return reinterpret_cast<const Session*>(entry & kPointerMask);
  }
  // The entry's Session is compact: the template's line is all encap reads.
  static bool direct_compact(uint64_t entry) { return (entry & kCompactTag) != 0; }
  SessionState& state(uint16_t id) const { return states_[id]; }

  // The subscriber hash and the direct array hold a Session pointer with
  // its local session ID in the top 16 bits (user-space addresses are below
  // 2^47 on x86-64 and on arm64 with 48-bit VAs; publish() refuses a
  // pointer above 2^48), so the worker learns the SessionState index from
  // the lookup itself and fetches the Session and its state at once
  // instead of one after the other.
  static constexpr unsigned kTagShift = 48;
  // A Session is cache-line aligned: the direct entry's bit 0 says compact
  // (the hash's data has it too); the pointer is what the mask keeps.
  static constexpr uint64_t kCompactTag = 1;
  static constexpr uint64_t kPointerMask = ((uint64_t{1} << kTagShift) - 1) & ~uint64_t{RTE_CACHE_LINE_SIZE - 1};

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
  // decides; no tagged pointer is 1: its pointer bits are not 0).
  static constexpr uint64_t kDirectCollide = 1;
  std::atomic<uint64_t>* direct_ = nullptr;  // 65536
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
