// Copyright 2026 The allot Authors.
//
// The ledger: every exposed unit whose conversion window is still open, with
// its arm, epoch, exposure time and outcome so far, in a compact sharded map
// keyed by a 128-bit fingerprint of the unit (not its bytes). When a window
// closes the unit leaves the ledger and is handed to the caller to fold into
// per-(epoch, arm) aggregates; its fingerprint is kept for the retention (by
// default one window; between one and two retentions, in two generations) so
// an outcome that arrives late is told apart from one for an unknown unit,
// and a unit that returns is not exposed again as a new trial.
//
// Each shard keeps its open units' records in exposure order (appended when
// exposed, taken from the front when their windows close, so maturing reads
// them in sequence) and finds a unit's record through a compact index of
// fingerprints. Memory per open unit: its 32-byte record, and a 16-byte index
// slot over the index's load factor (5/16 to 5/8 between resizes). Per
// remembered matured unit: an 8-byte slot over the set's load factor (1/4 to
// 1/2) plus its Bloom filter's 1/2 byte: 16.5 to 32.5 bytes, 24 on average
// over sizes (tests/ledger_test.cc, BytesPerRetainedFingerprint).

#ifndef ALLOT_SRC_LEDGER_LEDGER_H_
#define ALLOT_SRC_LEDGER_LEDGER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/assigner.h"
#include "allot/internal/mutex.h"
#include "allot/metric.h"
#include "allot/types.h"
#include "ledger/exposure_order.h"
#include "ledger/fingerprint_set.h"
#include "ledger/unit_index.h"

namespace allot::internal {

// A unit's 128-bit fingerprint (XXH3-128 of the hash layer's message with
// purpose 'L'); collisions are negligible (~n^2 / 2^129).
struct UnitKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const UnitKey& a, const UnitKey& b) {
    return a.hi == b.hi && a.lo == b.lo;
  }
  friend bool operator<(const UnitKey& a, const UnitKey& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
};

class MessageHasher;

// Fingerprints the units of one experiment (salt).
class UnitFingerprint {
 public:
  explicit UnitFingerprint(absl::string_view salt);
  ~UnitFingerprint();
  UnitKey Of(absl::string_view unit) const;

 private:
  std::unique_ptr<const MessageHasher> hasher_;  // purpose 'L'
};

struct LedgerState;

// One open unit, 32 bytes. Exposure times are kept to the second (rounded
// down) after the experiment's start.
struct OpenUnit {
  UnitKey key;
  double outcome = 0;       // sum of counted outcome values
  uint32_t exposure_s = 0;  // exposure, whole seconds after the origin
  uint32_t epoch : 22 = 0;  // first-exposure epoch (< 2^22)
  uint32_t arm : 8 = 0;
  uint32_t flags : 2 = 0;
  static constexpr uint32_t kHoldout = 1;
  static constexpr uint32_t kConverted = 2;
};
static_assert(sizeof(OpenUnit) == 32);

struct LedgerState {
  std::vector<OpenUnit> open;  // sorted by key
  // The other metrics' values (guardrails), one per metric per open unit,
  // in `open`'s order: open_values[i * metrics + m].
  std::vector<double> open_values;
  std::vector<uint64_t> matured;                // sorted
  std::vector<uint64_t> matured_before;         // sorted
  std::vector<std::vector<int64_t>> exposures;  // [epoch][arm], summed
  int64_t generation_start_us = INT64_MIN;
};

// Thread-safe: units are spread over shards, each behind its own mutex.
class Ledger {
 public:
  // Matured fingerprints are remembered for `retention` (>= 0; unset: one
  // window) to twice that; with zero retention, none are. `other_metrics`
  // are the kinds of the metrics recorded besides the primary (guardrails):
  // each open unit keeps one value (8 bytes) per metric.
  Ledger(MetricKind metric, absl::Duration window, int num_arms,
         std::optional<absl::Duration> retention = std::nullopt,
         std::vector<MetricKind> other_metrics = {});

  // The number of metrics besides the primary.
  int other_metrics() const { return static_cast<int>(other_metrics_.size()); }

  // Exposure times are kept relative to `origin` (the experiment's start).
  // REQUIRES: called once, before any exposure; every later time >= origin.
  void set_origin(absl::Time origin) { origin_us_ = absl::ToUnixMicros(origin); }

  // The bytes the open units take, hash tables included.
  int64_t MemoryBytes() const;
  // The bytes the remembered fingerprints of matured units take, and how
  // many there are.
  int64_t RetainedMemoryBytes() const;
  int64_t retained_units() const;

  enum class Visit {
    kNew,        // first exposure: recorded now
    kReturning,  // window still open: the recorded arm and epoch
    kMatured,    // window closed within the retention: not recorded
  };
  struct Exposure {
    Assignment assignment;
    Visit visit = Visit::kNew;
  };

  // Returns the unit's recorded assignment while its window is open. A unit
  // whose window has closed (and whose fingerprint is still kept) gets
  // `assign()` and is not recorded again. Any other unit gets `assign()`,
  // recorded as an exposure at `now` under its epoch and arm, unless
  // `record` is false (a stopped experiment).
  Exposure Expose(const UnitKey& key, absl::Time now, bool record,
                  absl::FunctionRef<Assignment()> assign);

  // Starts loading the cache lines an Expose or Record of `key` reads, so
  // that a caller who knows its next units (a batch) overlaps their cache
  // misses. Changes nothing.
  void Prefetch(const UnitKey& key) const;

