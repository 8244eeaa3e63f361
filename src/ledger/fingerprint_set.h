// Copyright 2026 The allot Authors.
//
// A set of 64-bit unit fingerprints, for the ledger's matured units: open
// addressing with linear probing over 8-byte slots, at most half full, so a
// lookup reads one cache line nearly always, behind a small Bloom filter
// that answers most lookups of non-members alone. Fingerprints are uniform hashes
// already; they are still mixed before use, so the bits that pick a ledger shard do not
// also pick the slot. Clearing keeps the slots for the next generation of the same size
// instead of giving them back and growing again. Not API.

#ifndef ALLOT_SRC_LEDGER_FINGERPRINT_SET_H_
#define ALLOT_SRC_LEDGER_FINGERPRINT_SET_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ledger/huge_page_allocator.h"
#include "ledger/prefetch.h"

namespace allot::internal {

class FingerprintSet {
 public:
  size_t size() const { return size_ + has_zero_; }

  bool contains(uint64_t fingerprint) const {
    if (fingerprint == 0) return has_zero_;
    if (slots_.empty()) return false;
    if (!MayContain(fingerprint)) return false;
    for (size_t i = Home(fingerprint);; i = (i + 1) & mask_) {
      if (slots_[i] == fingerprint) return true;
      if (slots_[i] == 0) return false;
    }
  }

  // Starts loading what a lookup of `fingerprint` reads first.
  void prefetch(uint64_t fingerprint) const {
    if (!slots_.empty()) PrefetchLine(&filter_[FilterWord(fingerprint)]);
  }
  // Starts loading what an insertion of `fingerprint` writes.
  void prefetch_insert(uint64_t fingerprint) const {
    if (!slots_.empty()) {
      PrefetchLine(&slots_[Home(fingerprint)]);
      PrefetchLine(&filter_[FilterWord(fingerprint)]);
    }
  }

  void insert(uint64_t fingerprint) {
    if (fingerprint == 0) {
      has_zero_ = true;
      return;
    }
    if (2 * (size_ + 1) > slots_.size()) Rehash(std::max<size_t>(16, 2 * slots_.size()));
    if (Place(fingerprint)) ++size_;
  }

  // Empties the set. Its slots are kept unless they are far more than its
  // last contents needed (then it shrinks to fit them).
  void clear() {
    const size_t needed = std::bit_ceil(std::max<size_t>(16, 4 * size_));
    size_ = 0;
    has_zero_ = false;
    if (slots_.size() > 4 * needed) {
      Resize(needed);
    } else {
      std::fill(slots_.begin(), slots_.end(), 0);
      std::fill(filter_.begin(), filter_.end(), 0);
    }
  }

  // Calls f(fingerprint) for each member, in no particular order.
  template <typename F>
  void ForEach(F f) const {
    if (has_zero_) f(uint64_t{0});
    for (uint64_t s : slots_) {
      if (s != 0) f(s);
    }
  }

  int64_t MemoryBytes() const {
    return static_cast<int64_t>((slots_.capacity() + filter_.capacity()) *
                                sizeof(uint64_t));
  }

 private:
  using Slots = std::vector<uint64_t, HugePageAllocator<uint64_t>>;

  size_t Home(uint64_t fingerprint) const {
    return static_cast<size_t>((fingerprint * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  // Puts a non-zero fingerprint in its slot and the filter; false when
  // already present.
  bool Place(uint64_t fingerprint) {
    for (size_t i = Home(fingerprint);; i = (i + 1) & mask_) {
      if (slots_[i] == fingerprint) return false;
      if (slots_[i] == 0) {
        slots_[i] = fingerprint;
        filter_[FilterWord(fingerprint)] |= FilterBits(fingerprint);
        return true;
      }
    }
  }

  // A blocked Bloom filter in front of the slots: one 64-bit word per
  // fingerprint with four of its bits set, one word per 16 slots (12 to 24
  // bits per member at the table's load, under 2% false positives). Most
  // lookups are for units that never matured; the filter, a sixteenth of
  // the table's size, stays in cache where the table cannot, and turns most
  // of them away without touching the table.
  static uint64_t FilterHash(uint64_t fingerprint) {
    return (fingerprint ^ (fingerprint >> 32)) * 0xD6E8FEB86659FD93ull;
  }
  size_t FilterWord(uint64_t fingerprint) const {
    return static_cast<size_t>(FilterHash(fingerprint) >> filter_shift_);
  }
  static uint64_t FilterBits(uint64_t fingerprint) {
    const uint64_t h = FilterHash(fingerprint);
    return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)) |
           (uint64_t{1} << ((h >> 12) & 63)) | (uint64_t{1} << ((h >> 18) & 63));
  }
  bool MayContain(uint64_t fingerprint) const {
    const uint64_t bits = FilterBits(fingerprint);
    return (filter_[FilterWord(fingerprint)] & bits) == bits;
  }

  // Empty slots (and filter) for `capacity` members' worth.
  void Resize(size_t capacity) {
    slots_ = Slots(capacity, 0);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    const size_t words = std::max<size_t>(2, capacity / 16);
    filter_ = Slots(words, 0);
    filter_shift_ = 64 - std::countr_zero(words);
  }

  void Rehash(size_t capacity) {
    Slots old = std::move(slots_);
    Resize(capacity);
    for (uint64_t s : old) {
      if (s != 0) Place(s);
    }
  }

  Slots slots_;  // 0: empty; a power of two of them, or none
  size_t mask_ = 0;
  int shift_ = 64;
  Slots filter_;  // slots_.size() / 16 words, at least 2
  int filter_shift_ = 64;
  size_t size_ = 0;  // non-zero fingerprints held
  bool has_zero_ = false;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_FINGERPRINT_SET_H_
