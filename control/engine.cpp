#include "control/engine.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "shared/avp.hpp"
#include "shared/bytes.hpp"

namespace l2tp::control {

using wire::ControlMessage;
using wire::MessageType;
namespace result = wire::result;
namespace error_code = wire::error_code;

Engine::Engine(DatagramIo& io, ControlObserver& observer, PeerPolicy policy, const EngineLimits& limits,
               uint64_t seed)
    : io_(io),
      observer_(observer),
      policy_(std::move(policy)),
      limits_(limits),
      tunnel_ids_(limits.id_hold, limits.max_tunnels, seed),
      session_ids_(limits.id_hold, limits.max_sessions, seed ^ 0x9E3779B97F4A7C15ull),
      rng_(seed + 1) {}

Engine::~Engine() = default;

void Engine::random_bytes(std::span<uint8_t> out) {
  // Challenges and Random Vectors: unpredictable ones from OpenSSL; the
  // seeded generator only if it ever fails.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) == 1) return;
  for (auto& b : out) b = static_cast<uint8_t>(rng_());
}

void Engine::queue(const DatagramMeta& meta, std::span<const uint8_t> bytes) {
  tx_.emplace_back(meta, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

void Engine::flush() {
  if (tx_.empty()) return;
  std::vector<TxDatagram> batch;
  batch.reserve(tx_.size());
  for (const auto& [meta, bytes] : tx_) batch.push_back(TxDatagram{meta, bytes});
  io_.send_batch(batch);  // what it cannot take it counts as dropped
  tx_.clear();
}

void Engine::send_datagram(const Tunnel& tunnel, std::span<const uint8_t> datagram) {
  auto it = tunnels_.find(tunnel.local_id());
  if (it == tunnels_.end()) return;
  mark(tunnel.local_id());  // what sends has moved its timers
  queue(it->second.route, datagram);
}

Tunnel& Engine::add_tunnel(uint16_t id, Role role, const TunnelSettings& s, const DatagramMeta& route,
                           TimePoint now) {
  Entry e{std::make_unique<Tunnel>(*this, id, role, s, now), route, std::nullopt};
  Tunnel& t = *e.tunnel;
  tunnels_.emplace(id, std::move(e));
  mark(id);
  // Before the SCCRQ or SCCRP leaves (flush()): the peer's answers must
  // find the workers knowing the tunnel.
  if (fast_path_) fast_path_->tunnel_up(id, route.peer);
  return t;
}

Tunnel* Engine::tunnel(uint16_t local_id) {
  auto it = tunnels_.find(local_id);
  return it == tunnels_.end() ? nullptr : it->second.tunnel.get();
}

Tunnel* Engine::open_tunnel(const Endpoint& local, const Endpoint& peer, const TunnelSettings& settings,
                            TimePoint now) {
  auto id = tunnel_ids_.allocate(now);
  if (!id) return nullptr;
  DatagramMeta route;
  route.local = local;
  route.peer = peer;
  Tunnel& t = add_tunnel(*id, Role::kLac, settings, route, now);
  t.open(now);
  flush();
  return &t;
}

void Engine::close_tunnel(uint16_t local_id, const wire::ResultCode& why, TimePoint now) {
  if (Tunnel* t = tunnel(local_id)) {
    t->close(why, now);
    mark(local_id);
  }
  flush();
}

void Engine::close_all(const wire::ResultCode& why, TimePoint now) {
  for (auto& [id, e] : tunnels_) {
    e.tunnel->close(why, now);
    mark(id);
  }
  flush();
}

void Engine::on_datagram(const DatagramMeta& meta, std::span<const uint8_t> datagram, TimePoint now) {
  ++counters_.datagrams;
  auto h = wire::decode_header(datagram);
  if (!h) {
    // 3.1: another version (L2TPv3 shares port 1701) is discarded silently.
    if (h.error().code == wire::Errc::kBadVersion) ++counters_.bad_version;
    else ++counters_.malformed;
    return;
  }
  const auto payload = datagram.subspan(h->header_len, h->message_len - h->header_len);
  if (!h->control) {
    on_data(meta, *h, payload);
    return;
  }
  if (h->tunnel_id == 0) {
    on_sccrq(meta, *h, payload, now);
  } else {
    auto it = tunnels_.find(h->tunnel_id);
    // 8.1: the first reply to our SCCRQ may come from another port of the
    // peer; from then on the tunnel's peer is fixed.
    if (it != tunnels_.end() && it->second.tunnel->state() == TunnelState::kWaitCtlReply &&
        it->second.route.peer.addr == meta.peer.addr)
      it->second.route.peer.port = meta.peer.port;
    if (it == tunnels_.end() || !(it->second.route.peer == meta.peer)) {
      ++counters_.unknown_tunnel;
    } else {
      // Replies leave by the port and VLAN the peer's messages come in on.
      DatagramMeta& r = it->second.route;
      r.port_id = meta.port_id;
      r.vlan = meta.vlan;
      r.worker = meta.worker;
      it->second.tunnel->receive(*h, payload, now);
      mark(h->tunnel_id);
    }
  }
  reap(now);
  flush();
}

void Engine::on_data(const DatagramMeta& meta, const wire::Header& h, std::span<const uint8_t> payload) {
  auto it = tunnels_.find(h.tunnel_id);
  if (it == tunnels_.end() || it->second.route.peer.addr != meta.peer.addr) {
    ++counters_.data_unknown;
    return;
  }
  Session* s = it->second.tunnel->session(h.session_id);
  if (!s || !s->established()) {
    ++counters_.data_unknown;
    return;
  }
  Session::DataSequence& seq = s->data_sequence();
  // 5.4: the LNS turns sequencing on and off at any time with the S bit
  // of its data (a LAC follows: Session::sends_sequenced_data()).
  seq.peer_sequences = h.has_sequence;
  if (h.has_sequence) {
    // With S set the peer sequences its data; what arrives behind the
    // expected Ns is late or duplicated and is dropped (no reorder buffer
    // on this path: one UDP socket rarely reorders; the data plane has its
    // own handling). A gap is a loss and is skipped.
    if (seq.have_expected && seq_before(h.ns, seq.expected_ns)) {
      ++counters_.data_stale;
      return;
    }
    seq.have_expected = true;
    seq.expected_ns = static_cast<uint16_t>(h.ns + 1);
  }
  ++counters_.data_in;
  observer_.ppp_frame(*s, payload);
}

bool Engine::send_ppp(Session& session, std::span<const uint8_t> frame, TimePoint) {
  const Tunnel& t = session.tunnel();
  auto it = tunnels_.find(t.local_id());
  if (it == tunnels_.end() || !session.established()) return false;
  // 5.2: the data header; no Length; Ns when the session is sequenced
  // (5.4), Nr 0 (reserved in data messages).
  wire::Header h;
  h.tunnel_id = t.peer_id();
  h.session_id = session.peer_id();
  if (session.sends_sequenced_data()) {
    h.has_sequence = true;
    // With a data plane the owner worker writes Ns from the counter its
    // fast path uses: one sequence for the session, whoever sends.
    h.ns = io_.sequences_data() ? 0 : session.data_sequence().next_ns++;
  }
  std::vector<uint8_t> d(wire::encoded_header_size(h) + frame.size());
  if (!wire::encode_header(h, frame.size(), d)) return false;
  std::copy(frame.begin(), frame.end(), d.begin() + static_cast<ptrdiff_t>(wire::encoded_header_size(h)));
  ++counters_.data_out;
  DatagramMeta route = it->second.route;
  route.session = session.local_id();
  queue(route, d);
  flush();
  return true;
}

void Engine::refuse(const DatagramMeta& meta, uint16_t peer_tunnel_id, uint16_t result_code, uint16_t error,
                    const std::string& why) {
  // A one-shot StopCCN, sent once and forgotten: refusing must not cost
  // state, or a flood of SCCRQs would cost memory. A lost one is answered
  // again when the peer retransmits its SCCRQ.
  ++counters_.tunnels_refused;
  ControlMessage m;
  m.message_type = static_cast<uint16_t>(MessageType::kStopccn);
  m.assigned_tunnel_id = 0;
  m.result_code = wire::ResultCode{result_code, error, why};
  auto bytes = wire::encode_control(wire::control_header(peer_tunnel_id, 0, 0, 1), m);
  if (!bytes) return;
  queue(meta, *bytes);  // back the way it came: same addresses, port and VLAN
}

void Engine::on_sccrq(const DatagramMeta& meta, const wire::Header& h, std::span<const uint8_t> avps,
                      TimePoint now) {
  // The Host Name is never hidden (4.4.3): find it first, to ask the policy
  // for this peer's settings and secret, then decode with that secret.
  std::string host_name;
  for (wire::AvpReader r(avps); !r.at_end();) {
    auto a = r.next();
    if (!a) break;
    if (a->vendor_id == 0 && a->type == static_cast<uint16_t>(wire::AvpType::kHostName) && !a->hidden)
      host_name.assign(a->value.begin(), a->value.end());
  }
  PeerDecision decision = policy_(meta, host_name);
  wire::DecodeOptions dopt;
  if (decision.settings) dopt.secret = wire::as_bytes(decision.settings->secret);
  auto m = wire::decode_message(avps, dopt);
  if (!m || m->zlb || m->type() != MessageType::kSccrq) {
    ++counters_.not_sccrq;
    return;
  }
  if (!m->assigned_tunnel_id || *m->assigned_tunnel_id == 0) {
    ++counters_.malformed;  // nowhere to send an answer
    return;
  }
  const uint16_t peer_tunnel = *m->assigned_tunnel_id;
  // A retransmission of an SCCRQ we answered goes to that tunnel.
  if (auto it = by_peer_.find({meta.peer, peer_tunnel}); it != by_peer_.end()) {
    if (Tunnel* t = tunnel(it->second)) {
      t->receive(h, avps, now);
      mark(it->second);
    }
    return;
  }
  if (auto v = wire::validate_message(*m); !v) {
    refuse(meta, peer_tunnel, result::kGeneralErrorSee, error_code::kBadValue, v.error().to_string());
    return;
  }
  // 4.4.3 tie breaker: we are also waiting for an SCCRP from this peer.
  if (m->tie_breaker) {
    for (auto& [id, e] : tunnels_) {
      Tunnel& ours = *e.tunnel;
      if (e.route.peer.addr != meta.peer.addr || ours.state() != TunnelState::kWaitCtlReply) continue;
      const uint64_t mine = ours.settings().tie_breaker;
      if (mine != 0 && mine < *m->tie_breaker) return;  // ours wins: theirs is dropped silently
      // Theirs is lower, or only they sent one: ours loses. Equal: both lose.
      ++counters_.tie_breaker_lost;
      ours.discard({result::kControlChannelExists, 0, "lost the tie breaker"});
      mark(id);
      if (mine == *m->tie_breaker) return;
    }
  }
  if (!decision.settings) {
    refuse(meta, peer_tunnel, result::kNotAuthorized, 0, decision.refusal);
    return;
  }
  if (tunnels_.size() >= limits_.max_tunnels) {
    refuse(meta, peer_tunnel, result::kGeneralErrorSee, error_code::kInsufficientResources, "tunnel limit reached");
    return;
  }
  auto id = tunnel_ids_.allocate(now);
  if (!id) {
    refuse(meta, peer_tunnel, result::kGeneralErrorSee, error_code::kInsufficientResources, "no free tunnel ID");
    return;
  }
  Tunnel& t = add_tunnel(*id, Role::kLns, *decision.settings, meta, now);
  by_peer_[{meta.peer, peer_tunnel}] = *id;
  t.receive(h, avps, now);
  mark(*id);
}

void Engine::reap(TimePoint now) {
  refresh_deadlines();
  // Dead tunnels ask for a pass at once (their deadline is `now`); they are
  // the only ones that can be freed, so look no further than due entries.
  std::vector<uint16_t> dead;
  for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now; ++d) {
    auto it = tunnels_.find(d->second);
    if (it != tunnels_.end() && it->second.tunnel->dead()) dead.push_back(d->second);
  }
  for (uint16_t id : dead) {
    auto it = tunnels_.find(id);
    Tunnel& t = *it->second.tunnel;
    t.on_timer(now);  // frees its sessions' IDs
    if (it->second.deadline) deadlines_.erase({*it->second.deadline, id});
    for (auto p = by_peer_.begin(); p != by_peer_.end();) {
      if (p->second == id) p = by_peer_.erase(p);
      else ++p;
    }
    tunnel_ids_.free(id, now);  // into quarantine
    tunnels_.erase(it);
    if (fast_path_) fast_path_->tunnel_down(id);
  }
}

void Engine::refresh_deadlines() {
  for (uint16_t id : dirty_) {
    auto it = tunnels_.find(id);
    if (it == tunnels_.end()) continue;
    Entry& e = it->second;
    const std::optional<TimePoint> d = e.tunnel->next_deadline();
    if (d == e.deadline) continue;
    if (e.deadline) deadlines_.erase({*e.deadline, id});
    e.deadline = d;
    if (d) deadlines_.insert({*d, id});
  }
  dirty_.clear();
}

void Engine::on_timer(TimePoint now) {
  refresh_deadlines();
  std::vector<uint16_t> due;
  for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now; ++d) due.push_back(d->second);
  for (uint16_t id : due) {
    if (Tunnel* t = tunnel(id)) {
      t->on_timer(now);
      mark(id);
    }
  }
  reap(now);
  flush();
}

std::optional<TimePoint> Engine::next_deadline() {
  // What was done to a tunnel from outside the Engine's own entry points
  // (a command placing or hanging up a call on a Tunnel) queued its
  // datagrams; the caller asks for the next deadline right after (the
  // driver's reschedule()), so they leave now rather than with whatever
  // event comes next (the delayed ack, or a Hello a minute later).
  flush();
  refresh_deadlines();
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

}  // namespace l2tp::control
