// Copyright 2026 The allot Authors.
//
// The journal: replay rebuilds the same state, recovery from a snapshot
// replays only later records, a torn or corrupt tail is dropped, counted and
// cut off so appending resumes, bad files are refused naming the file, and
// both flush policies keep their promise.

#include "allot/journal.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/snapshot.h"
#include "durability/file_io.h"
#include "durability/state_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/event_stream.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using test::ReadBytes;
using test::ScratchDir;
using test::WriteBytes;

using ::testing::HasSubstr;
using ::testing::Pair;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// The snapshot bytes of `engine`: equal state, equal bytes.
std::string SnapshotBytes(const Engine& engine, const std::string& dir) {
  const std::string path = dir + "/compare.snapshot";
  EXPECT_TRUE(WriteSnapshot(engine, path).ok());
  return ReadBytes(path);
}

// Byte offsets of the records of a journal file.
std::vector<size_t> RecordOffsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  size_t pos = 16;
  while (pos + 12 <= bytes.size()) {
    offsets.push_back(pos);
    pos += 12 + internal::GetU32(bytes.data() + pos);
  }
  return offsets;
}

ExperimentConfig BinaryConfig() {
  ExperimentConfig c;
  c.id = "checkout";
  c.arms = {{"a", 1}, {"b", 1}};
  c.holdout = 0.1;
  c.baseline = "a";
  c.seed = 3;
  c.schedule.burn_in = absl::Minutes(40);
  c.schedule.interval = absl::Minutes(20);
  c.schedule.conversion_window = absl::Minutes(15);
  c.schedule.min_units_per_arm = 3;
  return c;
}

using Event = test::EngineEvent;

// Applies `e`; a refused call (the stream has some on purpose) changes
// nothing and writes no record.
void Apply(Engine& engine, const Event& e) { (void)test::ApplyEvent(engine, e); }

using test::RunEvents;  // applies events [from, to)

// Creates and starts both experiments, then `n` seeded events (see
// tests/event_stream.h): new, pinned and returning units, outcomes (some
// late, duplicated, unknown or invalid), advances every 5 minutes;
// "latency" is stopped at 80%.
std::vector<Event> MakeStream(uint64_t seed, int n) {
  return test::MakeEventStream(seed, n,
                               {.experiments = {BinaryConfig(), test::LatencyConfig()},
                                .start = kStart,
                                .max_step_seconds = 20,
                                .advance_every = absl::Minutes(5),
                                .stop_second_at = 0.8});
}

std::unique_ptr<Journal> OpenOrDie(const std::string& path,
                                   const JournalOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(path, options);
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *std::move(j) : nullptr;
}

TEST(JournalTest, OpenCreatesAHeader) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  {
    std::unique_ptr<Journal> j = OpenOrDie(path);
    ASSERT_NE(j, nullptr);
    EXPECT_EQ(j->path(), path);
    EXPECT_EQ(j->next_sequence(), 1u);
  }
  EXPECT_EQ(ReadBytes(path), std::string("ALLOTJNL\1\0\0\0\0\0\0\0", 16));
  absl::StatusOr<JournalContents> c = InspectJournal(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->format, kJournalFormat);
  EXPECT_EQ(c->records, 0);
  EXPECT_EQ(c->dropped_records, 0);
  EXPECT_EQ(c->good_bytes, 16);
  // Reopening an existing journal keeps it.
  ASSERT_NE(OpenOrDie(path), nullptr);
  EXPECT_EQ(ReadBytes(path).size(), 16u);
}

TEST(JournalTest, OpenInAMissingDirectoryNamesTheFile) {
  const ScratchDir scratch("journal_test");
  const std::string path = scratch.path() + "/no/such/j";
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(path);
  EXPECT_EQ(j.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(j.status().message(), HasSubstr(path));
}

TEST(JournalTest, ReplayRebuildsTheSameState) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  const std::vector<Event> events = MakeStream(1, 2000);
  std::unique_ptr<Journal> journal = OpenOrDie(path);
  Engine engine({.journal = journal.get()});
  RunEvents(engine, events, 0, events.size());
  const int64_t records = static_cast<int64_t>(journal->next_sequence()) - 1;
  EXPECT_GT(records, 1000);

  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->from_snapshot);
  EXPECT_EQ(r->records_replayed, records);
  EXPECT_EQ(r->records_dropped, 0);
  EXPECT_EQ(r->dropped_reason, "");
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(engine, dir));
  EXPECT_EQ(InspectSnapshot(dir + "/compare.snapshot")->journal_sequence,
            static_cast<uint64_t>(records));
}

