#include "dataplane/worker.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/classify.hpp"
#include "dataplane/encap.hpp"

namespace l2tp::dp {

namespace {

// How many packets ahead of the one being classified to prefetch (l3fwd).
constexpr uint16_t kPrefetchOffset = 3;

// The IPv4 destination of an Ethernet [+802.1Q] frame (network order), or
// 0; only for frames classify already found to be well-formed IPv4.
rte_be32_t ipv4_destination(const rte_mbuf* m) {
  size_t off = sizeof(rte_ether_hdr);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) off += sizeof(rte_vlan_hdr);
  if (m->data_len < off + sizeof(rte_ipv4_hdr)) return 0;
  return rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, off)->dst_addr;
}

// rte_eth_tx_buffer's error callback: the port refused these. A counted
// drop, never a retry that would stall the loop.
void count_unsent(rte_mbuf** pkts, uint16_t unsent, void* userdata) {
  auto* counters = static_cast<WorkerCounters*>(userdata);
  counters->drops[static_cast<size_t>(Drop::kTxFull)] += unsent;
  rte_pktmbuf_free_bulk(pkts, unsent);
}

rte_eth_dev_tx_buffer* make_tx_buffer(WorkerCounters& counters, int socket_id) {
  auto* b = static_cast<rte_eth_dev_tx_buffer*>(
      rte_zmalloc_socket("l2tp_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurst), 0, socket_id));
  if (b == nullptr) throw std::runtime_error("worker: no memory for a TX buffer");
  rte_eth_tx_buffer_init(b, kBurst);
  rte_eth_tx_buffer_set_err_callback(b, count_unsent, &counters);
  return b;
}

}  // namespace

ControlRings create_control_rings(uint16_t worker, unsigned size, int socket_id) {
  ControlRings r;
  std::string up = "l2tp_to_ctl_" + std::to_string(worker);
  std::string down = "l2tp_from_ctl_" + std::to_string(worker);
  std::string high = "l2tp_to_ctl_hi_" + std::to_string(worker);
  r.to_control = rte_ring_create(up.c_str(), size, socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
  r.from_control = rte_ring_create(down.c_str(), size, socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
  r.to_control_high = rte_ring_create(high.c_str(), size, socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (r.to_control == nullptr || r.from_control == nullptr || r.to_control_high == nullptr) {
    std::string why = rte_strerror(rte_errno);
    free_control_rings(r);
    throw std::runtime_error("worker " + std::to_string(worker) + ": rte_ring_create: " + why);
  }
  return r;
}

void free_control_rings(ControlRings& rings) {
  for (rte_ring* r : {rings.to_control, rings.from_control, rings.to_control_high}) {
    if (r == nullptr) continue;
    rte_mbuf* m;
    while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(r);
  }
  rings = ControlRings{};
}

namespace {
const WorkerConfig& checked(const WorkerConfig& config) {
  if (config.table == nullptr || config.rcu == nullptr || config.to_control == nullptr ||
      config.from_control == nullptr)
    throw std::runtime_error("worker: table, RCU and rings are required");
  if (config.handoff != nullptr && config.id >= config.workers)
    throw std::runtime_error("worker: ID beyond the handoff rings");
  return config;
}
}  // namespace

Worker::Worker(const WorkerConfig& config)
    : config_(checked(config)),
      reorder_(config.reorder, *config.table, config.id, counters_, rte_get_tsc_hz(),
               rte_eth_dev_socket_id(config.access_port)),
      policer_(config.police, rte_get_tsc_hz(), config.police_seed ? config.police_seed : static_cast<uint32_t>(rte_rand()),
               rte_eth_dev_socket_id(config.access_port)) {
  ns_mark_ = ns_request_mark();
  core_l2_ = CoreL2Header(config.core_hop);
  int socket = rte_eth_dev_socket_id(config.access_port);
  tx_access_ = make_tx_buffer(counters_, socket);
  try {
    tx_core_ = make_tx_buffer(counters_, rte_eth_dev_socket_id(config.core_port));
  } catch (...) {
    rte_free(tx_access_);
    throw;
  }
  drain_tsc_ = (rte_get_tsc_hz() + 999999) / 1000000 * config.drain_us;
  mtu_.init(config.mtu, config.core_addr, config.core_hop);
  if (config.reassembly.enabled) {
    try {
      reassembly_ = std::make_unique<Reassembly>(config.reassembly, socket);
    } catch (...) {
      rte_free(tx_access_);
      rte_free(tx_core_);
      throw;
    }
  }
}

Worker::~Worker() {
  // Anything still buffered or held is freed, not sent: the ports may be
  // stopped.
  for (UpstreamBurst& b : up_) rte_pktmbuf_free_bulk(b.pkts, b.n);
  for (DownstreamBurst& b : down_) rte_pktmbuf_free_bulk(b.pkts, b.n);
  rte_pktmbuf_free_bulk(tx_access_->pkts, tx_access_->length);
  rte_pktmbuf_free_bulk(tx_core_->pkts, tx_core_->length);
  rte_free(tx_access_);
  rte_free(tx_core_);
}

void Worker::attach() {
  if (rte_rcu_qsbr_thread_register(config_.rcu, config_.id) != 0)
    throw std::runtime_error("worker " + std::to_string(config_.id) + ": RCU registration refused");
  rte_rcu_qsbr_thread_online(config_.rcu, config_.id);
  last_drain_ = rte_rdtsc();
}

void Worker::detach() {
  rte_rcu_qsbr_thread_offline(config_.rcu, config_.id);
  rte_rcu_qsbr_thread_unregister(config_.rcu, config_.id);
}

inline void Worker::send(rte_eth_dev_tx_buffer* buffer, uint16_t port, rte_mbuf* m, uint64_t& sent) {
  sent += rte_eth_tx_buffer(port, config_.tx_queue, buffer, m);
}

// send() for the n packets a burst's fast path collected, at once: what
// fits into the buffer's room, a flush when that fills it, and so on.
// Counts them as forwarded and leaves n at 0.
void Worker::send_bulk(rte_eth_dev_tx_buffer* buffer, uint16_t port, rte_mbuf** pkts, uint16_t& n, uint64_t& sent,
                       uint64_t& forwarded) {
  forwarded += n;
  while (n != 0) {
    const uint16_t k = std::min<uint16_t>(n, static_cast<uint16_t>(buffer->size - buffer->length));
    std::copy_n(pkts, k, buffer->pkts + buffer->length);
    buffer->length = static_cast<uint16_t>(buffer->length + k);
    pkts += k;
    n = static_cast<uint16_t>(n - k);
    if (buffer->length == buffer->size) sent += rte_eth_tx_buffer_flush(port, config_.tx_queue, buffer);
  }
}

void Worker::enqueue_to_control(rte_ring* ring, rte_mbuf** pkts, uint16_t n) {
  if (n == 0) return;
  unsigned queued = rte_ring_sp_enqueue_burst(ring, reinterpret_cast<void**>(pkts), n, nullptr);
  counters_.to_control += queued;
  if (queued < n) {
    counters_.drops[static_cast<size_t>(Drop::kControlRingFull)] += n - queued;
    rte_pktmbuf_free_bulk(pkts + queued, n - queued);
  }
}

// Policed per peer and class, then onto the high or the normal ring
// (dataplane/police.hpp): a flood costs a classification and a bucket
// look-up per packet here, not a slot in the ring the Hellos need.
void Worker::to_control(rte_mbuf** pkts, uint16_t n) {
  if (n == 0) return;
  rte_mbuf* high[kBurst];
  rte_mbuf* normal[kBurst];
  rte_mbuf* policed[kBurst];
  uint16_t nh = 0, nn = 0, np = 0;
  const uint64_t now = rte_rdtsc();
  for (uint16_t i = 0; i < n; ++i) {
    uint32_t peer;
    const PuntClass c = punt_class(pkts[i], config_.tunnels, peer);
    Drop why = Drop::kCount;
    if (!policer_.admit(c, peer, now, why)) {
      counters_.count(why);
      policed[np++] = pkts[i];
    } else if (c == PuntClass::kControl) {
      high[nh++] = pkts[i];
    } else {
      normal[nn++] = pkts[i];
    }
  }
  rte_pktmbuf_free_bulk(policed, np);
  enqueue_to_control(config_.to_control_high ? config_.to_control_high : config_.to_control, high, nh);
  enqueue_to_control(config_.to_control, normal, nn);
}

// poll_access() and poll_core(): RX into the burst that is free, read it
// (shape), finish the held one (the port's packets leave in the order they
// came in), request what the new one's finish will read (fetch: its
// slots or lines have arrived meanwhile), then hold it if it came back
// full, or finish it now.
template <class Burst, class Shape, class Fetch, class Finish>
uint16_t Worker::poll_port(uint16_t port, Burst (&bursts)[2], uint16_t& fill_at, uint64_t& rx, Shape shape,
                           Fetch fetch, Finish finish) {
  Burst& fill = bursts[fill_at];
  Burst& held = bursts[fill_at ^ 1];
  const uint16_t n = rte_eth_rx_burst(port, config_.rx_queue, fill.pkts, kBurst);
  fill.n = n;
  if (n != 0) {
    rx += n;
    shape(fill);
  }
  if (held.n != 0) finish(held);
  if (n != 0) fetch(fill);
  if (n == kBurst)
    fill_at ^= 1;  // held until the next poll
  else if (n != 0)
    finish(fill);
  return n;
}

uint32_t Worker::poll_access() {
  return poll_port(
      config_.access_port, up_, up_fill_, counters_.rx_access, [this](UpstreamBurst& b) { shape_upstream(b); },
      [this](const UpstreamBurst& b) { fetch_upstream(b); },
      [this](UpstreamBurst& b) { finish_upstream(b, false, true); });
}

void Worker::upstream(rte_mbuf** pkts, uint16_t n, bool handed, bool admit) {
  UpstreamBurst b;
  std::copy_n(pkts, n, b.pkts);
  b.n = n;
  shape_upstream(b);
  fetch_upstream(b);
  finish_upstream(b, handed, admit);
}

// Three passes over the burst so that the table's cache misses overlap
// instead of queueing one behind the other (slot -> Session -> state):
// headers, slots and states (here), then sessions (fetch_upstream()),
// then classify and decapsulate (finish_upstream()). Under load each
// begins a poll's work after the one before (UpstreamBurst).
// The first pass also reads the common data message whole
// (UpstreamShape), so that the third has only its session to check.
void Worker::shape_upstream(UpstreamBurst& b) const {
  const SessionTable& table = *config_.table;
  const uint16_t n = b.n;
  for (uint16_t i = 0; i < n && i < kPrefetchOffset; ++i) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchOffset < n) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + kPrefetchOffset], void*));
    b.shaped[i] = upstream_shape(b.pkts[i], b.shapes[i]);
    b.ids[i] = b.shaped[i] ? b.shapes[i].session_id : upstream_session_hint(b.pkts[i]);
    rte_prefetch0(table.slot_address(b.ids[i]));
    // The state is indexed by the same ID: no need to wait for the slot.
    rte_prefetch0(&table.state(b.ids[i]));
  }
}

