// Copyright 2026 The allot Authors.
//
// A libFuzzer target for the experiment file reader: the input is the TOML
// text given to ParseExperimentToml. A file that parses must be taken by an
// engine, which then starts it, serves and counts a few units and advances
// over its first grid points (a few reallocations at most), all ending in a
// Status: no crash, no exception, no sanitizer report.
//
//   mkdir -p build-fuzz/corpus/experiment_file  # new inputs go here
//   build-fuzz/experiment_file_fuzzer -runs=20000 -max_len=4096 \
//     build-fuzz/corpus/experiment_file tests/fuzz/corpus/experiment_file

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "experiment_file_fuzzer: %s\n", what);
    ::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<allot::ExperimentConfig> config =
      allot::ParseExperimentToml(text, "fuzz.toml");
  if (!config.ok()) return 0;
  allot::Engine engine;
  Require(engine.CreateExperiment(*config).ok(), "a parsed config is refused");
  const absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  Require(engine.Start(config->id, start).ok(), "a created experiment does not start");
  const bool binary = config->metric == allot::MetricKind::kBinary;
  for (int i = 0; i < 20; ++i) {
    const std::string unit = absl::StrCat("u", i);
    const absl::Time t = start + absl::Seconds(i);
    (void)engine.Assign(config->id, unit, t);
    (void)engine.RecordOutcome(config->id, unit, t, binary ? (i % 2) : i * 0.5);
  }
  // Up to the first grid point and two intervals on: at most three grid
  // points, whatever the schedule (a time past the end is refused).
  const absl::Time end = start + allot::FirstReallocationDelay(config->schedule) +
                         2 * config->schedule.interval;
  (void)engine.Advance(end);
  (void)engine.Reports(config->id);
  return 0;
}