// A batch of assignments is journaled as the same calls one by one would
// be: runs of consecutive assignments of one experiment go through
// AssignBatch, and the journal comes out byte for byte the same, and
// replays to the same state.
TEST(JournalTest, AssignBatchJournalsAsAssignInOrder) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::vector<Event> events = MakeStream(3, 3000);
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir + "/one_by_one");
    Engine engine({.journal = journal.get()});
    RunEvents(engine, events, 0, events.size());
  }
  std::unique_ptr<Journal> journal = OpenOrDie(dir + "/batched");
  Engine engine({.journal = journal.get()});
  int batches = 0;
  for (size_t i = 0; i < events.size();) {
    size_t end = i;
    while (end < events.size() && events[end].kind == Event::kAssign &&
           events[end].experiment == events[i].experiment) {
      ++end;
    }
    if (end == i) {
      Apply(engine, events[i++]);
      continue;
    }
    std::vector<AssignRequest> requests;
    for (size_t j = i; j < end; ++j) {
      requests.push_back({events[j].unit, events[j].time, events[j].unit_start});
    }
    std::vector<absl::StatusOr<Assignment>> results(requests.size());
    ASSERT_TRUE(
        engine.AssignBatch(events[i].experiment, requests, absl::MakeSpan(results)).ok());
    batches += end - i > 1;
    i = end;
  }
  EXPECT_GT(batches, 100);
  ASSERT_TRUE(journal->Flush().ok());
  EXPECT_EQ(ReadBytes(dir + "/batched"), ReadBytes(dir + "/one_by_one"));
  absl::StatusOr<Recovery> r = Recover("", dir + "/batched");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(engine, dir));
}

TEST(JournalTest, RecoverFromASnapshotReplaysOnlyLaterRecords) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j", snapshot = dir + "/s";
  const std::vector<Event> events = MakeStream(2, 2000);
  std::unique_ptr<Journal> journal = OpenOrDie(path);
  Engine engine({.journal = journal.get()});
  RunEvents(engine, events, 0, events.size() / 2);
  ASSERT_TRUE(WriteSnapshot(engine, snapshot, "cursor=1000").ok());
  const int64_t at_snapshot = static_cast<int64_t>(journal->next_sequence()) - 1;
  EXPECT_EQ(InspectSnapshot(snapshot)->journal_sequence,
            static_cast<uint64_t>(at_snapshot));
  RunEvents(engine, events, events.size() / 2, events.size());
  const int64_t records = static_cast<int64_t>(journal->next_sequence()) - 1;
  ASSERT_GT(records, at_snapshot + 100);

  absl::StatusOr<Recovery> r = Recover(snapshot, path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->from_snapshot);
  EXPECT_EQ(r->records_replayed, records - at_snapshot);
  EXPECT_EQ(r->records_dropped, 0);
  EXPECT_EQ(r->application_data, "cursor=1000");
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(engine, dir));

  // A snapshot that covers the whole journal replays nothing.
  ASSERT_TRUE(WriteSnapshot(engine, snapshot).ok());
  r = Recover(snapshot, path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records_replayed, 0);
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(engine, dir));
}