void Worker::fetch_upstream(const UpstreamBurst& b) const {
  const SessionTable& table = *config_.table;
  for (uint16_t i = 0; i < b.n; ++i)
    if (const Session* s = table.by_session_id(b.ids[i])) rte_prefetch0(s);
}

void Worker::finish_upstream(UpstreamBurst& b, bool handed, bool admit) {
  const SessionTable& table = *config_.table;
  const uint16_t n = b.n;
  rte_mbuf** const pkts = b.pkts;
  const UpstreamShape* shapes = b.shapes;
  const bool* shaped = b.shaped;
  b.n = 0;
  Aside aside;
  uint64_t now = 0;
  // What the shortcut decapsulated, for the core port's TX buffer in one
  // go (in order: before anything the general path sends).
  rte_mbuf* out[kBurst];
  uint16_t nout = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (shaped[i]) [[likely]] {
      // The common case in one go: what classify_shaped() and decap_ipv4()
      // check, for the frames they would pass.
      const UpstreamShape& sh = shapes[i];
      const Session* s = detail::matching_session(table, sh.tunnel_id, sh.session_id, sh.addrs, sh.ports);
      if (s != nullptr && s->in_fast_path() && s->owner_worker == config_.id && !s->follows_peer &&
          decap_shaped(pkts[i], sh, *s, core_l2_, table.state(sh.session_id))) [[likely]] {
        counters_.mss_clamped += mss_clamp_ipv4(rte_pktmbuf_mtod_offset(pkts[i], uint8_t*, core_l2_.len),
                                                rte_pktmbuf_data_len(pkts[i]) - core_l2_.len, s->mss_max);
        out[nout++] = pkts[i];
        continue;
      }
    }
    send_bulk(tx_core_, config_.core_port, out, nout, counters_.tx_core, counters_.decap);
    Drop why = Drop::kCount;
    UpstreamPacket up;
    Verdict verdict = shaped[i] ? classify_shaped(shapes[i], table, config_.id, up, why)
                                : classify_upstream(pkts[i], table, config_.id, up, why);
    if (verdict == Verdict::kDrop && why == Drop::kIpv4Fragment && reassembly_) [[unlikely]] {
      // Held until its datagram is whole; the datagram it completes, if
      // any, is classified in its place.
      pkts[i] = reassembly_->take(pkts[i], rte_rdtsc(), counters_);
      if (pkts[i] == nullptr) continue;
      verdict = classify_upstream(pkts[i], table, config_.id, up, why);
    }
    // RFC 2661 5.4: sequenced data (fast or punted) is taken in Ns order.
    if (verdict != Verdict::kDrop && up.sequenced && admit) {
      if (now == 0) now = rte_rdtsc();
      const Reorder::Admit a = reorder_.admit(pkts[i], *up.session, up.ns, now);
      if (a == Reorder::Admit::kLater) continue;
      if (a == Reorder::Admit::kStale) {
        counters_.count(Drop::kSeqStale);
        aside.dropped[aside.nd++] = pkts[i];
        continue;
      }
    }
    switch (verdict) {
      case Verdict::kFast: {
        rte_mbuf* m = pkts[i];
        const Session* s = up.session;
        if (s->follows_peer) [[unlikely]]
          note_peer_sequencing(up);
        if (decap_ipv4(m, up, core_l2_, table.state(s->local_session_id), why)) {
          ++counters_.decap;
          counters_.mss_clamped += mss_clamp_ipv4(rte_pktmbuf_mtod_offset(m, uint8_t*, m->l2_len),
                                                  rte_pktmbuf_data_len(m) - m->l2_len, s->mss_max);
          send(tx_core_, config_.core_port, m, counters_.tx_core);
        } else {
          counters_.count(why);
          aside.dropped[aside.nd++] = m;
        }
        break;
      }
      case Verdict::kControl:
        // RFC 2661 5.4: a sequenced PPP frame (an LCP echo) has its place
        // among the session's data, which the owner's reorder buffer
        // keeps: punted from here it would leave a gap there, and the
        // data behind it would wait out the reorder timeout. And the
        // owner of a LAC's session that follows the LNS's S bit sees it
        // on every frame.
        if (up.session != nullptr && (up.sequenced || up.session->follows_peer) &&
            up.session->owner_worker != config_.id && !handed && config_.handoff != nullptr) [[unlikely]] {
          aside.owners[aside.nh] = up.session->owner_worker;
          aside.hand[aside.nh++] = pkts[i];
          break;
        }
        if (up.session != nullptr && up.session->follows_peer) [[unlikely]]
          note_peer_sequencing(up);
        aside.control[aside.nc++] = pkts[i];
        break;
      case Verdict::kDrop:
        if (why == Drop::kNotL2tp && config_.access_addr != 0 && ipv4_destination(pkts[i]) == config_.access_addr) {
          aside.control[aside.nc++] = pkts[i];  // for the box itself (ping)
          break;
        }
        counters_.count(why);
        aside.dropped[aside.nd++] = pkts[i];
        break;
      case Verdict::kHandoff:
        if (!handed && config_.handoff != nullptr) {
          aside.owners[aside.nh] = up.session->owner_worker;
          aside.hand[aside.nh++] = pkts[i];
          break;
        }
        counters_.count(Drop::kNotOwner);
        aside.dropped[aside.nd++] = pkts[i];
        break;
    }
  }
  send_bulk(tx_core_, config_.core_port, out, nout, counters_.tx_core, counters_.decap);
  hand_over(aside.hand, aside.owners, aside.nh, true);
  to_control(aside.control, aside.nc);
  rte_pktmbuf_free_bulk(aside.dropped, aside.nd);
}

