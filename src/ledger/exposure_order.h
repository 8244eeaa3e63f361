// Copyright 2026 The allot Authors.
//
// A ledger shard's open units in order of exposure: a queue that exposing
// appends to and maturing takes from the front. It is a ring of fixed-size
// chunks, so neither end moves any other entry, appending costs a store and
// an index, and a chunk emptied at the front is kept for reuse at the back
// instead of going back to the allocator (a busy shard exposes and matures
// thousands of units an hour). Not API.

#ifndef ALLOT_SRC_LEDGER_EXPOSURE_ORDER_H_
#define ALLOT_SRC_LEDGER_EXPOSURE_ORDER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace allot::internal {

template <typename Entry>
class ExposureOrder {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The i-th entry from the front. REQUIRES: i < size().
  Entry& operator[](size_t i) {
    const size_t p = head_ + i;
    return chunks_[p >> kShift][p & kMask];
  }
  const Entry& operator[](size_t i) const {
    const size_t p = head_ + i;
    return chunks_[p >> kShift][p & kMask];
  }
  Entry& front() { return chunks_.front()[head_]; }

  void push_back(const Entry& e) {
    const size_t p = head_ + size_;
    if ((p >> kShift) == chunks_.size()) AddChunk();
    chunks_[p >> kShift][p & kMask] = e;
    ++size_;
  }

  // Every entry has a position: the front's is the number of entries ever
  // taken from the front, the next entry's one more, and so on (modulo
  // 2^32; REQUIRES size() < 2^32).
  uint32_t PositionOf(size_t i) const {
    return static_cast<uint32_t>(front_position_ + i);
  }
  size_t IndexOf(uint32_t position) const {
    return static_cast<uint32_t>(position - static_cast<uint32_t>(front_position_));
  }

  // REQUIRES: !empty().
  void pop_front() {
    ++front_position_;
    --size_;
    if (++head_ == kChunk) {
      spare_ = std::move(chunks_.front());
      chunks_.pop_front();
      head_ = 0;
    }
  }

  // Every entry, front to back, and the queue rebuilt from `entries` (the
  // front keeps its position).
  std::vector<Entry> ToVector() const {
    std::vector<Entry> out;
    out.reserve(size_);
    for (size_t i = 0; i < size_; ++i) out.push_back((*this)[i]);
    return out;
  }
  void Assign(const std::vector<Entry>& entries) {
    chunks_.clear();
    head_ = 0;
    size_ = 0;
    for (const Entry& e : entries) push_back(e);
  }

  // The bytes the entries' chunks take.
  int64_t MemoryBytes() const {
    return static_cast<int64_t>((chunks_.size() + (spare_ != nullptr)) * sizeof(Entry) *
                                kChunk);
  }

 private:
  // 256 entries a chunk: small enough that a shard with few units wastes
  // little, large enough that allocation is rare.
  static constexpr size_t kShift = 8;
  static constexpr size_t kChunk = size_t{1} << kShift;
  static constexpr size_t kMask = kChunk - 1;

  void AddChunk() {
    chunks_.push_back(spare_ != nullptr ? std::move(spare_)
                                        : std::make_unique<Entry[]>(kChunk));
  }

  std::deque<std::unique_ptr<Entry[]>> chunks_;
  std::unique_ptr<Entry[]> spare_;  // the last chunk emptied, for reuse
  size_t head_ = 0;                 // the front's place in chunks_.front()
  size_t size_ = 0;
  uint64_t front_position_ = 0;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_EXPOSURE_ORDER_H_