TEST(JournalTest, RecoverWithoutFilesGivesAnEmptyEngine) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  absl::StatusOr<Recovery> r = Recover(dir + "/no-snapshot", dir + "/no-journal");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->from_snapshot);
  EXPECT_EQ(r->records_replayed, 0);
  Engine empty;
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(empty, dir));
  r = Recover("", "");
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(JournalTest, AppendingContinuesAfterRecovery) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  const std::vector<Event> events = MakeStream(3, 1000);
  const size_t half = events.size() / 2;
  Engine uninterrupted;
  RunEvents(uninterrupted, events, 0, events.size());
  {
    std::unique_ptr<Journal> journal = OpenOrDie(path);
    Engine engine({.journal = journal.get()});
    RunEvents(engine, events, 0, half);
  }
  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t first = r->records_replayed;
  std::unique_ptr<Journal> journal = OpenOrDie(path);
  EXPECT_EQ(journal->next_sequence(), static_cast<uint64_t>(first) + 1);
  r->engine->AttachJournal(journal.get());
  RunEvents(*r->engine, events, half, events.size());
  journal.reset();

  absl::StatusOr<JournalContents> c = InspectJournal(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->first_sequence, 1u);
  EXPECT_EQ(c->last_sequence, static_cast<uint64_t>(c->records));
  absl::StatusOr<Recovery> again = Recover("", path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->records_replayed, c->records);
  EXPECT_EQ(SnapshotBytes(*again->engine, dir), SnapshotBytes(*r->engine, dir));
  // The same history as an engine that never journaled, but for the
  // journal sequence number: compare what the API shows.
  EXPECT_EQ(ReportsToJson(*again->engine->Reports("checkout")),
            ReportsToJson(*uninterrupted.Reports("checkout")));
  EXPECT_EQ(again->engine->History("latency")->ToJson(),
            uninterrupted.History("latency")->ToJson());
}

// A journal of a finished stream, and what it held.
class TornJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path();
    events_ = MakeStream(4, 600);
    const std::string path = dir_ + "/full.journal";
    std::unique_ptr<Journal> journal = OpenOrDie(path);
    engine_ = std::make_unique<Engine>(EngineOptions{.journal = journal.get()});
    RunEvents(*engine_, events_, 0, events_.size());
    records_ = static_cast<int64_t>(journal->next_sequence()) - 1;
    journal.reset();
    engine_->AttachJournal(nullptr);
    full_ = ReadBytes(path);
    offsets_ = RecordOffsets(full_);
    ASSERT_EQ(static_cast<int64_t>(offsets_.size()), records_);
    want_ = SnapshotBytes(*engine_, dir_);
  }

  // Checks recovery from `bytes`, a journal whose record `bad` (0-based) is
  // torn or corrupt: that record and everything after it are dropped and
  // cut off, and appending then resumes at record `bad` + 1.
  void ExpectRecoversUpTo(const std::string& bytes, int64_t bad,
                          absl::string_view reason) {
    const size_t good = bad < records_ ? offsets_[bad] : full_.size();
    const std::string path = dir_ + "/bad.journal";
    WriteBytes(path, bytes);
    absl::StatusOr<JournalContents> c = InspectJournal(path);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->records, bad);
    EXPECT_EQ(c->dropped_records, 1);
    EXPECT_EQ(c->dropped_bytes, static_cast<int64_t>(bytes.size() - good));
    EXPECT_EQ(c->good_bytes, static_cast<int64_t>(good));
    EXPECT_THAT(c->dropped_reason, HasSubstr(reason));
    EXPECT_THAT(c->dropped_reason, HasSubstr(absl::StrCat("offset ", good)));

    absl::StatusOr<std::unique_ptr<Journal>> refused = Journal::Open(path);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(refused.status().message(), HasSubstr("recovery"));
    EXPECT_THAT(refused.status().message(), HasSubstr(path));

    absl::StatusOr<Recovery> r = Recover("", path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->records_replayed, bad);
    EXPECT_EQ(r->records_dropped, 1);
    EXPECT_THAT(r->dropped_reason, HasSubstr(reason));
    EXPECT_EQ(std::filesystem::file_size(path), good);  // cut off

    // The state is that of the good records: replaying the intact journal's
    // first `bad` records gives the same bytes.
    {
      const std::string prefix = dir_ + "/prefix.journal";
      WriteBytes(prefix, full_.substr(0, good));
      absl::StatusOr<Recovery> p = Recover("", prefix);
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_EQ(SnapshotBytes(*r->engine, dir_), SnapshotBytes(*p->engine, dir_));
    }

    // Appending resumes: re-applying the dropped records' events restores
    // the full state, with the same sequence numbers.
    std::unique_ptr<Journal> journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    EXPECT_EQ(journal->next_sequence(), static_cast<uint64_t>(bad) + 1);
    r->engine->AttachJournal(journal.get());
    ReplayTail(*r->engine, bad);
    EXPECT_EQ(journal->next_sequence(), static_cast<uint64_t>(records_) + 1);
    journal.reset();
    EXPECT_EQ(SnapshotBytes(*r->engine, dir_), want_);
    EXPECT_EQ(ReadBytes(path), full_);
  }

  // Applies the events after the one that wrote record `bad` - 1 (1-based
  // record `bad`), found by replaying the stream into a fresh journal.
  void ReplayTail(Engine& engine, int64_t bad) {
    const std::string scratch = dir_ + "/scratch.journal";
    std::filesystem::remove(scratch);
    std::unique_ptr<Journal> j = OpenOrDie(
        scratch, {.flush = FlushPolicy::kBatched, .batch_interval = absl::Minutes(1)});
    Engine counter({.journal = j.get()});
    size_t i = 0;
    while (i < events_.size() && static_cast<int64_t>(j->next_sequence()) - 1 < bad) {
      Apply(counter, events_[i++]);
    }
    RunEvents(engine, events_, i, events_.size());
  }

  ScratchDir scratch_;
  std::string dir_;
  std::vector<Event> events_;
  std::unique_ptr<Engine> engine_;
  int64_t records_ = 0;
  std::string full_;
  std::vector<size_t> offsets_;
  std::string want_;
};