// RFC 2661 5.4: the LNS turns sequencing on and off with the S bit of its
// data, and a LAC that did not require it follows (encap reads this).
// Only the owner writes the state.
void Worker::note_peer_sequencing(const UpstreamPacket& up) {
  if (up.session->owner_worker == config_.id)
    config_.table->state(up.session->local_session_id).peer_sequences = up.sequenced;
}

// What the reorder buffer let go, classified again: its session may have
// been withdrawn or moved in or out of the fast path while it waited.
void Worker::release_reordered() {
  rte_mbuf* pkts[kBurst];
  while (const uint16_t k = reorder_.take_ready(pkts, kBurst)) upstream(pkts, k, true, false);
}

uint32_t Worker::poll_core() {
  return poll_port(
      config_.core_port, down_, down_fill_, counters_.rx_core, [this](DownstreamBurst& b) { shape_downstream(b); },
      [this](const DownstreamBurst& b) { fetch_downstream(b); },
      [this](DownstreamBurst& b) { finish_downstream(b, false); });
}

void Worker::finish_held() {
  UpstreamBurst& up = up_[up_fill_ ^ 1];
  if (up.n != 0) finish_upstream(up, false, true);
  DownstreamBurst& down = down_[down_fill_ ^ 1];
  if (down.n != 0) finish_downstream(down, false);
}

