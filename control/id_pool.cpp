#include "control/id_pool.hpp"

#include <algorithm>

namespace l2tp::control {

IdPool::IdPool(Duration hold_time, uint32_t capacity, uint64_t seed)
    : hold_time_(std::max(hold_time, Duration::zero())),
      capacity_(std::min(capacity, kMaxIds)),
      rng_(seed),
      state_(kMaxIds + 1, State::kFree),
      free_(kMaxIds),
      quarantine_(kMaxIds) {
  // Every ID but 0 starts free. Their order does not matter: allocate()
  // picks a random index, so the first IDs handed out are random too.
  for (uint32_t i = 0; i < kMaxIds; ++i) free_[i] = static_cast<uint16_t>(i + 1);
  free_count_ = kMaxIds;
}

std::optional<uint16_t> IdPool::allocate(TimePoint now) {
  expire(now);
  if (live_ >= capacity_ || free_count_ == 0) {
    // Exhaustion policy (header): below capacity with nothing free means
    // every remaining ID is in quarantine. Refuse; never reuse one early.
    ++counters_.refusals;
    if (live_ < capacity_) ++counters_.refusals_quarantine;
    return std::nullopt;
  }
  // Random index among the free IDs; the last free ID takes its slot.
  const uint32_t i = pick(free_count_);
  const uint16_t id = free_[i];
  free_[i] = free_[--free_count_];
  state_[id] = State::kLive;
  ++live_;
  ++counters_.allocations;
  return id;
}

bool IdPool::free(uint16_t id, TimePoint now) {
  expire(now);
  // 0 is never live (its state stays kFree), so it lands here too.
  if (state_[id] != State::kLive) {
    ++counters_.double_frees;
    return false;
  }
  // live + free + quarantined == kMaxIds, so the ring (kMaxIds slots) always
  // has room for an ID that was live.
  uint32_t tail = quarantine_head_ + quarantine_count_;
  if (tail >= kMaxIds) tail -= kMaxIds;
  quarantine_[tail] = Held{now + hold_time_, id};
  ++quarantine_count_;
  state_[id] = State::kQuarantined;
  --live_;
  ++counters_.frees;
  return true;
}

size_t IdPool::expire(TimePoint now) {
  size_t released = 0;
  while (quarantine_count_ != 0 && quarantine_[quarantine_head_].release <= now) {
    const uint16_t id = quarantine_[quarantine_head_].id;
    if (++quarantine_head_ == kMaxIds) quarantine_head_ = 0;
    --quarantine_count_;
    state_[id] = State::kFree;
    free_[free_count_++] = id;
    ++released;
  }
  return released;
}

size_t IdPool::available(TimePoint now) {
  expire(now);
  const uint32_t headroom = live_ < capacity_ ? capacity_ - live_ : 0;
  return std::min(headroom, free_count_);
}

std::optional<TimePoint> IdPool::next_release() const {
  if (quarantine_count_ == 0) return std::nullopt;
  return quarantine_[quarantine_head_].release;
}

const char* IdPool::check_invariants() const {
  if (state_[0] != State::kFree) return "ID 0 changed state";
  if (static_cast<uint64_t>(live_) + free_count_ + quarantine_count_ != kMaxIds)
    return "live + free + quarantined != 65535";
  if (live_ > capacity_) return "more IDs live than capacity";
  if (counters_.allocations - counters_.frees != live_) return "allocations - frees != live";

  // Each free slot and each quarantine entry names a distinct ID in the
  // matching state; with the sum above, every other ID must then be live.
  std::vector<uint8_t> seen(kMaxIds + 1, 0);
  for (uint32_t i = 0; i < free_count_; ++i) {
    const uint16_t id = free_[i];
    if (id == 0) return "ID 0 in the free array";
    if (seen[id]++) return "ID twice in the free array or quarantine";
    if (state_[id] != State::kFree) return "ID in the free array not in state free";
  }
  uint32_t slot = quarantine_head_;
  for (uint32_t n = 0; n < quarantine_count_; ++n) {
    const uint16_t id = quarantine_[slot].id;
    if (id == 0) return "ID 0 in quarantine";
    if (seen[id]++) return "ID twice in the free array or quarantine";
    if (state_[id] != State::kQuarantined) return "ID in quarantine not in state quarantined";
    if (++slot == kMaxIds) slot = 0;
  }
  uint32_t live = 0;
  for (uint32_t id = 1; id <= kMaxIds; ++id) {
    if (state_[id] == State::kLive) {
      ++live;
      if (seen[id]) return "live ID also free or quarantined";
    } else if (!seen[id]) {
      return "ID neither live, free nor quarantined";
    }
  }
  if (live != live_) return "live count disagrees with the state bytes";
  return nullptr;
}

}  // namespace l2tp::control