TEST_F(TornJournalTest, CutsOfOneToElevenBytesDropTheLastRecord) {
  for (size_t cut = 1; cut <= 11; ++cut) {
    SCOPED_TRACE(absl::StrCat("cut ", cut));
    ExpectRecoversUpTo(full_.substr(0, full_.size() - cut), records_ - 1, "torn record");
  }
}

TEST_F(TornJournalTest, CutInsideTheLastRecordHeader) {
  const size_t last = offsets_.back();
  for (size_t keep : {size_t{1}, size_t{4}, size_t{11}}) {
    SCOPED_TRACE(absl::StrCat("keep ", keep));
    ExpectRecoversUpTo(full_.substr(0, last + keep), records_ - 1, "torn record header");
  }
  ExpectRecoversUpTo(full_.substr(0, last + 12), records_ - 1, "torn record");
  const size_t middle = last + (full_.size() - last) / 2;
  ExpectRecoversUpTo(full_.substr(0, middle), records_ - 1, "torn record");
}

TEST_F(TornJournalTest, GarbageAfterTheLastRecordIsDropped) {
  ExpectRecoversUpTo(full_ + std::string(5, '\0'), records_, "torn record header");
  ExpectRecoversUpTo(full_ + std::string(40, '\x5a'), records_, "");
}

TEST_F(TornJournalTest, CorruptRecordInTheMiddleStopsReplayThere) {
  const int64_t bad = records_ / 2;
  const size_t at = offsets_[bad];
  std::string bytes = full_;
  bytes[at + 12 + 3] ^= 0x10;  // in the body
  ExpectRecoversUpTo(bytes, bad, "checksum mismatch");
  bytes = full_;
  bytes[at + 6] ^= 0x01;  // in the checksum
  ExpectRecoversUpTo(bytes, bad, "checksum mismatch");
  bytes = full_;
  bytes[at + 3] ^= 0x40;  // in the length: far past the end
  ExpectRecoversUpTo(bytes, bad, "record length");
}

TEST_F(TornJournalTest, FullJournalHasNothingToDrop) {
  const std::string path = dir_ + "/good.journal";
  WriteBytes(path, full_);
  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records_replayed, records_);
  EXPECT_EQ(r->records_dropped, 0);
  EXPECT_EQ(SnapshotBytes(*r->engine, dir_), want_);
  EXPECT_EQ(ReadBytes(path), full_);
}