void Worker::downstream(rte_mbuf** pkts, uint16_t n, bool handed) {
  DownstreamBurst b;
  std::copy_n(pkts, n, b.pkts);
  b.n = n;
  shape_downstream(b);
  fetch_downstream(b);
  finish_downstream(b, handed);
}

// One pass over the burst reads each frame (downstream_shape) and starts
// the fetch of its subscriber's DirectLine.
void Worker::shape_downstream(DownstreamBurst& b) const {
  const SessionTable& table = *config_.table;
  const uint16_t n = b.n;
  for (uint16_t i = 0; i < n && i < kPrefetchOffset; ++i) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchOffset < n) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + kPrefetchOffset], void*));
    b.ip_len[i] = downstream_shape(b.pkts[i], b.dst[i]);
    b.line[i] = nullptr;
    if (b.ip_len[i] != 0) {
      b.line[i] = &table.direct_line(b.dst[i]);
      rte_prefetch0(b.line[i]);
    }
  }
}

// The second pass reads each line and starts the fetch of what encap
// will need: the session's state and the headroom, and for a session that
// is not compact its two lines. Under load it runs a poll's work after the
// first (DownstreamBurst).
void Worker::fetch_downstream(const DownstreamBurst& b) const {
  const SessionTable& table = *config_.table;
  for (uint16_t i = 0; i < b.n; ++i) {
    if (b.line[i] == nullptr) continue;
    // A look, not a read: encap reads the line again, consistently.
    const DirectLine& l = *b.line[i];
    const DirectHead h = direct_head(__atomic_load_n(&l.w[0], __ATOMIC_RELAXED));
    uint16_t id = h.session_id;
    if (h.shape == 0) {  // no template: the entry
      const Session* s =
          SessionTable::direct_session(__atomic_load_n(&l.w[kDirectLineEntry], __ATOMIC_RELAXED), id);
      if (s == nullptr) continue;
      rte_prefetch0(s);
      rte_prefetch0(s->header_template);
    }
    // For writing (the counters, Ns): 0.9 of the cycles per packet of a
    // plain prefetch in back-to-back runs here (not so upstream's).
    __builtin_prefetch(&table.state(id), 1, 3);
    // encap writes the outer headers into the headroom, a line the NIC
    // never touched: fetch it for writing now, not on the store.
    __builtin_prefetch(rte_pktmbuf_mtod(b.pkts[i], uint8_t*) - RTE_CACHE_LINE_SIZE, 1, 3);
  }
}

