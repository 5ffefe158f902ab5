#pragma once
// Allocator of our local 16-bit IDs: one IdPool for tunnel IDs, one for the
// box's session IDs (unique across all tunnels, so the data plane finds a
// session by `table[session_id]` and then checks tunnel ID, peer address and
// port: DESIGN.md "Packet paths").
//
// - ID 0 is never handed out: RFC 2661 3.1 reserves Tunnel ID 0 (an SCCRQ
//   goes to it) and Session ID 0 (messages for the tunnel itself).
// - IDs are drawn at random from the free ones: an off-path attacker cannot
//   guess the next ID from the last one seen, and live IDs spread over the
//   whole direct-indexed table. The generator is std::mt19937_64 seeded by the
//   caller (the daemon from std::random_device, tests with a constant). It is
//   not a cryptographic generator; it only has to make IDs unguessable to a
//   peer that never sees them. The data plane's check of tunnel, address and
//   port is what actually rejects a stray packet.
// - A freed ID waits in quarantine for the hold time before it can be handed
//   out again, so a late or retransmitted message for the old owner (RFC 2661
//   5.7: StopCCN state is held one full retransmission cycle, 31 s with the
//   5.8 defaults; the same reasoning holds for a CDN) never reaches a new
//   owner. Quarantine is released lazily, oldest first, by allocate(),
//   free(), available() and expire().
// - At most `capacity` IDs are live at once (the box limits).
//
// Exhaustion policy: when no ID is free except those still in quarantine,
// allocate() REFUSES (returns nullopt, counts refusals_quarantine); it never
// cuts a quarantine short. A refusal is recoverable: the caller answers with
// a CDN "no facilities, temporary" (result 4) or a StopCCN general error with
// error code 4 "insufficient resources now" (RFC 2661 4.4.2) and the peer
// tries again later, by which time the oldest quarantined ID has come out.
// A packet delivered to the wrong subscriber's session is not recoverable.
//
// Cost: allocate() and free() are O(1) apart from releasing quarantine that
// has come due, which is amortised O(1) (each ID enters and leaves the queue
// once per free). Memory is allocated once in the constructor, about 1.2 MB
// whatever the capacity: a free array of 65535 IDs (random index, swap with
// the last, pop), a FIFO ring of 65535 (release time, ID) and a state byte
// per ID (double-free detection). Nothing allocates after construction and
// nothing throws. Not thread-safe: the control thread owns it (DESIGN.md).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace l2tp::control {

// The control plane's time types (same aliases as control/transport.hpp).
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

struct IdPoolCounters {
  uint64_t allocations = 0;          // IDs handed out
  uint64_t frees = 0;                // live IDs put into quarantine
  uint64_t refusals = 0;             // allocate() returned nullopt, any reason
  uint64_t refusals_quarantine = 0;  // of which: below capacity, but every
                                     // free ID was still in quarantine
  uint64_t double_frees = 0;         // free() of an ID not live (0, free,
                                     // quarantined): ignored
};

class IdPool {
 public:
  static constexpr uint32_t kMaxIds = 65535;  // 1..65535; 0 is reserved (3.1)

  // hold_time: how long a freed ID stays in quarantine (negative counts as 0).
  // capacity: the most IDs live at once, clamped to kMaxIds.
  // seed: the random generator's seed.
  IdPool(Duration hold_time, uint32_t capacity, uint64_t seed);

  IdPool(const IdPool&) = delete;
  IdPool& operator=(const IdPool&) = delete;

  // A random free ID, now live; nullopt when capacity IDs are live, or when
  // every other ID is in quarantine (the exhaustion policy above).
  std::optional<uint16_t> allocate(TimePoint now);

  // Puts a live ID into quarantine until now + hold_time. False, counted in
  // double_frees and with no other effect, when id is not live.
  bool free(uint16_t id, TimePoint now);

  // Releases every quarantined ID whose hold has ended (release time <= now),
  // oldest first; returns how many. The queue is FIFO: if a caller's clock
  // ever went backwards, a later entry waits behind an earlier one, which
  // only lengthens its quarantine.
  size_t expire(TimePoint now);

  // How many allocate(now) calls would succeed from here if nothing is freed
  // (releases due quarantine first).
  size_t available(TimePoint now);

  bool is_live(uint16_t id) const { return state_[id] == State::kLive; }
  bool is_quarantined(uint16_t id) const { return state_[id] == State::kQuarantined; }
  size_t live() const { return live_; }
  size_t quarantined() const { return quarantine_count_; }
  // Free and out of quarantine (capacity aside): live + free + quarantined
  // is always kMaxIds.
  size_t free_count() const { return free_count_; }
  // When the oldest quarantined ID comes out; nullopt when none is held.
  std::optional<TimePoint> next_release() const;

  uint32_t capacity() const { return capacity_; }
  Duration hold_time() const { return hold_time_; }
  const IdPoolCounters& counters() const { return counters_; }

  // Walks the whole state (O(65535)); for tests and debug builds. nullptr
  // when every invariant holds, else a static string naming the broken one.
  const char* check_invariants() const;

 private:
  enum class State : uint8_t { kFree, kLive, kQuarantined };
  struct Held {
    TimePoint release;
    uint16_t id;
  };

  // Uniform in [0, n), n <= kMaxIds: the top 32 bits of one draw scaled to
  // n (multiply-shift; the bias, below n / 2^32, is irrelevant here). Written
  // out rather than std::uniform_int_distribution so a seed gives the same
  // IDs with every standard library.
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(((rng_() >> 32) * n) >> 32); }

  Duration hold_time_;
  uint32_t capacity_;
  std::mt19937_64 rng_;
  IdPoolCounters counters_;

  std::vector<State> state_;         // kMaxIds + 1, indexed by ID; [0] never changes
  std::vector<uint16_t> free_;       // kMaxIds; [0, free_count_) are the free IDs
  std::vector<Held> quarantine_;     // kMaxIds, a ring in release order
  uint32_t free_count_ = 0;
  uint32_t quarantine_head_ = 0;     // oldest entry
  uint32_t quarantine_count_ = 0;
  uint32_t live_ = 0;
};

}  // namespace l2tp::control
