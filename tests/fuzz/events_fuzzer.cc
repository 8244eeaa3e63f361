// Copyright 2026 The allot Authors.
//
// A libFuzzer target for the events CSV reader of `allot replay`: the input
// is the file's text, read with the command's own code (cli/events_csv.h).
// Every input must end in a Status; rows that read must be in time order
// and, for assign and outcome rows, name a unit the line format can hold.
//
//   mkdir -p build-fuzz/corpus/events  # new inputs go here
//   build-fuzz/events_fuzzer -runs=20000 -max_len=4096 \
//     build-fuzz/corpus/events tests/fuzz/corpus/events

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>

#include "cli/events_csv.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "events_fuzzer: %s\n", what);
    ::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<std::vector<allot::cli::Event>> events =
      allot::cli::ReadEvents(in, "fuzz.csv");
  if (!events.ok()) return 0;
  Require(!events->empty(), "an events file that reads has rows");
  for (size_t i = 0; i < events->size(); ++i) {
    const allot::cli::Event& e = (*events)[i];
    if (i > 0) Require((*events)[i - 1].time <= e.time, "rows in time order");
    if (e.kind != allot::cli::EventKind::kAdvance) {
      Require(!e.unit.empty(), "assign and outcome rows name a unit");
      Require(e.unit.find_first_of(std::string("\t\r\n\0", 4)) == std::string::npos,
              "units hold no tab, CR, LF or NUL");
    }
    if (e.unit_start.has_value()) Require(*e.unit_start <= e.time, "start not after row");
  }
  return 0;
}
