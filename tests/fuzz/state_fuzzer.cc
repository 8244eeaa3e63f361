// Copyright 2026 The allot Authors.
//
// A libFuzzer target for the snapshot and journal readers. The first input
// byte picks how the rest is used:
//   0: as a whole file, given to ReadSnapshot, InspectSnapshot,
//      InspectJournal, Journal::Open and Recover("", file);
//   1: as a snapshot payload behind a valid header and checksum, so that
//      the payload decoder and the engine import are reached; a snapshot
//      that reads must write and read back to the same bytes, and then
//      serve a unit, take an outcome and advance to its next reallocation
//      (the earliest next due time of its experiments: one grid point);
//   2: as journal records, [u16 length][body]..., each framed with a valid
//      checksum behind a valid header, so that record decoding and replay
//      are reached; a recovered engine must snapshot and read back. Replay
//      does one reallocation per schedule interval a record advances over,
//      as it must; records that ask for more than kMaxGridPoints of them
//      are only inspected, not replayed, so no input runs for minutes.
// Every input must end in a Status: no crash, no sanitizer report and no
// huge allocation (libFuzzer's -rss_limit_mb and -malloc_limit_mb).
//
//   mkdir -p build-fuzz/corpus/state  # new inputs go to the first directory
//   build-fuzz/state_fuzzer -runs=20000 -max_len=4096 build-fuzz/corpus/state \
//     tests/fuzz/corpus/state

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <algorithm>
#include <vector>

#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "durability/file_io.h"
#include "durability/state_codec.h"
#include "runtime/engine_access.h"

namespace {

constexpr double kMaxGridPoints = 2000;

// A scratch directory for this process, on tmpfs when there is one
// (snapshots are fsync'ed), removed when the fuzzer exits.
const std::string& ScratchDir() {
  static const std::string* const dir = [] {
    const char* root = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    auto* d = new std::string(std::string(root) + "/allot_state_fuzzer.XXXXXX");
    if (::mkdtemp(d->data()) == nullptr) ::abort();
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(ScratchDir(), ignored);
    });
    return d;
  }();
  return *dir;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) ::abort();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "state_fuzzer: %s\n", what);
    ::abort();
  }
}

// A restored engine must snapshot, and that snapshot must read back and
// snapshot to the same bytes.
void CheckRoundTrip(const allot::Engine& engine) {
  const std::string a = ScratchDir() + "/a.snapshot";
  const std::string b = ScratchDir() + "/b.snapshot";
  Require(allot::WriteSnapshot(engine, a).ok(), "a restored engine cannot be written");
  absl::StatusOr<std::unique_ptr<allot::Engine>> again = allot::ReadSnapshot(a);
  if (!again.ok()) {
    std::fprintf(stderr, "state_fuzzer: %s\n",
                 std::string(again.status().message()).c_str());
  }
  Require(again.ok(), "a written snapshot does not read back");
  Require(allot::WriteSnapshot(**again, b).ok(), "a re-read engine cannot be written");
  Require(ReadFile(a) == ReadFile(b), "a snapshot changes on a round trip");
}

// A restored engine goes on: every experiment serves a unit and takes an
// outcome at its clock, then the engine advances to the earliest next due
// time, one reallocation. Errors are fine; a crash or exception is not.
void AdvanceOneReallocation(allot::Engine& engine) {
  const allot::internal::EngineState state =
      allot::internal::EngineAccess::Export(engine);
  absl::Time due = absl::InfiniteFuture();
  for (const allot::internal::ExperimentRuntimeState& e : state.experiments) {
    if (e.epochs.empty()) continue;  // not started
    const absl::Time clock = absl::FromUnixMicros(e.clock_us);
    (void)engine.Assign(e.config.id, "fuzz-unit", clock);
    (void)engine.RecordOutcome(e.config.id, "fuzz-unit", clock, 1.0);
    due = std::min(due, e.next_due);
  }
  if (due != absl::InfiniteFuture()) (void)engine.Advance(due);
  for (const allot::internal::ExperimentRuntimeState& e : state.experiments) {
    (void)engine.Reports(e.config.id);
  }
}

void ReadRaw(const std::string& bytes) {
  const std::string path = ScratchDir() + "/input";
  WriteFile(path, bytes);
  (void)allot::ReadSnapshot(path);
  (void)allot::InspectSnapshot(path);
  (void)allot::InspectJournal(path);
  (void)allot::Journal::Open(path);
  (void)allot::Recover("", path);  // may cut a bad tail off the file
}

void ReadSnapshotPayload(const std::string& payload) {
  std::string file = "ALLOTSNP";
  allot::internal::PutU32(file, allot::kSnapshotFormat);
  allot::internal::PutU32(file, 0);
  allot::internal::PutU64(file, payload.size());
  allot::internal::PutU64(file, allot::internal::Checksum(payload));
  file += payload;
  const std::string path = ScratchDir() + "/input.snapshot";
  WriteFile(path, file);
  (void)allot::InspectSnapshot(path);
  absl::StatusOr<std::unique_ptr<allot::Engine>> engine = allot::ReadSnapshot(path);
  if (!engine.ok()) return;
  CheckRoundTrip(**engine);
  AdvanceOneReallocation(**engine);
}

// Whether replaying `bodies` reallocates at most about kMaxGridPoints times
// per experiment: the span of their finite times over the shortest
// schedule interval they create.
bool WithinWorkBound(const std::vector<std::string>& bodies) {
  absl::Duration interval = absl::InfiniteDuration();
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  auto see = [&](absl::Time t) {
    if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return;
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  };
  for (const std::string& body : bodies) {
    absl::StatusOr<allot::internal::JournalRecord> r =
        allot::internal::DecodeJournalRecord(body);
    if (!r.ok()) continue;
    see(r->time);
    if (r->unit_start.has_value()) see(*r->unit_start);
    if (r->kind == allot::internal::JournalRecord::Kind::kCreate &&
        r->config.schedule.interval > absl::ZeroDuration()) {
      interval = std::min(interval, r->config.schedule.interval);
    }
  }
  if (interval == absl::InfiniteDuration() || hi <= lo) return true;
  return absl::FDivDuration(hi - lo, interval) <= kMaxGridPoints;
}

void ReplayJournalRecords(const std::string& data) {
  std::string file = "ALLOTJNL";
  allot::internal::PutU32(file, allot::kJournalFormat);
  allot::internal::PutU32(file, 0);
  std::vector<std::string> bodies;
  size_t pos = 0;
  while (pos + 2 <= data.size()) {
    const size_t length = static_cast<unsigned char>(data[pos]) |
                          static_cast<size_t>(static_cast<unsigned char>(data[pos + 1]))
                              << 8;
    pos += 2;
    const std::string body = data.substr(pos, length);
    pos += body.size();
    allot::internal::PutU32(file, static_cast<uint32_t>(body.size()));
    allot::internal::PutU64(file, allot::internal::Checksum(body));
    file += body;
    bodies.push_back(body);
  }
  const std::string path = ScratchDir() + "/input.journal";
  WriteFile(path, file);
  (void)allot::InspectJournal(path);
  if (!WithinWorkBound(bodies)) return;
  absl::StatusOr<allot::Recovery> recovery = allot::Recover("", path);
  if (recovery.ok()) CheckRoundTrip(*recovery->engine);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      ReadRaw(rest);
      break;
    case 1:
      ReadSnapshotPayload(rest);
      break;
    case 2:
      ReplayJournalRecords(rest);
      break;
  }
  return 0;
}
