// Assigns one unit through the installed allot package.
#include <iostream>
#include <memory>

#include "allot/allocation_history.h"
#include "allot/assigner.h"

int main() {
  absl::StatusOr<allot::AllocationHistory> history = allot::AllocationHistory::Create(
      "exp", "exp", {"small", "large"}, absl::UnixEpoch(), {1, 1});
  if (!history.ok()) return 1;
  absl::StatusOr<std::unique_ptr<allot::Assigner>> assigner =
      allot::Assigner::Create(*history);
  if (!assigner.ok()) return 1;
  absl::StatusOr<allot::Assignment> a = (*assigner)->Assign("user-42");
  if (!a.ok()) return 1;
  std::cout << "arm=" << (*assigner)->arm_ids()[a->arm] << " epoch=" << a->epoch << "\n";
  return 0;
}
