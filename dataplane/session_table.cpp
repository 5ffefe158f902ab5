#include "dataplane/session_table.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_udp.h>

#include "dataplane/checksum.hpp"
#include "dataplane/mtu.hpp"
#include "shared/header.hpp"
#include "shared/ppp.hpp"

namespace l2tp::dp {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// RFC 1071 sum of big-endian 16-bit words, not folded, not inverted.
uint32_t ones_sum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  return sum;
}

}  // namespace

bool build_session(const control::FastPathEntry& e, Session& s, const SessionLimits& limits) {
  // RFC 2661 3.1: Tunnel and Session ID 0 are the control connection's.
  if (e.local_session_id == 0 || e.local_tunnel_id == 0 || e.peer_tunnel_id == 0 ||
      e.peer_session_id == 0 || e.vlan > 4095)
    return false;
  s = Session{};
  s.local_tunnel_id = e.local_tunnel_id;
  s.local_session_id = e.local_session_id;
  s.peer_tunnel_id = e.peer_tunnel_id;
  s.peer_session_id = e.peer_session_id;
  s.peer_addr = rte_cpu_to_be_32(e.peer.addr);
  s.local_addr = rte_cpu_to_be_32(e.local.addr);
  s.peer_port = rte_cpu_to_be_16(e.peer.port);
  s.local_port = rte_cpu_to_be_16(e.local.port);
  s.subscriber_addr = rte_cpu_to_be_32(e.subscriber_addr);
  s.owner_worker = e.owner_worker;
  s.access_port = e.access_port;
  s.sequenced = e.sequenced;
  s.follows_peer = e.follows_peer_sequencing && !e.sequenced;

  uint8_t t[kMaxTemplateSize] = {};  // built from the front, stored right-aligned
  size_t off = 0;
  std::memcpy(t, e.peer_mac.data(), 6);
  std::memcpy(t + 6, e.local_mac.data(), 6);
  off = 12;
  if (e.vlan != 0) {
    put16(t + off, RTE_ETHER_TYPE_VLAN);
    put16(t + off + 2, e.vlan);
    off += 4;
  }
  put16(t + off, RTE_ETHER_TYPE_IPV4);
  off += 2;

  s.ip_offset = static_cast<uint8_t>(off);
  uint8_t* ip = t + off;
  ip[0] = 0x45;  // version 4, IHL 5
  ip[1] = 0;     // TOS
  // total length (2..3), ID (4..5) and fragment field (6..7) stay 0: no DF,
  // so a path with a smaller MTU fragments rather than drops.
  ip[8] = 64;    // TTL
  ip[9] = IPPROTO_UDP;
  std::memcpy(ip + 12, &s.local_addr, 4);
  std::memcpy(ip + 16, &s.peer_addr, 4);
  s.ip_sum_without_length = static_cast<uint16_t>(~ipv4_checksum_from_sum(ones_sum(ip, 20)));
  off += 20;

  uint8_t* udp = t + off;
  std::memcpy(udp, &s.local_port, 2);
  std::memcpy(udp + 2, &s.peer_port, 2);
  // length filled per packet; checksum 0: none, allowed over IPv4 (RFC 768),
  // and RFC 2661 8.1 leaves UDP checksums optional.
  off += 8;

  uint8_t* l2tp = t + off;
  // Data message: T=0, no L (optional on data, 3.1), S when sequenced (5.4).
  uint16_t flags = wire::kVersion2 | (e.sequenced ? wire::kFlagSequence : 0);
  put16(l2tp, flags);
  put16(l2tp + 2, e.peer_tunnel_id);
  put16(l2tp + 4, e.peer_session_id);
  off += 6;
  if (e.sequenced) {
    s.ns_offset = static_cast<uint8_t>(off);
    // Ns per packet; Nr is reserved in data messages (3.1): 0.
    off += 4;
  }
  // PPP with address and control: every receiver must accept them (RFC
  // 1661 6.6: ACFC only permits the peer to omit them).
  t[off++] = 0xFF;
  t[off++] = 0x03;
  put16(t + off, wire::ppp::kIpv4);
  off += 2;
  s.template_len = static_cast<uint8_t>(off);
  std::memcpy(s.header_template + kMaxTemplateSize - off, t, off);
  s.mtu = session_mtu(e.peer_mru, limits.access_mtu,
                      static_cast<uint16_t>(s.template_len - s.ip_offset + (s.follows_peer ? kNsNrLen : 0)));
  s.mss_max = session_mss_limit(s.mtu, limits.mss_clamp);
  return true;
}

