// Copyright 2026 The allot Authors.
//
// A libFuzzer target for the allocation history reader: the input is the
// JSON text given to AllocationHistory::FromJson. A history that reads must
// write back as JSON that reads to the same history, and must serve an
// assignment from every epoch. Every input must end in a Status.
//
//   mkdir -p build-fuzz/corpus/history  # new inputs go here
//   build-fuzz/history_fuzzer -runs=20000 -max_len=4096 \
//     build-fuzz/corpus/history tests/fuzz/corpus/history

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "allot/allocation_history.h"
#include "allot/assigner.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "history_fuzzer: %s\n", what);
    ::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<allot::AllocationHistory> history =
      allot::AllocationHistory::FromJson(text);
  if (!history.ok()) return 0;
  const std::string json = history->ToJson();
  absl::StatusOr<allot::AllocationHistory> again =
      allot::AllocationHistory::FromJson(json);
  Require(again.ok(), "a written history does not read back");
  Require(again->ToJson() == json, "a history changes on a round trip");
  absl::StatusOr<std::unique_ptr<allot::Assigner>> assigner =
      allot::Assigner::Create(*history, {});
  if (!assigner.ok()) return 0;
  for (const allot::Epoch& epoch : history->epochs()) {
    Require((*assigner)->AssignAt("unit-1", epoch.start).ok(),
            "a read history does not assign");
  }
  return 0;
}