// The last pass encapsulates. Whatever is not the common case goes to
// downstream_general() in its place, so the access port sends the burst in
// order.
void Worker::finish_downstream(DownstreamBurst& b, bool handed) {
  const SessionTable& table = *config_.table;
  const uint16_t n = b.n;
  rte_mbuf** const pkts = b.pkts;
  const DirectLine* const* line = b.line;
  const uint16_t* ip_len = b.ip_len;
  const rte_be32_t* dst = b.dst;
  b.n = 0;
  Aside aside;
  // What the fast path encapsulated, for the access port's TX buffer in
  // one go (in order: before anything the general path sends).
  rte_mbuf* out[kBurst];
  uint16_t nout = 0;
  // A compact line is this worker's subscriber's when its count is even
  // and its head has the address's high octets and this owner.
  constexpr uint64_t kCompactMask = 0x00FFFFFF00000001;
  static_assert(direct_head(kCompactMask).seq == 1 && direct_head(kCompactMask).session_id == 0 &&
                direct_head(kCompactMask).addr_high == 0xFFFF && direct_head(kCompactMask).owner_worker == 0xFF &&
                direct_head(kCompactMask).shape == 0);
  const uint64_t owner = uint64_t{config_.id} << 48;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const DirectLine* l = line[i];
    if (l != nullptr) [[likely]] {
      const uint64_t w0 = __atomic_load_n(&l->w[0], __ATOMIC_ACQUIRE);
      const DirectHead h = direct_head(w0);
      // The session holds the address (the line's index is its low 16
      // bits, the head has the rest) and is ours; downstream_shape()
      // checked the frame, encap_from_line() checks the MTU.
      uint16_t high;
      std::memcpy(&high, &dst[i], 2);
      uint64_t entry = 0;
      if (h.shape != 0) {
        if ((w0 & kCompactMask) == (owner | uint64_t{high} << 32) &&
            encap_from_line(m, ip_len[i], *l, w0, h, table.state(h.session_id), counters_.mss_clamped))
            [[likely]] {
          out[nout++] = m;
          continue;
        }
      } else if (h.seq % 2 == 0 && direct_line_entry(*l, w0, entry)) {
        uint16_t id = 0;
        const Session* s = SessionTable::direct_session(entry, id);
        // The same checks on the Session (the entry may be another
        // subscriber's with the same low 16 bits).
        if (s != nullptr && s->subscriber_addr == dst[i] && s->owner_worker == config_.id && ip_len[i] <= s->mtu)
            [[likely]] {
          encap_shaped(m, ip_len[i], *s, table.state(id), counters_.mss_clamped);
          out[nout++] = m;
          continue;
        }
      }
    }
    // Being rewritten, not ours, or not the common case.
    send_bulk(tx_access_, config_.access_port, out, nout, counters_.tx_access, counters_.encap);
    downstream_general(m, handed, aside);
  }
  send_bulk(tx_access_, config_.access_port, out, nout, counters_.tx_access, counters_.encap);
  hand_over(aside.hand, aside.owners, aside.nh, false);
  to_control(aside.control, aside.nc);
  rte_pktmbuf_free_bulk(aside.dropped, aside.nd);
}