namespace {

// The subscriber hash's functions for its 4-octet keys, inlined where
// rte_hash's generic ones loop or call memcmp.
uint32_t hash_address(const void* key, uint32_t, uint32_t init) {
  uint32_t addr;
  std::memcpy(&addr, key, sizeof addr);
  return rte_hash_crc_4byte(addr, init);
}
int same_address(const void* a, const void* b, size_t) {
  uint32_t x, y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return x != y;
}

}  // namespace

SessionTable::SessionTable(const std::string& name, rte_rcu_qsbr* rcu, uint32_t max_subscribers,
                           int socket_id)
    : rcu_(rcu) {
  if (rcu == nullptr) throw std::runtime_error("session table: no RCU variable");
  void* slots = rte_zmalloc_socket("l2tp_session_slots", sizeof(std::atomic<Session*>) * kSessionSlots,
                                   RTE_CACHE_LINE_SIZE, socket_id);
  void* states = rte_zmalloc_socket("l2tp_session_states", sizeof(SessionState) * kSessionSlots,
                                    RTE_CACHE_LINE_SIZE, socket_id);
  if (slots == nullptr || states == nullptr) {
    rte_free(slots);
    rte_free(states);
    throw std::runtime_error("session table: out of DPDK memory");
  }
  slots_ = static_cast<std::atomic<Session*>*>(slots);
  for (size_t i = 0; i < kSessionSlots; ++i) new (&slots_[i]) std::atomic<Session*>(nullptr);
  states_ = static_cast<SessionState*>(states);
  for (size_t i = 0; i < kSessionSlots; ++i) new (&states_[i]) SessionState{};
  direct_ = static_cast<std::atomic<uint64_t>*>(
      rte_zmalloc_socket("l2tp_subscribers_direct", (sizeof(std::atomic<uint64_t>) + sizeof(DirectLine)) * 65536,
                         RTE_CACHE_LINE_SIZE, socket_id));
  if (direct_ == nullptr) {
    rte_free(slots_);
    rte_free(states_);
    throw std::runtime_error("session table: no memory for the subscriber array");
  }
  for (size_t i = 0; i < 65536; ++i) new (&direct_[i]) std::atomic<uint64_t>(0);
  lines_ = reinterpret_cast<DirectLine*>(direct_ + 65536);  // zeroed: no subscriber, count even
  direct_count_.assign(65536, 0);
  direct_xor_.assign(65536, 0);

  rte_hash_parameters params{};
  params.name = name.c_str();
  // rte_hash wants at least 8 entries and a bucket's worth to be useful.
  params.entries = max_subscribers < 64 ? 64 : max_subscribers;
  params.key_len = sizeof(rte_be32_t);
  params.hash_func = hash_address;
  params.hash_func_init_val = 0;
  params.socket_id = socket_id;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
  subscribers_ = rte_hash_create(&params);
  if (subscribers_ == nullptr) {
    rte_free(slots_);
    rte_free(states_);
    rte_free(direct_);
    throw std::runtime_error("session table: rte_hash_create " + name + ": " +
                             rte_strerror(rte_errno));
  }
  // 4-octet keys would otherwise be compared by a call to libc's memcmp.
  rte_hash_set_cmp_func(subscribers_, same_address);
  // The hash's own key slots are recycled after a grace period of the same
  // RCU variable (defer-queue mode), so a worker in the middle of a lookup
  // never sees its key slot reused.
  rte_hash_rcu_config rcu_cfg{};
  rcu_cfg.v = rcu;
  rcu_cfg.mode = RTE_HASH_QSBR_MODE_DQ;
  if (rte_hash_rcu_qsbr_add(subscribers_, &rcu_cfg) != 0) {
    rte_hash_free(subscribers_);
    rte_free(slots_);
    rte_free(states_);
    rte_free(direct_);
    throw std::runtime_error(std::string("session table: rte_hash_rcu_qsbr_add: ") +
                             rte_strerror(rte_errno));
  }
}

SessionTable::~SessionTable() {
  // Workers are stopped by now (they hold no pointers past shutdown).
  for (const Retired& r : retired_) rte_free(r.session);
  for (size_t i = 0; i < kSessionSlots; ++i) rte_free(slots_[i].load(std::memory_order_relaxed));
  rte_hash_free(subscribers_);
  rte_free(slots_);
  rte_free(states_);
  rte_free(direct_);
}

