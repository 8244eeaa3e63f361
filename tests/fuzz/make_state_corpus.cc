// Copyright 2026 The allot Authors.
//
// Writes state_fuzzer's seed corpus: a tiny valid snapshot and journal of a
// small engine, in each of the fuzzer's three input modes (see
// state_fuzzer.cc). Run it again when a format changes:
//
//   build-fuzz/make_state_corpus tests/fuzz/corpus/state

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "durability/file_io.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return out.good();
}

// Two experiments, a handful of units and outcomes, two reallocations, a
// stop and a delete: every record kind, every part of a snapshot.
bool BuildEngine(allot::Engine& engine) {
  const absl::Time t0 = absl::FromUnixSeconds(1767225600);
  allot::ExperimentConfig a;
  a.id = "a";
  a.arms = {{"x", 1}, {"y", 1}};
  a.holdout = 0.2;
  a.baseline = "x";
  a.schedule.burn_in = absl::Minutes(10);
  a.schedule.interval = absl::Minutes(10);
  a.schedule.conversion_window = absl::Minutes(5);
  a.schedule.min_units_per_arm = 1;
  a.surface = "support-bot";
  a.arms[1].payload = R"({"model":"m-2","temperature":0.2,"stop":["\n"]})";
  allot::ExperimentConfig b = a;
  b.id = "b";
  b.surface = "";
  b.holdout = 0;
  b.baseline = "";
  b.metric = allot::MetricKind::kContinuous;
  b.direction = allot::Direction::kLowerIsBetter;
  b.policy.kind = allot::PolicyKind::kEpsilonGreedy;
  if (!engine.CreateExperiment(a).ok() || !engine.CreateExperiment(b).ok() ||
      !engine.Start("a", t0).ok() || !engine.Start("b", t0).ok()) {
    return false;
  }
  for (int i = 0; i < 8; ++i) {
    const absl::Time t = t0 + absl::Minutes(3 * i);
    const std::string unit = absl::StrCat("u", i);
    if (!engine.Assign("a", unit, t).ok() || !engine.Assign("b", unit, t, t0).ok() ||
        !engine.RecordOutcome("a", unit, t + absl::Minutes(1), i % 2).ok() ||
        !engine.RecordOutcome("b", unit, t + absl::Minutes(1), 10.0 * i).ok() ||
        !engine.Advance(t + absl::Minutes(2)).ok()) {
      return false;
    }
  }
  return engine.RecordOutcome("a", "nobody", t0 + absl::Minutes(30), 1).ok() &&
         engine.Stop("b", t0 + absl::Minutes(30)).ok() &&
         engine.Advance(t0 + absl::Minutes(40)).ok() && engine.Delete("b").ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  std::string scratch =
      (std::filesystem::temp_directory_path() / "allot_corpus.XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) return 1;
  const std::string journal_path = scratch + "/journal";
  const std::string snapshot_path = scratch + "/snapshot";
  {
    absl::StatusOr<std::unique_ptr<allot::Journal>> journal =
        allot::Journal::Open(journal_path);
    if (!journal.ok()) return 1;
    allot::Engine engine({.journal = journal->get()});
    if (!BuildEngine(engine) ||
        !allot::WriteSnapshot(engine, snapshot_path, "cursor=8").ok()) {
      std::fprintf(stderr, "building the engine failed\n");
      return 1;
    }
  }
  const std::string snapshot = ReadFile(snapshot_path);
  const std::string journal = ReadFile(journal_path);
  // The journal's records, each as [u16 length][body].
  std::string records;
  for (size_t pos = 16; pos + 12 <= journal.size();) {
    const uint32_t length = allot::internal::GetU32(journal.data() + pos);
    records.push_back(static_cast<char>(length & 0xff));
    records.push_back(static_cast<char>(length >> 8));
    records.append(journal, pos + 12, length);
    pos += 12 + length;
  }
  std::filesystem::remove_all(scratch);
  const bool ok = WriteFile(out + "/raw_snapshot", '\0' + snapshot) &&
                  WriteFile(out + "/raw_journal", '\0' + journal) &&
                  WriteFile(out + "/snapshot_payload", '\1' + snapshot.substr(32)) &&
                  WriteFile(out + "/journal_records", '\2' + records);
  if (!ok) {
    std::fprintf(stderr, "cannot write to %s\n", out.c_str());
    return 1;
  }
  std::printf("wrote 4 seeds to %s (snapshot %zu bytes, journal %zu bytes)\n",
              out.c_str(), snapshot.size(), journal.size());
  return 0;
}
