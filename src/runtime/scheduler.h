// Copyright 2026 The allot Authors.
//
// When reallocations are due. The grid starts at start + burn_in (at
// start + interval when burn_in is 0: epoch 0 needs some time) and steps by
// the interval; a due reallocation that finds an arm below the minimum of
// matured units keeps the weights, and the next try is the next grid point.

#ifndef ALLOT_SRC_RUNTIME_SCHEDULER_H_
#define ALLOT_SRC_RUNTIME_SCHEDULER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "allot/experiment_config.h"

namespace allot::internal {

// Thread-compatible.
class Scheduler {
 public:
  Scheduler(absl::Time start, const ScheduleConfig& schedule);

  // The next grid time at which a reallocation is due.
  absl::Time next_due() const { return next_due_; }
  // Moves to the following grid point.
  void Step() { next_due_ += interval_; }
  // Resumes a restored schedule at `due`.
  void set_next_due(absl::Time due) { next_due_ = due; }

 private:
  absl::Duration interval_;
  absl::Time next_due_;
};

// Returns why burn-in still holds, "" once every arm has at least
// `min_units` matured units: "arm \"b\" has 12 matured units, below the
// minimum of 100".
std::string BurnInBlocker(const std::vector<int64_t>& matured_units,
                          const std::vector<std::string>& arm_ids, int64_t min_units);

}  // namespace allot::internal

#endif  // ALLOT_SRC_RUNTIME_SCHEDULER_H_
