#include "dataplane/reorder.hpp"

#include <algorithm>
#include <stdexcept>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "shared/header.hpp"

namespace l2tp::dp {

namespace {

// Room in the FIFO beyond everything that can be held: the packets that
// arrive in order behind released ones before the worker drains it (one
// burst per poll, several with a handoff ring).
constexpr uint32_t kArrivalsPerDrain = 256;

template <class T>
T* allocate(size_t n, int socket_id) {
  void* p = rte_zmalloc_socket("l2tp_reorder", sizeof(T) * std::max<size_t>(n, 1), RTE_CACHE_LINE_SIZE, socket_id);
  if (p == nullptr) throw std::runtime_error("reorder: no memory for the context pool");
  return static_cast<T*>(p);
}

}  // namespace

Reorder::Reorder(const ReorderConfig& config, const SessionTable& table, uint16_t worker, WorkerCounters& counters,
                 uint64_t tsc_hz, int socket_id)
    : table_(table),
      counters_(counters),
      worker_(worker),
      window_(std::min(config.window, kMaxReorderWindow)),
      // SessionState::reorder_ctx names a context in 16 bits.
      n_contexts_(window_ == 0 ? 0 : std::min<uint32_t>(config.contexts, UINT16_MAX)) {
  while (cap_ < window_) cap_ <<= 1;
  mask_ = cap_ - 1;
  timeout_tsc_ = (tsc_hz + 999999) / 1000000 * config.timeout_us;
  ready_cap_ = n_contexts_ * window_ + kArrivalsPerDrain;
  try {
    contexts_ = allocate<Context>(n_contexts_, socket_id);
    slots_ = allocate<rte_mbuf*>(size_t{n_contexts_} * cap_, socket_id);
    arrivals_ = allocate<uint64_t>(size_t{n_contexts_} * cap_, socket_id);
    free_ = allocate<uint32_t>(n_contexts_, socket_id);
    busy_ = allocate<uint32_t>(n_contexts_, socket_id);
    ready_ = allocate<rte_mbuf*>(ready_cap_, socket_id);
  } catch (...) {
    for (void* p : {static_cast<void*>(contexts_), static_cast<void*>(slots_), static_cast<void*>(arrivals_),
                    static_cast<void*>(free_), static_cast<void*>(busy_), static_cast<void*>(ready_)})
      rte_free(p);
    throw;
  }
  for (uint32_t i = 0; i < n_contexts_; ++i) {
    new (&contexts_[i]) Context{};
    free_[free_count_++] = n_contexts_ - 1 - i;  // context 0 on top
  }
}

Reorder::~Reorder() {
  while (busy_count_ != 0) {
    Context* c = &contexts_[busy_[busy_count_ - 1]];
    free_held(c);
    drop_context(c);
  }
  for (; ready_count_ != 0; --ready_count_) {
    rte_pktmbuf_free(ready_[ready_head_]);
    ready_head_ = (ready_head_ + 1) % ready_cap_;
    counters_.count(Drop::kReorderFlushed);
  }
  rte_free(contexts_);
  rte_free(slots_);
  rte_free(arrivals_);
  rte_free(free_);
  rte_free(busy_);
  rte_free(ready_);
}

Reorder::Context* Reorder::context_of(const SessionState& st, uint16_t id) {
  if (st.reorder_ctx == 0) return nullptr;
  const uint32_t i = st.reorder_ctx - 1u;
  // The state may name a context of another worker's pool (the session
  // changed owner) or one that was given up: ours only when it says so.
  if (i >= n_contexts_ || contexts_[i].held == 0 || contexts_[i].session != id) return nullptr;
  return &contexts_[i];
}

Reorder::Context* Reorder::take_context(uint16_t id, SessionState& st) {
  if (free_count_ == 0) return nullptr;
  const uint32_t i = free_[--free_count_];
  Context* c = &contexts_[i];
  c->session = id;
  c->held = 0;
  c->deadline = UINT64_MAX;
  c->busy_at = busy_count_;
  busy_[busy_count_++] = i;
  st.reorder_ctx = static_cast<uint16_t>(i + 1);
  return c;
}

// The context goes back to the pool; the session's state is not touched
// (it may belong to a new session by now: the caller clears it when not).
void Reorder::drop_context(Context* c) {
  const uint32_t i = index(c);
  const uint32_t last = busy_[--busy_count_];
  busy_[c->busy_at] = last;
  contexts_[last].busy_at = c->busy_at;
  c->held = 0;
  free_[free_count_++] = i;
}

void Reorder::push(rte_mbuf* m) {
  if (ready_count_ == ready_cap_) {
    // Only when the caller admits more than kArrivalsPerDrain packets
    // without draining: freed, counted, never overwritten.
    counters_.count(Drop::kReorderFlushed);
    rte_pktmbuf_free(m);
    return;
  }
  ready_[(ready_head_ + ready_count_) % ready_cap_] = m;
  ++ready_count_;
}

// In order: straight on, unless released packets wait in the FIFO (one of
// them may be this session's predecessor).
inline Reorder::Admit Reorder::deliver(rte_mbuf* m) {
  if (ready_count_ == 0) return Admit::kNow;
  push(m);
  return Admit::kLater;
}

void Reorder::release_in_order(Context* c, SessionState& st) {
  while (c->held != 0) {
    rte_mbuf*& s = slot(c, st.rx_expected_ns);
    if (s == nullptr) break;
    push(s);
    s = nullptr;
    --c->held;
    --held_total_;
    ++counters_.reordered;
    ++st.rx_expected_ns;
  }
}

void Reorder::release_all(Context* c, SessionState& st) {
  // Everything held lies within the window after the expected Ns.
  const uint16_t from = st.rx_expected_ns;
  for (uint32_t d = 1; c->held != 0 && d <= window_; ++d) {
    rte_mbuf*& s = slot(c, static_cast<uint16_t>(from + d));
    if (s == nullptr) continue;
    push(s);
    s = nullptr;
    --c->held;
    --held_total_;
    ++counters_.reordered;
  }
}

// The head gap is given up: the expectation moves to the first held
// packet, which goes out with its consecutive successors.
void Reorder::skip_head_gap(Context* c, SessionState& st) {
  for (uint32_t d = 1; d <= window_; ++d) {
    const auto ns = static_cast<uint16_t>(st.rx_expected_ns + d);
    if (slot(c, ns) != nullptr) {
      st.rx_expected_ns = ns;
      ++counters_.reorder_gaps;
      release_in_order(c, st);
      return;
    }
  }
  // Held packets lie within the window after the expectation; were one
  // not to, it would never be found: freed rather than held forever.
  free_held(c);
}

// After a release: the context goes back when empty, else its deadline
// follows the oldest packet still held.
void Reorder::settle(Context* c, SessionState& st) {
  if (c->held == 0) {
    st.reorder_ctx = 0;
    drop_context(c);
    return;
  }
  uint64_t oldest = UINT64_MAX;
  for (uint32_t d = 1; d <= window_; ++d) {
    const auto ns = static_cast<uint16_t>(st.rx_expected_ns + d);
    if (slot(c, ns) != nullptr) oldest = std::min(oldest, arrival(c, ns));
  }
  c->deadline = oldest + timeout_tsc_;
  next_deadline_ = std::min(next_deadline_, c->deadline);
}

void Reorder::free_held(Context* c) {
  for (uint32_t k = 0; k < cap_ && c->held != 0; ++k) {
    rte_mbuf*& s = slots_[index(c) * cap_ + k];
    if (s == nullptr) continue;
    rte_pktmbuf_free(s);
    s = nullptr;
    --c->held;
    --held_total_;
    counters_.count(Drop::kReorderFlushed);
  }
}

Reorder::Admit Reorder::admit(rte_mbuf* m, const Session& s, uint16_t ns, uint64_t now) {
  if (s.owner_worker != worker_) return Admit::kNow;
  const uint16_t id = s.local_session_id;
  SessionState& st = table_.state(id);
  if (!st.rx_sequenced) {
    // RFC 2661 3.1: Ns begins at zero. A first Ns within the window of 0
    // most likely overtook its predecessors: wait for them (a timeout at
    // most). Anything else (sequencing turned on later) starts here.
    st.rx_sequenced = true;
    st.rx_expected_ns = (ns == 0 || ns > window_) ? static_cast<uint16_t>(ns + 1) : 0;
    if (ns == 0 || ns > window_) return deliver(m);
  }
  const auto ahead = static_cast<uint16_t>(ns - st.rx_expected_ns);
  if (ahead != 0 && wire::seq_before(ns, st.rx_expected_ns)) return Admit::kStale;

  Context* c = context_of(st, id);
  if (ahead == 0) {
    st.rx_expected_ns = static_cast<uint16_t>(ns + 1);
    if (c == nullptr || slot(c, st.rx_expected_ns) == nullptr) return deliver(m);
    push(m);  // its successors follow it out
    release_in_order(c, st);
    settle(c, st);
    return Admit::kLater;
  }

  if (ahead <= window_) {
    if (c == nullptr) c = take_context(id, st);
    if (c != nullptr) {
      rte_mbuf*& held = slot(c, ns);
      if (held != nullptr) return Admit::kStale;  // a duplicate of one held
      held = m;
      arrival(c, ns) = now;
      ++held_total_;
      if (c->held++ == 0) {
        c->deadline = now + timeout_tsc_;
        next_deadline_ = std::min(next_deadline_, c->deadline);
      }
      return Admit::kLater;
    }
    ++counters_.reorder_no_context;  // the pool is empty: out of order
  }

  // Beyond the window (or nowhere to hold it): the gap is a loss. What is
  // held goes first, in order, then this one.
  ++counters_.reorder_gaps;
  if (c != nullptr) {
    release_all(c, st);
    settle(c, st);
  }
  st.rx_expected_ns = static_cast<uint16_t>(ns + 1);
  return deliver(m);
}

uint16_t Reorder::take_ready(rte_mbuf** out, uint16_t max) {
  uint16_t n = 0;
  for (; n < max && ready_count_ != 0; ++n, --ready_count_) {
    out[n] = ready_[ready_head_];
    ready_head_ = (ready_head_ + 1) % ready_cap_;
  }
  return n;
}

void Reorder::expire(uint64_t now) {
  if (busy_count_ == 0 || now < next_deadline_) return;
  next_deadline_ = UINT64_MAX;
  for (uint32_t k = 0; k < busy_count_;) {
    Context* c = &contexts_[busy_[k]];
    const Session* s = table_.by_session_id(c->session);
    SessionState& st = table_.state(c->session);
    // Withdrawn, republished afresh (the table reset its state) or handed
    // to another worker: what it holds has nowhere to go.
    if (s == nullptr || s->owner_worker != worker_ || st.reorder_ctx != index(c) + 1) {
      free_held(c);
      drop_context(c);  // busy_[k] is another context now
      continue;
    }
    while (c->held != 0 && c->deadline <= now) {
      skip_head_gap(c, st);
      if (c->held == 0) break;
      settle(c, st);
    }
    if (c->held == 0) {
      st.reorder_ctx = 0;
      drop_context(c);
      continue;
    }
    next_deadline_ = std::min(next_deadline_, c->deadline);
    ++k;
  }
}

}  // namespace l2tp::dp