  // Returns the open unit's assignment, if any.
  bool Find(const UnitKey& key, Assignment* out) const;

  // Records an outcome of the primary metric (`metric` -1) or of other
  // metric `metric` (in [0, other_metrics())). A binary metric's second
  // conversion is a duplicate. Errors: InvalidArgument when `time` is before
  // the unit's exposure (nothing changes).
  absl::StatusOr<OutcomeDisposition> Record(const UnitKey& key, absl::Time time,
                                            double value, int metric = -1);

  // Removes every unit whose window has closed by `now` (exposure + window
  // <= now) and puts them in `matured` (replacing its contents; its memory
  // is reused, so a caller that keeps it allocates nothing). Costs O(units
  // matured), not O(open units): units are kept in exposure order. For a
  // continuous metric they come sorted by (exposure time, key), so the
  // floating-point sums they are folded into are the same whatever order
  // the events came in; a binary metric's 0/1 outcomes sum exactly in any
  // order, so they are not sorted.
  // With other metrics, `values` (when not null) gets each matured unit's
  // values, other_metrics() per unit in `matured`'s order.
  void TakeMatured(absl::Time now, std::vector<OpenUnit>& matured,
                   std::vector<double>* values = nullptr);

  // Exposures so far outside the holdout, [epoch][arm]. A row may be shorter
  // than the experiment's arms when arms joined later (their counts are 0).
  std::vector<std::vector<int64_t>> ExposureCounts() const;

  int64_t open_units() const;

  // The whole ledger in canonical order, and a ledger rebuilt from it.
  // REQUIRES for Import: the ledger is empty.
  LedgerState Export() const;
  void Import(const LedgerState& state);

 private:
  static constexpr int kShards = 16;
  struct Shard {
    mutable Mutex mu;
    // Every open unit once, by exposure time (ties in the order exposed),
    // so maturing takes units from the front.
    ExposureOrder<OpenUnit> open ABSL_GUARDED_BY(mu);
    // Each open unit's values of the other metrics, other_metrics() per
    // unit in `open`'s order (entries i * metrics to (i + 1) * metrics).
    ExposureOrder<double> values ABSL_GUARDED_BY(mu);
    // Each open unit's position in `open`.
    UnitIndex index ABSL_GUARDED_BY(mu);
    // Set when an exposure came in too far out of order to be moved into
    // place; `open` is then sorted before the next maturing.
    bool open_unsorted ABSL_GUARDED_BY(mu) = false;
    // Fingerprints (key.hi) of matured units, in two generations of one
    // retention each; a unit's shard is fixed by key.hi.
    FingerprintSet matured ABSL_GUARDED_BY(mu);
    FingerprintSet matured_before ABSL_GUARDED_BY(mu);
    std::vector<std::vector<int64_t>> exposures ABSL_GUARDED_BY(mu);
  };
  static UnitIndex::Key IndexKey(const UnitKey& key) {
    return UnitIndex::KeyOf(key.hi, key.lo);
  }
  // Exposure order, for a stable sort (ties keep their order).
  static bool ExposedEarlier(const OpenUnit& a, const OpenUnit& b);
  // Where the open unit is in `open`, if it is open.
  static std::optional<size_t> FindOpen(const Shard& shard, const UnitKey& key)
      ABSL_SHARED_LOCKS_REQUIRED(shard.mu);
  // Starts loading what a lookup of `key` reads.
  static void PrefetchIn(const Shard& shard, const UnitKey& key)
      ABSL_SHARED_LOCKS_REQUIRED(shard.mu);
  // Maturing takes units from the front of `open`, in sequence; each one's
  // index slot and matured-set slot are random lines of large tables.
  // Starts loading those of the unit `i` places from the front, and the
  // record kRecordsAhead places on (written a window ago, it is out of
  // cache, and the slots' addresses wait on it).
  static constexpr size_t kMaturingAhead = 16;
  static constexpr size_t kRecordsAhead = 96;
  static void PrefetchMaturing(const Shard& shard, size_t i)
      ABSL_SHARED_LOCKS_REQUIRED(shard.mu);
  // Appends a new open unit with its other metrics' `values` (null: zeros),
  // keeping `open` in exposure order.
  void AddOpen(Shard& shard, const OpenUnit& unit, const double* values = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // Sorts `open` by exposure time (stable) and re-points the index.
  void SortOpen(Shard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  Shard& ShardOf(const UnitKey& key) { return shards_[key.hi % kShards]; }
  const Shard& ShardOf(const UnitKey& key) const { return shards_[key.hi % kShards]; }

  // Microseconds since the origin at which `unit`'s window closes.
  int64_t WindowEndUs(uint32_t exposure_s) const {
    return origin_us_ + int64_t{exposure_s} * 1000000 + window_us_;
  }
  int64_t WindowEndUs(const OpenUnit& unit) const { return WindowEndUs(unit.exposure_s); }

  const MetricKind metric_;
  const std::vector<MetricKind> other_metrics_;
  const int64_t window_us_;
  const int64_t retention_us_;
  int64_t origin_us_ = 0;
  const int num_arms_;
  std::array<Shard, kShards> shards_;
  // When the current generation of matured fingerprints began.
  mutable Mutex generation_mu_;
  int64_t generation_start_us_ ABSL_GUARDED_BY(generation_mu_) = INT64_MIN;
};

}  // namespace allot::internal

#endif  // ALLOT_SRC_LEDGER_LEDGER_H_