// One packet of downstream()'s burst that is not the common case, or
// whose session is not: all the checks.
void Worker::downstream_general(rte_mbuf* m, bool handed, Aside& aside) {
  DownstreamPacket pkt;
  Drop why = Drop::kCount;
  switch (classify_downstream(m, pkt, why)) {
    case Verdict::kFast: break;
    case Verdict::kHandoff:  // not from classify_downstream: the lookup finds the owner
    case Verdict::kControl: aside.control[aside.nc++] = m; return;
    case Verdict::kDrop:
      counters_.count(why);
      aside.dropped[aside.nd++] = m;
      return;
  }
  const Session* s = nullptr;
  uint16_t id = 0;
  const rte_be32_t* key = &pkt.dst;
  config_.table->lookup_subscribers(&key, 1, &s, &id);
  why = Drop::kNoSubscriber;
  // The lookup leaves this check to us (the address may only share its
  // low 16 bits with the session's).
  if (s != nullptr && s->subscriber_addr != pkt.dst) s = nullptr;
  if (s == nullptr && config_.core_addr != 0 && pkt.dst == config_.core_addr) {
    aside.control[aside.nc++] = m;  // for the box itself (ping)
    return;
  }
  if (s != nullptr && s->owner_worker != config_.id && !handed && config_.handoff != nullptr) {
    aside.owners[aside.nh] = s->owner_worker;
    aside.hand[aside.nh++] = m;
    return;
  }
  if (s != nullptr) {
    counters_.mss_clamped += mss_clamp_ipv4(rte_pktmbuf_mtod_offset(m, uint8_t*, pkt.l2_len),
                                            rte_pktmbuf_data_len(m) - pkt.l2_len, s->mss_max);
    if (pkt.ip_len > s->mtu) [[unlikely]] {
      too_big(m, pkt, *s, config_.table->state(id));
      return;
    }
  }
  if (s != nullptr && encap_ipv4(m, pkt, *s, config_.table->state(id), config_.id, why)) {
    ++counters_.encap;
    send(tx_access_, config_.access_port, m, counters_.tx_access);
  } else {
    counters_.count(why);
    aside.dropped[aside.nd++] = m;
  }
}