// Bad journal files: refused by InspectJournal, Recover and Journal::Open,
// naming the file and what is wrong.
void ExpectJournalRefused(const std::string& path, absl::StatusCode code,
                          absl::string_view what) {
  absl::StatusOr<JournalContents> c = InspectJournal(path);
  EXPECT_EQ(c.status().code(), code) << c.status();
  EXPECT_THAT(c.status().message(), HasSubstr(path));
  EXPECT_THAT(c.status().message(), HasSubstr(what));
  absl::StatusOr<Recovery> r = Recover("", path);
  EXPECT_EQ(r.status(), c.status());
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(path);
  EXPECT_EQ(j.status(), c.status());
}

TEST(BadJournalTest, Refusals) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  ASSERT_NE(OpenOrDie(path), nullptr);
  const std::string header = ReadBytes(path);

  WriteBytes(path, "");
  ExpectJournalRefused(path, absl::StatusCode::kDataLoss, "empty");
  WriteBytes(path, header.substr(0, 10));
  ExpectJournalRefused(path, absl::StatusCode::kDataLoss, "truncated header");
  WriteBytes(path, "NOTAJRNL" + header.substr(8));
  ExpectJournalRefused(path, absl::StatusCode::kDataLoss, "wrong magic");
  WriteBytes(path, "ALLOTSNP" + header.substr(8));  // a snapshot's magic
  ExpectJournalRefused(path, absl::StatusCode::kDataLoss, "wrong magic");
  std::string future = header;
  future[8] = 2;
  WriteBytes(path, future);
  ExpectJournalRefused(path, absl::StatusCode::kFailedPrecondition,
                       "format 2 is not supported");
  std::string reserved = header;
  reserved[12] = 1;
  WriteBytes(path, reserved);
  ExpectJournalRefused(path, absl::StatusCode::kDataLoss, "reserved");

  const std::string missing = dir + "/missing";
  EXPECT_EQ(InspectJournal(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(InspectJournal(missing).status().message(), HasSubstr(missing));
}

TEST(BadJournalTest, AJournalOfAnotherStateIsRefused) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::vector<Event> events = MakeStream(5, 300);
  // A snapshot of an engine that already has the experiments, and a journal
  // that creates them again.
  Engine other;
  RunEvents(other, events, 0, 10);
  ASSERT_TRUE(WriteSnapshot(other, dir + "/s").ok());
  {
    std::unique_ptr<Journal> journal = OpenOrDie(dir + "/j");
    Engine engine({.journal = journal.get()});
    RunEvents(engine, events, 0, events.size());
  }
  absl::StatusOr<Recovery> r = Recover(dir + "/s", dir + "/j");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot be applied"));
  EXPECT_THAT(r.status().message(), HasSubstr(dir + "/j"));

  // A snapshot older than the journal's first record: records are missing.
  std::unique_ptr<Journal> first = OpenOrDie(dir + "/j1");
  Engine engine({.journal = first.get()});
  RunEvents(engine, events, 0, 50);
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/s1").ok());
  RunEvents(engine, events, 50, 100);
  std::unique_ptr<Journal> second = OpenOrDie(dir + "/j2");
  engine.AttachJournal(second.get());
  RunEvents(engine, events, 100, events.size());
  second.reset();
  r = Recover(dir + "/s1", dir + "/j2");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("records are missing"));
}

// A journal of `bodies`, each framed with a valid checksum: what a buggy or
// hostile writer could produce.
std::string FramedJournal(const std::vector<std::string>& bodies) {
  std::string file("ALLOTJNL\1\0\0\0\0\0\0\0", 16);
  for (const std::string& body : bodies) {
    internal::PutU32(file, static_cast<uint32_t>(body.size()));
    internal::PutU64(file, internal::Checksum(body));
    file += body;
  }
  return file;
}

