#include "control/transport.hpp"

#include <algorithm>

#include "shared/bytes.hpp"

namespace l2tp::control {

namespace {
// Offsets of Ns and Nr in a control header (T, L and S always set, 3.1).
constexpr size_t kNsOffset = 8;
constexpr size_t kNrOffset = 10;

Duration abs_diff(Duration a, Duration b) { return a > b ? a - b : b - a; }
}  // namespace

Transport::Transport(const TransportConfig& config, SendFn send, DeliverFn deliver)
    : config_(config), send_fn_(std::move(send)), deliver_fn_(std::move(deliver)),
      rto_(config.initial_rto) {
  if (config_.receive_window == 0) config_.receive_window = 1;
  set_peer_window(4);  // 5.8: the window when the peer sends no RWS AVP
}

void Transport::set_peer_window(uint16_t window) {
  peer_window_ = std::max<uint16_t>(window, 1);
  // Appendix A: slow start runs up to the peer's window.
  ssthresh_ = peer_window_;
  cwnd_ = std::min(cwnd_, peer_window_);
}

uint16_t Transport::send_window() const { return std::max<uint16_t>(1, std::min(cwnd_, peer_window_)); }

bool Transport::send(uint16_t session_id, std::span<const uint8_t> avps, TimePoint now) {
  if (failed_) return false;
  if (pending_.size() >= config_.max_pending) {
    ++counters_.refused;
    return false;
  }
  Outgoing m;
  m.ns = next_ns_++;
  const wire::Header h = wire::control_header(peer_tunnel_id_, session_id, m.ns, 0);
  m.datagram.resize(wire::encoded_header_size(h) + avps.size());
  // A control header plus at most 64 KiB of AVPs: encode_header cannot fail
  // for the sizes a ControlMessage encoder produces.
  (void)wire::encode_header(h, avps.size(), m.datagram);
  std::copy(avps.begin(), avps.end(), m.datagram.begin() + static_cast<ptrdiff_t>(wire::kControlHeaderSize));
  pending_.push_back(std::move(m));
  fill_window(now);
  return true;
}

void Transport::fill_window(TimePoint now) {
  while (!failed_ && !pending_.empty() && unacked_.size() < send_window()) {
    unacked_.push_back(std::move(pending_.front()));
    pending_.pop_front();
    Outgoing& m = unacked_.back();
    m.first_sent = now;
    ++counters_.sent;
    transmit(m, now);
    if (!retransmit_at_) arm_retransmit(now);
  }
}

void Transport::transmit(Outgoing& m, TimePoint now) {
  wire::store_be16(m.datagram.data() + kNsOffset, m.ns);
  // 5.8: every message carries the current Nr, retransmissions included:
  // it acknowledges what arrived since the first transmission.
  wire::store_be16(m.datagram.data() + kNrOffset, expected_ns_);
  m.last_sent = now;
  acked_nr_ = expected_ns_;
  ack_at_.reset();
  send_fn_(m.datagram);
}

void Transport::send_zlb(TimePoint) {
  // 5.8: a ZLB carries the Ns of the next message not yet sent, unchanged.
  const uint16_t ns = pending_.empty() ? next_ns_ : pending_.front().ns;
  uint8_t zlb[wire::kControlHeaderSize];
  (void)wire::encode_header(wire::control_header(peer_tunnel_id_, 0, ns, expected_ns_), 0, zlb);
  ++counters_.zlb_sent;
  acked_nr_ = expected_ns_;
  ack_at_.reset();
  send_fn_(zlb);
}

void Transport::flush_ack(TimePoint now) {
  if (!failed_ && acked_nr_ != expected_ns_) send_zlb(now);
}

void Transport::arm_retransmit(TimePoint now) {
  // 5.8: exponential backoff, capped.
  Duration timeout = rto_;
  for (unsigned i = 0; i < backoff_ && timeout < config_.max_rto; ++i) timeout *= 2;
  retransmit_at_ = now + std::min(timeout, config_.max_rto);
}

void Transport::sample_rtt(Duration rtt) {
  ++counters_.rtt_samples;
  if (!config_.adaptive_rto) return;
  // Jacobson's estimator (RFC 6298 constants): SRTT, RTTVAR, RTO = SRTT + 4 RTTVAR.
  if (!have_rtt_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    have_rtt_ = true;
  } else {
    rttvar_ = (3 * rttvar_ + abs_diff(srtt_, rtt)) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
  }
  rto_ = std::clamp(srtt_ + 4 * rttvar_, config_.min_rto, config_.max_rto);
}

void Transport::acknowledge_upto(uint16_t nr, TimePoint now) {
  // Nr may acknowledge up to the last Ns transmitted, no further.
  const uint16_t sent_end = unacked_.empty() ? (pending_.empty() ? next_ns_ : pending_.front().ns)
                                             : static_cast<uint16_t>(unacked_.back().ns + 1);
  if (seq_before(sent_end, nr)) {
    ++counters_.bad_nr;
    return;
  }
  unsigned acked = 0;
  std::optional<Duration> rtt;
  while (!unacked_.empty() && seq_before(unacked_.front().ns, nr)) {
    const Outgoing& m = unacked_.front();
    // Karn: a retransmitted message gives no sample (which copy was acked?).
    // Nor does one sent before the last retransmission: it may have waited
    // in the peer's out-of-order queue for the gap to fill, and counting
    // that wait would inflate the timeout on every loss.
    if (m.retries == 0 && m.first_sent >= last_retransmission_) rtt = now - m.first_sent;
    unacked_.pop_front();
    ++acked;
  }
  if (acked == 0) return;
  if (rtt) sample_rtt(*rtt);  // one sample per acknowledgement, the newest
  // Appendix A: slow start grows the window by one per acknowledged
  // message, congestion avoidance by one per window's worth.
  for (unsigned i = 0; i < acked; ++i) {
    if (cwnd_ < ssthresh_) {
      ++cwnd_;
    } else if (++acked_in_avoidance_ >= cwnd_) {
      ++cwnd_;
      acked_in_avoidance_ = 0;
    }
  }
  cwnd_ = std::min(cwnd_, peer_window_);
  backoff_ = 0;
  retransmit_at_.reset();
  if (!unacked_.empty()) arm_retransmit(now);
  fill_window(now);
}

void Transport::receive(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now) {
  if (failed_) return;
  last_received_ = now;
  acknowledge_upto(header.nr, now);
  if (avps.empty()) {
    ++counters_.zlb_received;  // 5.8: a ZLB takes no sequence number
    return;
  }
  const uint16_t ns = header.ns;
  if (ns == expected_ns_) {
    ++expected_ns_;
    ++counters_.received;
    deliver_fn_(header, avps);
    // Messages held ahead of the gap this one filled.
    for (bool more = true; more && !failed_;) {
      more = false;
      for (size_t i = 0; i < held_.size(); ++i) {
        if (held_[i].ns != expected_ns_) continue;
        Held h = std::move(held_[i]);
        held_.erase(held_.begin() + static_cast<ptrdiff_t>(i));
        ++expected_ns_;
        ++counters_.received;
        deliver_fn_(h.header, h.avps);
        more = true;
        break;
      }
    }
    // If no answer carried the acknowledgement, a ZLB will (5.8): after the
    // ack delay, or at once when half of our Receive Window waits for it.
    // The peer may have no more than our window outstanding, so a burst
    // (a LAC placing hundreds of calls after a restart: ICCNs, which get no
    // answer) would otherwise stall for the delay every window's worth.
    if (acked_nr_ != expected_ns_) {
      const uint16_t owed = static_cast<uint16_t>(expected_ns_ - acked_nr_);
      if (owed >= std::max<uint16_t>(1, config_.receive_window / 2)) {
        ++counters_.zlb_window_half;
        send_zlb(now);
      } else if (!ack_at_) {
        ack_at_ = now + config_.ack_delay;
      }
    }
    return;
  }
  if (seq_before(ns, expected_ns_)) {
    // Our acknowledgement was lost: the peer retransmitted. Drop and
    // acknowledge at once so it stops (5.8).
    ++counters_.duplicates;
    send_zlb(now);
    return;
  }
  if (static_cast<uint16_t>(ns - expected_ns_) >= config_.receive_window) {
    ++counters_.outside_window;
    return;
  }
  for (const Held& h : held_) {
    if (h.ns == ns) {
      ++counters_.duplicates;
      return;
    }
  }
  ++counters_.out_of_order;
  held_.push_back(Held{ns, header, std::vector<uint8_t>(avps.begin(), avps.end())});
  if (!ack_at_) ack_at_ = now + config_.ack_delay;
}

void Transport::on_timer(TimePoint now) {
  if (failed_) return;
  if (retransmit_at_ && now >= *retransmit_at_ && !unacked_.empty()) {
    Outgoing& m = unacked_.front();
    if (m.retries >= config_.max_retries) {
      // 5.8: the peer is unreachable; the tunnel and its sessions go.
      failed_ = true;
      retransmit_at_.reset();
      ack_at_.reset();
      return;
    }
    ++m.retries;
    ++counters_.retransmitted;
    last_retransmission_ = now;
    // Appendix A: a lost message halves the threshold, slow start again.
    ssthresh_ = std::max<uint16_t>(1, cwnd_ / 2);
    cwnd_ = 1;
    acked_in_avoidance_ = 0;
    ++backoff_;
    transmit(m, now);
    arm_retransmit(now);
  }
  if (ack_at_ && now >= *ack_at_) send_zlb(now);
}

std::optional<TimePoint> Transport::next_deadline() const {
  if (failed_) return std::nullopt;
  if (retransmit_at_ && ack_at_) return std::min(*retransmit_at_, *ack_at_);
  return retransmit_at_ ? retransmit_at_ : ack_at_;
}

}  // namespace l2tp::control