namespace {

constexpr unsigned kTagShift = SessionTable::kTagShift;
void* tag(const Session* s) {
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(s) | uintptr_t{s->local_session_id} << kTagShift);
}
const Session* untag(void* data) {
  return reinterpret_cast<const Session*>(reinterpret_cast<uintptr_t>(data) & SessionTable::kPointerMask);
}
uint16_t tagged_id(void* data) { return static_cast<uint16_t>(reinterpret_cast<uintptr_t>(data) >> kTagShift); }

}  // namespace

void SessionTable::direct_refresh(uint16_t low) {
  uint64_t entry = 0;
  if (direct_count_[low] > 1) {
    entry = kDirectCollide;
  } else if (direct_count_[low] == 1) {
    entry = reinterpret_cast<uintptr_t>(tag(slots_[direct_xor_[low]].load(std::memory_order_relaxed)));
  }
  direct_[low].store(entry, std::memory_order_release);

  // The line: the compact Session's head and template, or the entry.
  uint64_t w[RTE_CACHE_LINE_SIZE / 8] = {};
  DirectHead h{};
  const Session* s = entry > kDirectCollide ? untag(reinterpret_cast<void*>(entry)) : nullptr;
  if (s != nullptr && s->compact()) {
    h.session_id = s->local_session_id;
    std::memcpy(&h.addr_high, &s->subscriber_addr, 2);
    h.owner_worker = static_cast<uint8_t>(s->owner_worker);
    h.shape = static_cast<uint8_t>(s->template_len | (s->ns_offset != 0 ? DirectHead::kShapeSequenced : 0) |
                                   (s->ip_offset != RTE_ETHER_HDR_LEN ? DirectHead::kShapeTagged : 0));
    auto* bytes = reinterpret_cast<uint8_t*>(w);
    std::memcpy(bytes + RTE_CACHE_LINE_SIZE - s->template_len, s->header(), s->template_len);
    // In the fields encap fills per packet (DirectHead). The sum folded,
    // not inverted: the checksum's complement.
    uint8_t* ip = bytes + direct_line_ip_at(h);
    std::memcpy(ip + kDirectMtuFromIp, &s->mtu, 2);
    std::memcpy(ip + kDirectSumFromIp, &s->ip_sum_without_length, 2);
    std::memcpy(ip + kDirectMssFromIp, &s->mss_max, 2);
  } else {
    w[kDirectLineEntry] = entry;
  }
  DirectLine& l = lines_[low];
  const uint64_t old0 = __atomic_load_n(&l.w[0], __ATOMIC_RELAXED);
  h.seq = static_cast<uint16_t>(old0 + 2);
  std::memcpy(w, &h, sizeof h);
  // The count odd while the rest changes: a worker that reads across the
  // change sees it odd or changed, and does not take its copy.
  __atomic_store_n(&l.w[0], (old0 & ~uint64_t{0xFFFF}) | ((old0 + 1) & 0xFFFF), __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  for (size_t k = 1; k < RTE_CACHE_LINE_SIZE / 8; ++k) __atomic_store_n(&l.w[k], w[k], __ATOMIC_RELAXED);
  __atomic_store_n(&l.w[0], w[0], __ATOMIC_RELEASE);
}

// Called with slots_[id] already holding the session that has addr.
void SessionTable::direct_add(rte_be32_t addr, uint16_t id) {
  const auto low = static_cast<uint16_t>(rte_be_to_cpu_32(addr));
  ++direct_count_[low];
  direct_xor_[low] ^= id;
  direct_refresh(low);
}

void SessionTable::direct_remove(rte_be32_t addr, uint16_t id) {
  const auto low = static_cast<uint16_t>(rte_be_to_cpu_32(addr));
  --direct_count_[low];
  direct_xor_[low] ^= id;
  direct_refresh(low);
}

bool SessionTable::retired_pending(uint16_t id) const {
  for (const Retired& r : retired_)
    if (r.session->local_session_id == id) return true;
  return false;
}

void SessionTable::retire(Session* session) {
  retired_.push_back(Retired{session, rte_rcu_qsbr_start(rcu_)});
}

size_t SessionTable::reclaim() {
  size_t done = 0;
  // Tokens grow in the order sessions were retired: stop at the first whose
  // grace period has not ended.
  while (done < retired_.size() && rte_rcu_qsbr_check(rcu_, retired_[done].token, false) == 1) {
    rte_free(retired_[done].session);
    ++done;
  }
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(done));
  return retired_.size();
}

void SessionTable::synchronize() {
  rte_rcu_qsbr_synchronize(rcu_, RTE_QSBR_THRID_INVALID);
  reclaim();
}

