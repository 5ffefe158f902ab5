#pragma once
// Receive-side sequencing of data messages (RFC 2661 5.4): a peer that sets
// S numbers its data messages of a session with Ns, and "the receiver uses
// the sequence numbers to detect lost packets and/or restore the original
// sequence of packets that may have been reordered during transport". The
// socket-mode control path only drops what is late (control/engine.cpp,
// data_stale); here a worker also puts swapped packets back in order.
//
// Rules, per session, on the owner worker only:
// - The first sequenced message sets the expectation (E = Ns + 1), unless
//   its Ns is 1..window: Ns begins at 0 (RFC 2661 3.1), so it is held as
//   if 0 were expected (its predecessors were overtaken).
// - Ns == E: delivered, then every held successor that is now in order.
// - Ns behind E (modulo 2^16, RFC 2661 5.8's comparison: the 32767 values
//   before E): late or duplicated, a counted drop (Drop::kSeqStale), as in
//   socket mode. A duplicate of a held packet is the same drop.
// - Ns ahead by 1..window: held in the session's reorder context.
// - Ns ahead by more than the window: what is held goes out in order, the
//   gap is skipped (a loss, counted) and the packet follows.
// - A gap older than the timeout (from the arrival of the oldest packet
//   held behind it) is skipped: held packets go out in order up to the
//   next gap.
// - window 0: nothing is held; ahead is delivered at once (a gap is a
//   loss), behind is dropped: the socket-mode rules.
// Every data message with S counts, whatever its PPP protocol: an LCP or
// IPCP frame the worker punts to the control thread consumes an Ns, so it
// goes through the same order (and then to the control ring).
//
// Memory: most sessions never reorder, so a session owns no buffer; a
// worker has a fixed pool of contexts (window slots each) taken by the
// first packet a session must hold and returned when the session holds
// none. When the pool is empty the packet is delivered out of order (the
// gap is counted skipped, and reorder_no_context counts it). Held packets
// are released through a FIFO that the worker drains and classifies again
// (the Session they were classified with may be gone by then); the FIFO's
// size bounds what can ever be in it, so nothing allocates per packet.
//
// The expectation lives in SessionState (rx_expected_ns, per session ID,
// one writer), so a republished session (IPCP up) keeps it and a new
// session under a withdrawn ID starts afresh (the table resets the state).
// A context whose session was withdrawn, republished afresh or handed to
// another worker is found out when its timeout comes: its packets are
// freed and counted (Drop::kReorderFlushed), as are those held when the
// worker is destroyed.

#include <cstdint>

#include "dataplane/counters.hpp"
#include "dataplane/session_table.hpp"

struct rte_mbuf;

namespace l2tp::dp {

struct ReorderConfig {
  // How far ahead of the expected Ns a packet may be held (0: never).
  uint16_t window = 16;
  // How long a gap may stay open, in microseconds.
  uint32_t timeout_us = 10000;
  // Sessions that can hold packets at once, per worker.
  uint32_t contexts = 64;
};
inline constexpr uint16_t kMaxReorderWindow = 256;

class Reorder {
 public:
  enum class Admit : uint8_t {
    kNow,    // in order: the caller processes it as classified
    kLater,  // held or queued behind released packets: take_ready() gives it back
    kStale,  // late or duplicated: the caller counts Drop::kSeqStale and frees it
  };

  // Allocates the pool on socket_id (throws std::runtime_error; start-up).
  // counters are the worker's; worker is its ID (owner_worker).
  Reorder(const ReorderConfig& config, const SessionTable& table, uint16_t worker, WorkerCounters& counters,
          uint64_t tsc_hz, int socket_id);
  ~Reorder();  // frees what is held or queued, counted
  Reorder(const Reorder&) = delete;
  Reorder& operator=(const Reorder&) = delete;

  // A data message with S set, Ns ns, of session s (known to the table,
  // loaded this turn), received at TSC now. Messages of sessions another
  // worker owns are kNow, untouched (their state is not ours to write):
  // fast-path data is handed to the owner, which admits it there, but a
  // PPP control frame received by another worker goes to the control
  // thread from there, out of the owner's sequence (a NIC hashing on the
  // Session ID keeps every frame of a session on its owner).
  Admit admit(rte_mbuf* m, const Session& s, uint16_t ns, uint64_t now);

  // Packets now due, oldest first, at most max; 0 when none.
  uint16_t take_ready(rte_mbuf** out, uint16_t max);

  // Skips gaps older than the timeout and frees the packets of contexts
  // whose session is gone. Cheap when nothing is due (one comparison).
  void expire(uint64_t now);

  // Something is held or queued (expire() or take_ready() has work).
  bool busy() const { return busy_count_ != 0 || ready_count_ != 0; }
  uint32_t held() const { return held_total_; }
  uint32_t contexts_in_use() const { return busy_count_; }

 private:
  struct Context {
    uint64_t deadline = 0;  // TSC: the head gap is skipped then
    uint16_t session = 0;   // local session ID
    uint16_t held = 0;      // packets in the slots
    uint32_t busy_at = 0;   // index in busy_
  };

  Context* context_of(const SessionState& st, uint16_t id);
  Context* take_context(uint16_t id, SessionState& st);
  void drop_context(Context* c);
  rte_mbuf*& slot(const Context* c, uint16_t ns) { return slots_[index(c) * cap_ + (ns & mask_)]; }
  uint64_t& arrival(const Context* c, uint16_t ns) { return arrivals_[index(c) * cap_ + (ns & mask_)]; }
  uint32_t index(const Context* c) const { return static_cast<uint32_t>(c - contexts_); }
  Admit deliver(rte_mbuf* m);
  void push(rte_mbuf* m);
  // Queues the consecutive held packets from st.rx_expected_ns on.
  void release_in_order(Context* c, SessionState& st);
  // Queues everything held, in Ns order (the caller moves the expectation).
  void release_all(Context* c, SessionState& st);
  void skip_head_gap(Context* c, SessionState& st);
  void settle(Context* c, SessionState& st);
  void free_held(Context* c);

  const SessionTable& table_;
  WorkerCounters& counters_;
  const uint16_t worker_;
  const uint16_t window_;
  uint32_t cap_ = 1;  // slots per context: a power of two >= window
  uint32_t mask_ = 0;
  uint64_t timeout_tsc_ = 0;
  uint32_t n_contexts_ = 0;

  Context* contexts_ = nullptr;
  rte_mbuf** slots_ = nullptr;  // n_contexts_ * cap_
  uint64_t* arrivals_ = nullptr;
  uint32_t* free_ = nullptr;  // stack of free context indices
  uint32_t free_count_ = 0;
  uint32_t* busy_ = nullptr;  // contexts holding packets
  uint32_t busy_count_ = 0;
  uint64_t next_deadline_ = UINT64_MAX;
  uint32_t held_total_ = 0;

  // Released packets, FIFO: at most everything held plus one burst that
  // arrives in order behind them.
  rte_mbuf** ready_ = nullptr;
  uint32_t ready_cap_ = 0;
  uint32_t ready_head_ = 0;
  uint32_t ready_count_ = 0;
};

}  // namespace l2tp::dp
