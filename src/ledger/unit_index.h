// Copyright 2026 The allot Authors.
//
// Where each open unit of a ledger shard is: its fingerprint mapped to its
// position in exposure order. Open addressing with linear probing over
// 16-byte slots (the fingerprint's high half, 32 bits of its low half and
// the position), at most 5/8 full, so a slot and the run it starts are
// nearly always in the two cache lines the prefetch loads: a new unit costs
// those, and inserting it writes to them. Erasing shifts the rest
// of the run back (no tombstones, so probe runs never lengthen with churn).
// The ledger keeps the unit's record itself in exposure order and checks
// its whole fingerprint there. Not API.

#ifndef ALLOT_SRC_LEDGER_UNIT_INDEX_H_
#define ALLOT_SRC_LEDGER_UNIT_INDEX_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ledger/huge_page_allocator.h"
#include "ledger/prefetch.h"

namespace allot::internal {

class UnitIndex {
 public:
  // A fingerprint as the index keys it: the high half and 32 bits of the
  // low half (never zero, so that zero marks an empty slot).
  struct Key {
    uint64_t hi;
    uint32_t tag;
  };
  static Key KeyOf(uint64_t hi, uint64_t lo) {
    return {hi, static_cast<uint32_t>(lo) | 1u};
  }

  size_t size() const { return size_; }

  // Starts loading the cache lines a lookup of `key` reads.
  void prefetch(const Key& key) const {
    if (slots_.empty()) return;
    const Slot* home = &slots_[Home(key.hi)];
    PrefetchLine(home);
    // And the next line: a run from home (and the rest of its cluster,
    // which an erase shifts back) often goes on into it.
    PrefetchLine(home + 4);
  }

  // Calls `matches(position)` for each position held under `key` (one,
  // unless two units share 96 bits of fingerprint) until it returns true;
  // returns that position.
  template <typename Matches>
  std::optional<uint32_t> Find(const Key& key, Matches matches) const {
    if (slots_.empty()) return std::nullopt;
    for (size_t i = Home(key.hi);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return std::nullopt;
      if (s.hi == key.hi && s.tag == key.tag && matches(s.position)) {
        return s.position;
      }
    }
  }

  // Adds `key` at `position`.
  void Insert(const Key& key, uint32_t position) {
    if (8 * (size_ + 1) > 5 * slots_.size()) {
      Rehash(std::max<size_t>(16, 2 * slots_.size()));
    }
    Place({key.hi, key.tag, position});
    ++size_;
  }

  // Moves the entry of `key` at position `from` to `to`.
  // REQUIRES: it is present.
  void Move(const Key& key, uint32_t from, uint32_t to) {
    slots_[SlotOf(key, from)].position = to;
  }

  // Removes the entry of `key` at `position`. REQUIRES: it is present.
  void Erase(const Key& key, uint32_t position) {
    size_t hole = SlotOf(key, position);
    // Shift later members of the run back into the hole when their home
    // is at or before it, so every member stays reachable from its home.
    for (size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      const Slot& s = slots_[j];
      if (s.tag == 0) break;
      const size_t home = Home(s.hi);
      const bool home_in_hole_to_j =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (home_in_hole_to_j) continue;
      slots_[hole] = s;
      hole = j;
    }
    slots_[hole] = Slot{};
    --size_;
  }

  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    mask_ = 0;
    shift_ = 64;
    size_ = 0;
  }

  int64_t MemoryBytes() const {
    return static_cast<int64_t>(slots_.capacity() * sizeof(Slot));
  }

 private:
  struct Slot {
    uint64_t hi = 0;
    uint32_t tag = 0;  // 0: empty
    uint32_t position = 0;
  };
  static_assert(sizeof(Slot) == 16);
  using Slots = std::vector<Slot, HugePageAllocator<Slot>>;

  size_t Home(uint64_t hi) const {
    return static_cast<size_t>((hi * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  size_t SlotOf(const Key& key, uint32_t position) const {
    for (size_t i = Home(key.hi);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hi == key.hi && s.tag == key.tag && s.position == position) return i;
    }
  }

  void Place(const Slot& slot) {
    size_t i = Home(slot.hi);
    while (slots_[i].tag != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  void Rehash(size_t capacity) {
    Slots old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (const Slot& s : old) {
      if (s.tag != 0) Place(s);
    }
  }

  Slots slots_;  // a power of two of them, or none
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_UNIT_INDEX_H_