std::vector<std::string> CreateAndStart() {
  internal::JournalRecord create;
  create.sequence = 1;
  create.kind = internal::JournalRecord::Kind::kCreate;
  create.experiment = "checkout";
  create.config = BinaryConfig();
  internal::JournalRecord start;
  start.sequence = 2;
  start.kind = internal::JournalRecord::Kind::kStart;
  start.experiment = "checkout";
  start.time = kStart;
  return {internal::EncodeJournalRecord(create), internal::EncodeJournalRecord(start)};
}

TEST(BadJournalTest, AnAdvanceToInfinityIsRefusedNotLooped) {
  // The schedule would never catch up with an infinite time: replay must
  // refuse the record rather than hang.
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  std::vector<std::string> bodies = CreateAndStart();
  internal::JournalRecord advance;
  advance.sequence = 3;
  advance.kind = internal::JournalRecord::Kind::kAdvance;
  advance.time = absl::InfiniteFuture();
  bodies.push_back(internal::EncodeJournalRecord(advance));
  WriteBytes(dir + "/j", FramedJournal(bodies));
  absl::StatusOr<Recovery> r = Recover("", dir + "/j");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("record 3 (advance) cannot be applied"));
  EXPECT_THAT(r.status().message(), HasSubstr("finite"));

  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(BinaryConfig()).ok());
  EXPECT_EQ(engine.Start("checkout", absl::InfinitePast()).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine.Start("checkout", kStart).ok());
  EXPECT_EQ(engine.Advance(absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BadJournalTest, ABooleanOtherThanZeroOrOneIsCorrupt) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  std::vector<std::string> bodies = CreateAndStart();
  internal::JournalRecord exposure;
  exposure.sequence = 3;
  exposure.kind = internal::JournalRecord::Kind::kExposure;
  exposure.experiment = "checkout";
  exposure.unit = "u";
  exposure.time = kStart;
  std::string body = internal::EncodeJournalRecord(exposure);
  // The archive's endianness byte, sequence, kind, experiment, unit, time
  // (kind byte, seconds, nanos), then the has-unit-start flag.
  const size_t flag = 1 + 8 + 1 + (8 + 8) + (8 + 1) + (1 + 8 + 8);
  ASSERT_EQ(body[flag], 0);
  body[flag] = 2;
  bodies.push_back(body);
  WriteBytes(dir + "/j", FramedJournal(bodies));
  absl::StatusOr<JournalContents> c = InspectJournal(dir + "/j");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->records, 2);
  EXPECT_EQ(c->dropped_records, 1);
  EXPECT_THAT(c->dropped_reason, HasSubstr("bad boolean 2"));
}

TEST(JournalTest, BatchedRecordsAppearAfterFlush) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  const std::vector<Event> events = MakeStream(6, 200);
  std::unique_ptr<Journal> journal = OpenOrDie(
      path, {.flush = FlushPolicy::kBatched, .batch_interval = absl::Minutes(1)});
  ASSERT_NE(journal, nullptr);
  Engine engine({.journal = journal.get()});
  RunEvents(engine, events, 0, 100);
  const int64_t records = static_cast<int64_t>(journal->next_sequence()) - 1;
  ASSERT_GT(records, 50);
  EXPECT_EQ(InspectJournal(path)->records, 0);  // buffered
  ASSERT_TRUE(journal->Flush().ok());
  EXPECT_EQ(InspectJournal(path)->records, records);

  RunEvents(engine, events, 100, events.size());
  const int64_t all = static_cast<int64_t>(journal->next_sequence()) - 1;
  const auto closing = std::chrono::steady_clock::now();
  journal.reset();  // closing flushes, without waiting for the interval
  EXPECT_LT(std::chrono::steady_clock::now() - closing, std::chrono::seconds(5));
  EXPECT_EQ(InspectJournal(path)->records, all);
  absl::StatusOr<Recovery> r = Recover("", path);
  ASSERT_TRUE(r.ok()) << r.status();
  engine.AttachJournal(nullptr);
  EXPECT_EQ(SnapshotBytes(*r->engine, dir), SnapshotBytes(engine, dir));
}

