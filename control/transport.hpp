#pragma once
// Reliable delivery of control messages on one tunnel (RFC 2661 5.8 and
// Appendix A): Ns/Nr sequencing, acknowledgement by ZLB (delayed) or by the
// Nr of any message going out anyway, retransmission with exponential
// backoff up to a cap and a retry limit, the peer's Receive Window, slow
// start and congestion avoidance, an adaptive retransmission timeout
// (Jacobson/Karn) and an out-of-order queue inside our own window.
//
// Time is an argument: the transport never reads a clock, so tests run it
// on simulated time and a simulated network. The tunnel owns one Transport;
// the event loop calls on_timer() at next_deadline().

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "shared/header.hpp"

namespace l2tp::control {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using namespace std::chrono_literals;

struct TransportConfig {
  // Our Receive Window Size (advertised in SCCRQ/SCCRP): how many messages
  // beyond the next expected one we queue out of order.
  uint16_t receive_window = 16;
  // 5.8: retransmissions of one message before the tunnel is given up
  // (xl2tpd's "max retries", default 5).
  unsigned max_retries = 5;
  // 5.8: the first retransmission after 1 s; each further one doubles the
  // interval, capped (the RFC asks for a cap of no less than 8 s).
  Duration initial_rto = 1s;
  Duration min_rto = 250ms;  // floor of the adaptive timeout
  Duration max_rto = 8s;
  bool adaptive_rto = true;  // Appendix A: measured round trips set the timeout
  // 5.8: how long an acknowledgement may wait for a message to ride on
  // before a ZLB carries it alone.
  Duration ack_delay = 100ms;
  // Messages accepted by send() but not yet allowed out by the windows;
  // past this, send() refuses (the caller tears down: memory stays bounded).
  size_t max_pending = 1024;
};

struct TransportCounters {
  uint64_t sent = 0;             // first transmissions
  uint64_t retransmitted = 0;
  uint64_t zlb_sent = 0;
  uint64_t zlb_window_half = 0;  // of those, sent at once: half our window awaited an ack
  uint64_t received = 0;         // messages with AVPs, accepted in order
  uint64_t zlb_received = 0;
  uint64_t duplicates = 0;       // already delivered: dropped, re-acknowledged
  uint64_t out_of_order = 0;     // queued ahead of a gap
  uint64_t outside_window = 0;   // too far ahead: dropped
  uint64_t bad_nr = 0;           // acknowledges what we never sent: ignored
  uint64_t refused = 0;          // send() over max_pending
  uint64_t rtt_samples = 0;
};

class Transport {
 public:
  // Sends one datagram (an L2TP control message, header included).
  using SendFn = std::function<void(std::span<const uint8_t>)>;
  // Delivers one message, in order, exactly once. It may call send() (an
  // answer then carries the acknowledgement); it must not destroy the
  // Transport.
  using DeliverFn = std::function<void(const wire::Header&, std::span<const uint8_t> avps)>;

  Transport(const TransportConfig& config, SendFn send, DeliverFn deliver);

  // Header Tunnel ID of messages queued from now on (0 until the peer's
  // Assigned Tunnel ID is known: an SCCRQ goes to tunnel 0, 3.1).
  void set_peer_tunnel_id(uint16_t id) { peer_tunnel_id_ = id; }
  // 5.8: the peer's Receive Window Size AVP (4 when absent).
  void set_peer_window(uint16_t window);

  // Queues a message (AVPs already encoded) for session_id (0: the tunnel);
  // it goes out as soon as the peer's window and the congestion window
  // allow. False when max_pending messages already wait.
  bool send(uint16_t session_id, std::span<const uint8_t> avps, TimePoint now);

  // A control message for this tunnel (header already decoded).
  void receive(const wire::Header& header, std::span<const uint8_t> avps, TimePoint now);

  // Retransmissions and delayed acknowledgements due at `now`.
  void on_timer(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  // Sends a ZLB now if an acknowledgement is owed (before a teardown).
  void flush_ack(TimePoint now);

  // A message went unacknowledged through all its retries: the tunnel must
  // be torn down (5.8). Nothing is sent any more once this is set.
  bool failed() const { return failed_; }
  // Nothing queued or unacknowledged (a StopCCN got through, Hello may go).
  bool idle() const { return unacked_.empty() && pending_.empty(); }
  size_t unacked() const { return unacked_.size(); }
  size_t pending() const { return pending_.size(); }
  TimePoint last_received() const { return last_received_; }

  uint16_t next_ns() const { return next_ns_; }
  uint16_t expected_ns() const { return expected_ns_; }
  uint16_t congestion_window() const { return cwnd_; }
  uint16_t slow_start_threshold() const { return ssthresh_; }
  uint16_t peer_window() const { return peer_window_; }
  Duration rto() const { return rto_; }
  const TransportCounters& counters() const { return counters_; }
  const TransportConfig& config() const { return config_; }

 private:
  struct Outgoing {
    std::vector<uint8_t> datagram;  // header + AVPs; Ns/Nr patched on each send
    uint16_t ns = 0;
    unsigned retries = 0;
    TimePoint first_sent{};
    TimePoint last_sent{};
  };
  struct Held {  // received ahead of a gap
    uint16_t ns;
    wire::Header header;
    std::vector<uint8_t> avps;
  };

  void transmit(Outgoing& m, TimePoint now);
  void fill_window(TimePoint now);
  void acknowledge_upto(uint16_t nr, TimePoint now);
  void sample_rtt(Duration rtt);
  void arm_retransmit(TimePoint now);
  void send_zlb(TimePoint now);
  uint16_t send_window() const;

  TransportConfig config_;
  SendFn send_fn_;
  DeliverFn deliver_fn_;
  TransportCounters counters_;

  uint16_t peer_tunnel_id_ = 0;
  uint16_t peer_window_ = 4;
  uint16_t next_ns_ = 0;      // Ns of the next new message
  uint16_t expected_ns_ = 0;  // our Nr: next Ns we expect from the peer

  std::deque<Outgoing> unacked_;   // sent, oldest first (consecutive Ns)
  std::deque<Outgoing> pending_;   // not yet sent (window closed)
  std::vector<Held> held_;         // out-of-order, at most receive_window

  // Appendix A congestion control, in messages.
  uint16_t cwnd_ = 1;
  uint16_t ssthresh_ = 4;
  uint32_t acked_in_avoidance_ = 0;

  // Adaptive timeout (Jacobson, Karn: no samples from retransmitted ones).
  Duration rto_;
  Duration srtt_{};
  Duration rttvar_{};
  bool have_rtt_ = false;
  TimePoint last_retransmission_{};
  unsigned backoff_ = 0;  // doublings applied to the oldest message's timer

  std::optional<TimePoint> retransmit_at_;
  std::optional<TimePoint> ack_at_;
  TimePoint last_received_{};
  uint16_t acked_nr_ = 0;  // the Nr we last sent: an ack is owed while != expected_ns_
  bool failed_ = false;
};

// Sequence number order modulo 2^16 (5.8): a precedes b.
using wire::seq_before;

}  // namespace l2tp::control