void Worker::hand_over(rte_mbuf** pkts, const uint16_t* owners, uint16_t n, bool up) {
  for (uint16_t i = 0; i < n;) {
    // One enqueue per run of packets for the same owner.
    uint16_t j = static_cast<uint16_t>(i + 1);
    while (j < n && owners[j] == owners[i]) ++j;
    const uint16_t want = static_cast<uint16_t>(j - i);
    unsigned queued = 0;
    if (owners[i] < config_.workers) {
      const HandoffRings& to = config_.handoff[owners[i]];
      queued = rte_ring_mp_enqueue_burst(up ? to.upstream : to.downstream, reinterpret_cast<void**>(pkts + i),
                                         want, nullptr);
      counters_.handed_off += queued;
      counters_.drops[static_cast<size_t>(Drop::kHandoffRingFull)] += want - queued;
    } else {
      counters_.drops[static_cast<size_t>(Drop::kNotOwner)] += want;  // no such worker
    }
    rte_pktmbuf_free_bulk(pkts + i + queued, want - queued);
    i = j;
  }
}

uint32_t Worker::poll_handoff() {
  if (config_.handoff == nullptr) return 0;
  const HandoffRings& mine = config_.handoff[config_.id];
  rte_mbuf* pkts[kBurst];
  const auto up = static_cast<uint16_t>(
      rte_ring_sc_dequeue_burst(mine.upstream, reinterpret_cast<void**>(pkts), kBurst, nullptr));
  if (up != 0) upstream(pkts, up, true);
  const auto down = static_cast<uint16_t>(
      rte_ring_sc_dequeue_burst(mine.downstream, reinterpret_cast<void**>(pkts), kBurst, nullptr));
  if (down != 0) downstream(pkts, down, true);
  counters_.handed_in += up + down;
  return up + down;
}