TEST(JournalTest, BatchedRecordsAppearAfterTheInterval) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  std::unique_ptr<Journal> journal = OpenOrDie(
      path, {.flush = FlushPolicy::kBatched, .batch_interval = absl::Milliseconds(20)});
  ASSERT_NE(journal, nullptr);
  Engine engine({.journal = journal.get()});
  ASSERT_TRUE(engine.CreateExperiment(BinaryConfig()).ok());
  ASSERT_TRUE(engine.Start("checkout", kStart).ok());
  // Without Flush, the background flusher writes them within the interval;
  // allow generously for a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int64_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = InspectJournal(path)->records;
    if (seen == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(seen, 2);
}

TEST(JournalTest, EveryRecordPolicyWritesBeforeReturning) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  std::unique_ptr<Journal> journal = OpenOrDie(path);
  Engine engine({.journal = journal.get()});
  ASSERT_TRUE(engine.CreateExperiment(BinaryConfig()).ok());
  EXPECT_EQ(InspectJournal(path)->records, 1);
  ASSERT_TRUE(engine.Start("checkout", kStart).ok());
  EXPECT_EQ(InspectJournal(path)->records, 2);
  ASSERT_TRUE(engine.Assign("checkout", "u", kStart).ok());
  EXPECT_EQ(InspectJournal(path)->records, 3);
}

TEST(JournalTest, BatchIntervalMustBeInRange) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  for (absl::Duration d : {absl::ZeroDuration(), absl::Milliseconds(-1), absl::Minutes(2),
                           absl::InfiniteDuration()}) {
    SCOPED_TRACE(absl::FormatDuration(d));
    absl::StatusOr<std::unique_ptr<Journal>> j =
        Journal::Open(dir + "/j", {.flush = FlushPolicy::kBatched, .batch_interval = d});
    EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(j.status().message(), HasSubstr("batch_interval"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/j"));
}

TEST(JournalTest, InspectCountsRecordsByKind) {
  const ScratchDir scratch("journal_test");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/j";
  std::unique_ptr<Journal> journal = OpenOrDie(path);
  Engine engine({.journal = journal.get()});
  ASSERT_TRUE(engine.CreateExperiment(BinaryConfig()).ok());
  ASSERT_TRUE(engine.CreateExperiment(test::LatencyConfig()).ok());
  ASSERT_TRUE(engine.Start("checkout", kStart).ok());
  ASSERT_TRUE(engine.Start("latency", kStart).ok());
  const absl::Time t = kStart + absl::Minutes(1);
  ASSERT_TRUE(engine.Assign("checkout", "u1", t).ok());
  ASSERT_TRUE(engine.Assign("checkout", "u2", t).ok());
  ASSERT_TRUE(engine.Assign("latency", "u1", t, kStart).ok());
  ASSERT_TRUE(engine.Assign("checkout", "u1", t).ok());  // returning: no record
  ASSERT_TRUE(engine.RecordOutcome("checkout", "u1", t, 1).ok());
  ASSERT_TRUE(engine.RecordOutcome("checkout", "nobody", t, 1).ok());  // unknown
  ASSERT_FALSE(engine.RecordOutcome("checkout", "u1", t, 7).ok());     // no record
  ASSERT_TRUE(engine.Advance(t + absl::Minutes(1)).ok());
  ASSERT_TRUE(engine.Stop("latency", t + absl::Minutes(2)).ok());
  ASSERT_TRUE(engine.Delete("latency").ok());
  absl::StatusOr<JournalContents> c = InspectJournal(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->records, 12);
  EXPECT_EQ(c->first_sequence, 1u);
  EXPECT_EQ(c->last_sequence, 12u);
  EXPECT_THAT(c->records_by_kind,
              ::testing::ElementsAre(Pair("create", 2), Pair("start", 2), Pair("stop", 1),
                                     Pair("delete", 1), Pair("exposure", 3),
                                     Pair("outcome", 2), Pair("advance", 1)));
  EXPECT_EQ(c->dropped_records, 0);
  EXPECT_EQ(c->good_bytes, static_cast<int64_t>(std::filesystem::file_size(path)));
}

}  // namespace
}  // namespace allot