bool SessionTable::publish(const control::FastPathEntry& entry) {
  reclaim();
  Session fresh;
  if (!build_session(entry, fresh, limits_)) return false;
  uint16_t id = entry.local_session_id;
  Session* old = slots_[id].load(std::memory_order_relaxed);

  if (fresh.subscriber_addr != 0) {
    void* holder = nullptr;
    if (rte_hash_lookup_data(subscribers_, &fresh.subscriber_addr, &holder) >= 0 &&
        tagged_id(holder) != id)
      return false;  // one address, one session
  }

  if (old == nullptr) {
    // A new session under this ID: a worker may still hold the withdrawn
    // one and write its state; wait that out before the state is reset.
    if (retired_pending(id)) synchronize();
    states_[id] = SessionState{};
  }

  auto* s = static_cast<Session*>(
      rte_malloc_socket("l2tp_session", sizeof(Session), RTE_CACHE_LINE_SIZE, rte_socket_id()));
  if (s == nullptr) return false;
  new (s) Session(fresh);

  if (s->subscriber_addr != 0 &&
      ((reinterpret_cast<uintptr_t>(s) >> kTagShift) != 0 ||
       rte_hash_add_key_data(subscribers_, &s->subscriber_addr, tag(s)) < 0)) {
    rte_free(s);
    return false;
  }
  slots_[id].store(s, std::memory_order_release);
  if (old != nullptr && old->subscriber_addr != 0 && old->subscriber_addr != s->subscriber_addr)
    direct_remove(old->subscriber_addr, id);
  if (s->subscriber_addr != 0 && (old == nullptr || old->subscriber_addr != s->subscriber_addr))
    direct_add(s->subscriber_addr, id);
  else if (s->subscriber_addr != 0)  // unchanged address: the entry must lead to s, not old
    direct_refresh(static_cast<uint16_t>(rte_be_to_cpu_32(s->subscriber_addr)));
  if (old != nullptr) {
    if (old->subscriber_addr != 0 && old->subscriber_addr != s->subscriber_addr)
      rte_hash_del_key(subscribers_, &old->subscriber_addr);
    retire(old);
  } else {
    ++sessions_;
  }
  return true;
}

bool SessionTable::withdraw(uint16_t local_session_id) {
  reclaim();
  Session* old = slots_[local_session_id].load(std::memory_order_relaxed);
  if (old == nullptr) return false;
  if (old->subscriber_addr != 0) {
    direct_remove(old->subscriber_addr, local_session_id);
    rte_hash_del_key(subscribers_, &old->subscriber_addr);
  }
  slots_[local_session_id].store(nullptr, std::memory_order_release);
  retire(old);
  --sessions_;
  return true;
}

void SessionTable::lookup_subscribers(const rte_be32_t** addrs, uint32_t n, const Session** out,
                                      uint16_t* ids) const {
  // The direct array for each address; addresses whose low 16 bits are
  // shared go to the hash together.
  const rte_be32_t* shared[RTE_HASH_LOOKUP_BULK_MAX];
  uint32_t shared_at[RTE_HASH_LOOKUP_BULK_MAX];
  uint32_t n_shared = 0;
  for (uint32_t i = 0; i < n; ++i) {
    // A session withdrawn since is a miss (its entry is 0 by then, or the
    // one of another session); one republished under another address is
    // caught by the caller, which checks subscriber_addr.
    void* e = reinterpret_cast<void*>(
        direct_[static_cast<uint16_t>(rte_be_to_cpu_32(*addrs[i]))].load(std::memory_order_acquire));
    out[i] = nullptr;
    if (ids != nullptr) ids[i] = 0;
    if (reinterpret_cast<uintptr_t>(e) == kDirectCollide) {
      shared_at[n_shared] = i;
      shared[n_shared++] = addrs[i];
    } else if (e != nullptr) {
      out[i] = untag(e);
      if (ids != nullptr) ids[i] = tagged_id(e);
    }
  }
  if (n_shared != 0) {
    uint64_t hits = 0;
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    rte_hash_lookup_bulk_data(subscribers_, reinterpret_cast<const void**>(shared), n_shared, &hits, data);
    for (uint32_t k = 0; k < n_shared; ++k) {
      const bool hit = (hits >> k) & 1;
      out[shared_at[k]] = hit ? untag(data[k]) : nullptr;
      if (ids != nullptr) ids[shared_at[k]] = hit ? tagged_id(data[k]) : 0;
    }
  }
}

const Session* SessionTable::lookup_subscriber(rte_be32_t addr) const {
  const Session* s = nullptr;
  const rte_be32_t* key = &addr;
  lookup_subscribers(&key, 1, &s);
  return s != nullptr && s->subscriber_addr == addr ? s : nullptr;
}

}  // namespace l2tp::dp