// Rare: the packet is longer than the session MTU (dataplane/mtu.hpp).
void Worker::too_big(rte_mbuf* m, const DownstreamPacket& pkt, const Session& s, SessionState& state) {
  rte_mbuf* out[kMaxFragments];
  const TooBigResult r = mtu_.too_big(m, pkt, s, state, config_.id, out, counters_);
  for (uint16_t j = 0; j < r.n; ++j) {
    if (r.to_core) {
      send(tx_core_, config_.core_port, out[j], counters_.tx_core);
    } else {
      ++counters_.encap;
      send(tx_access_, config_.access_port, out[j], counters_.tx_access);
    }
  }
}

uint32_t Worker::poll_control() {
  rte_mbuf* pkts[kBurst];
  const unsigned n =
      rte_ring_sc_dequeue_burst(config_.from_control, reinterpret_cast<void**>(pkts), kBurst, nullptr);
  counters_.from_control += n;
  for (unsigned i = 0; i < n; ++i) {
    if (ns_mark_.marked(pkts[i])) {
      // A data message from pppd of a sequenced session we own (ControlIo
      // marked it): Ns from the counter the fast path numbers the
      // session's packets from, so that the peer sees one sequence (RFC
      // 2661 5.4). ControlIo checked that the offset is in the frame.
      const NsRequestMark::Request r = ns_mark_.take(pkts[i]);
      const uint16_t ns = config_.table->state(r.session).next_ns++;
      uint8_t* at = rte_pktmbuf_mtod_offset(pkts[i], uint8_t*, r.ns_offset);
      at[0] = static_cast<uint8_t>(ns >> 8);
      at[1] = static_cast<uint8_t>(ns);
    }
    if (pkts[i]->port == config_.core_port)
      send(tx_core_, config_.core_port, pkts[i], counters_.tx_core);
    else
      send(tx_access_, config_.access_port, pkts[i], counters_.tx_access);
  }
  return n;
}

void Worker::flush() {
  finish_held();
  drain_tx();
}

void Worker::drain_tx() {
  counters_.tx_access += rte_eth_tx_buffer_flush(config_.access_port, config_.tx_queue, tx_access_);
  counters_.tx_core += rte_eth_tx_buffer_flush(config_.core_port, config_.tx_queue, tx_core_);
}

uint32_t Worker::poll() {
  const uint32_t n = poll_access() + poll_core() + poll_handoff() + poll_control();
  const uint64_t now = rte_rdtsc();
  if (reorder_.busy()) {
    reorder_.expire(now);
    release_reordered();
  }
  if (now - last_drain_ > drain_tsc_) {
    drain_tx();
    last_drain_ = now;
  }
  // Every Session pointer of this turn is dead from here on.
  rte_rcu_qsbr_quiescent(config_.rcu, config_.id);
  return n;
}

void Worker::run(const std::atomic<bool>& stop) {
  attach();
  uint32_t idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (poll() != 0) {
      idle = 0;
      continue;
    }
    if (!config_.idle_sleep || ++idle < config_.idle_polls) continue;
    // Idle: send what waits, and sleep offline so that a grace period
    // does not wait for our sleep.
    flush();
    ++counters_.idle_sleeps;
    rte_rcu_qsbr_thread_offline(config_.rcu, config_.id);
    rte_delay_us_sleep(config_.idle_sleep_us);
    rte_rcu_qsbr_thread_online(config_.rcu, config_.id);
  }
  flush();
  detach();
}

}  // namespace l2tp::dp
