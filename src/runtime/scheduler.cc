// Copyright 2026 The allot Authors.

#include "runtime/scheduler.h"

#include "absl/strings/str_cat.h"

namespace allot::internal {

Scheduler::Scheduler(absl::Time start, const ScheduleConfig& schedule)
    : interval_(schedule.interval), next_due_(start + FirstReallocationDelay(schedule)) {}

std::string BurnInBlocker(const std::vector<int64_t>& matured_units,
                          const std::vector<std::string>& arm_ids, int64_t min_units) {
  for (size_t a = 0; a < matured_units.size(); ++a) {
    if (matured_units[a] < min_units) {
      return absl::StrCat("arm \"", arm_ids[a], "\" has ", matured_units[a],
                          " matured units, below the minimum of ", min_units);
    }
  }
  return "";
}

}  // namespace allot::internal
