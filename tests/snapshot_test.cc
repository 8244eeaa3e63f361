// Copyright 2026 The allot Authors.
//
// Snapshots: a restored engine continues bit for bit like the one that never
// stopped, snapshots of equal state are byte-identical, and every kind of
// bad file is refused with an error naming the file and what is wrong.

#include "allot/snapshot.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/report.h"
#include "durability/file_io.h"
#include "durability/state_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine_access.h"
#include "tests/event_stream.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using test::ReadBytes;
using test::ScratchDir;
using test::WriteBytes;

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

// Writes a snapshot of each engine and expects the files to be identical.
void ExpectSameSnapshot(const Engine& a, const Engine& b, const std::string& dir) {
  const std::string pa = dir + "/a.snapshot", pb = dir + "/b.snapshot";
  ASSERT_TRUE(WriteSnapshot(a, pa).ok());
  ASSERT_TRUE(WriteSnapshot(b, pb).ok());
  const std::string ba = ReadBytes(pa), bb = ReadBytes(pb);
  ASSERT_EQ(ba.size(), bb.size()) << "snapshot sizes differ";
  const auto diff = std::mismatch(ba.begin(), ba.end(), bb.begin());
  EXPECT_TRUE(diff.first == ba.end())
      << "snapshots differ at byte " << (diff.first - ba.begin()) << " of " << ba.size();
}

ExperimentConfig CheckoutConfig() {  // binary, thompson, with a holdout
  ExperimentConfig c;
  c.id = "checkout";
  c.arms = {{"a", 1}, {"b", 1}, {"c", 2}};
  c.holdout = 0.1;
  c.baseline = "a";
  c.policy.kind = PolicyKind::kThompson;
  c.max_shift = 0.5;
  c.seed = 11;
  c.schedule.burn_in = absl::Hours(1);
  c.schedule.interval = absl::Minutes(30);
  c.schedule.conversion_window = absl::Minutes(30);
  c.schedule.min_units_per_arm = 5;
  return c;
}

ExperimentConfig LatencyConfig() {  // continuous, lower is better
  ExperimentConfig c;
  c.id = "latency";
  c.arms = {{"fast", 1}, {"slow", 1}};
  c.metric = MetricKind::kContinuous;
  c.direction = Direction::kLowerIsBetter;
  c.policy.kind = PolicyKind::kEpsilonGreedy;
  c.policy.epsilon = 0.2;
  c.fallback = "slow";
  c.seed = 5;
  c.schedule.burn_in = absl::Minutes(45);
  c.schedule.interval = absl::Minutes(20);
  c.schedule.conversion_window = absl::Minutes(20);
  c.schedule.min_units_per_arm = 5;
  return c;
}

ExperimentConfig LegacyConfig() {  // deleted part way through
  ExperimentConfig c;
  c.id = "legacy";
  c.arms = {{"p", 1}, {"q", 1}};
  c.schedule.burn_in = absl::Minutes(30);
  c.schedule.interval = absl::Minutes(30);
  c.schedule.conversion_window = absl::Minutes(10);
  c.schedule.min_units_per_arm = 2;
  return c;
}

const char* const kExperiments[] = {"checkout", "latency", "legacy"};

void SetUpEngine(Engine& engine) {
  for (const ExperimentConfig& c : {CheckoutConfig(), LatencyConfig(), LegacyConfig()}) {
    ASSERT_TRUE(engine.CreateExperiment(c).ok());
    ASSERT_TRUE(engine.Start(c.id, kStart).ok());
  }
}

using Event = test::EngineEvent;
using test::RunEvents;

// A seeded stream of `n` events over the three experiments after their
// creates and starts (see tests/event_stream.h): advances every 7 minutes
// through many reallocations; "legacy" is deleted at 30% and "latency"
// stopped at 70%.
std::vector<Event> MakeStream(uint64_t seed, int n) {
  return test::MakeEventStream(
      seed, n,
      {.experiments = {CheckoutConfig(), LatencyConfig(), LegacyConfig()},
       .start = kStart,
       .max_step_seconds = 30,
       .advance_every = absl::Minutes(7),
       .stop_second_at = 0.7,
       .delete_third_at = 0.3});
}

// Everything observable about one experiment, as text.
std::string Observe(const Engine& engine, absl::string_view id) {
  std::string out = absl::StrCat(id, "\n");
  absl::StatusOr<std::vector<ReallocationReport>> reports = engine.Reports(id);
  absl::StrAppend(
      &out, reports.ok() ? ReportsToJson(*reports) : reports.status().ToString(), "\n");
  absl::StatusOr<AllocationHistory> history = engine.History(id);
  absl::StrAppend(&out, history.ok() ? history->ToJson() : history.status().ToString(),
                  "\n");
  absl::StatusOr<int64_t> open = engine.OpenUnits(id);
  absl::StrAppend(&out, open.ok() ? absl::StrCat(*open) : open.status().ToString(), "\n");
  absl::StatusOr<ExperimentState> state = engine.State(id);
  absl::StrAppend(&out, state.ok() ? absl::StrCat(static_cast<int>(*state))
                                   : state.status().ToString());
  return out;
}

TEST(SnapshotTest, RestoreContinuesBitForBitLikeAnUninterruptedRun) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  const std::vector<Event> events = MakeStream(/*seed=*/20260101, 4000);
  const size_t half = events.size() / 2;

  Engine original;  // the stream's first events create and start
  RunEvents(original, events, 0, half);
  const std::string path = dir + "/half.snapshot";
  ASSERT_TRUE(WriteSnapshot(original, path).ok());
  std::unique_ptr<Engine> restored;
  {
    absl::StatusOr<std::unique_ptr<Engine>> r = ReadSnapshot(path);
    ASSERT_TRUE(r.ok()) << r.status();
    restored = *std::move(r);
  }
  for (const char* id : kExperiments) {
    EXPECT_EQ(Observe(*restored, id), Observe(original, id));
  }
  ExpectSameSnapshot(original, *restored, dir);

  const std::vector<std::string> want = RunEvents(original, events, half, events.size());
  const std::vector<std::string> got = RunEvents(*restored, events, half, events.size());
  ASSERT_EQ(got.size(), want.size());
  int assigns = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << "event " << half + i << " differs";
    assigns += events[half + i].kind == Event::kAssign;
  }
  EXPECT_GT(assigns, 500);
  // After the restore: late (1), unknown-unit (2) and duplicate (3)
  // outcomes, and refused calls, all answered alike.
  for (const char* answer :
       {"disposition=1", "disposition=2", "disposition=3", "INVALID_ARGUMENT"}) {
    EXPECT_TRUE(std::any_of(want.begin(), want.end(), [&](const std::string& a) {
      return a.find(answer) != std::string::npos;
    })) << answer;
  }
  for (const char* id : kExperiments) {
    EXPECT_EQ(Observe(*restored, id), Observe(original, id));
  }
  ExpectSameSnapshot(original, *restored, dir);

  // The stream must have exercised what it claims: reallocations on both
  // sides of the snapshot, a stop and a delete.
  absl::StatusOr<std::vector<ReallocationReport>> reports = original.Reports("checkout");
  ASSERT_TRUE(reports.ok());
  int before = 0, after = 0;
  const absl::Time half_time = events[half].time;
  for (const ReallocationReport& r : *reports) {
    if (r.reallocated) (r.time < half_time ? before : after)++;
  }
  EXPECT_GE(before, 2);
  EXPECT_GE(after, 2);
  reports = original.Reports("latency");
  ASSERT_TRUE(reports.ok());
  EXPECT_TRUE(std::any_of(reports->begin(), reports->end(),
                          [](const ReallocationReport& r) { return r.reallocated; }));
  EXPECT_EQ(*original.State("latency"), ExperimentState::kStopped);
  EXPECT_EQ(original.History("legacy").status().code(), absl::StatusCode::kNotFound);
}

TEST(SnapshotTest, SnapshotsOfEqualStateAreByteIdentical) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  const std::vector<Event> events = MakeStream(7, 1500);
  Engine a, b;
  RunEvents(a, events, 0, events.size());
  RunEvents(b, events, 0, events.size());
  ExpectSameSnapshot(a, b, dir);
  ExpectSameSnapshot(a, a, dir);  // writing twice changes nothing
}

TEST(SnapshotTest, EmptyEngineRoundTrips) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/empty.snapshot").ok());
  absl::StatusOr<std::unique_ptr<Engine>> restored =
      ReadSnapshot(dir + "/empty.snapshot");
  ASSERT_TRUE(restored.ok()) << restored.status();
  ExpectSameSnapshot(engine, **restored, dir);
}

TEST(SnapshotTest, CreatedButNotStartedExperimentRoundTrips) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  ASSERT_TRUE(engine.CreateExperiment(CheckoutConfig()).ok());
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/s").ok());
  absl::StatusOr<std::unique_ptr<Engine>> restored = ReadSnapshot(dir + "/s");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*(*restored)->State("checkout"), ExperimentState::kCreated);
  ASSERT_TRUE((*restored)->Start("checkout", kStart).ok());
  ASSERT_TRUE(engine.Start("checkout", kStart).ok());
  ExpectSameSnapshot(engine, **restored, dir);
}

TEST(SnapshotTest, ApplicationDataRoundTrips) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  SetUpEngine(engine);
  const std::string data = std::string("cursor=1234\0binary\xff", 19);
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/s", data).ok());
  std::string got = "stale";
  ASSERT_TRUE(ReadSnapshot(dir + "/s", &got).ok());
  EXPECT_EQ(got, data);
  absl::StatusOr<SnapshotContents> contents = InspectSnapshot(dir + "/s");
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->application_data, data);

  ASSERT_TRUE(WriteSnapshot(engine, dir + "/s").ok());  // overwrites
  ASSERT_TRUE(ReadSnapshot(dir + "/s", &got).ok());
  EXPECT_EQ(got, "");
}

TEST(SnapshotTest, SurfaceAndPayloadsRoundTrip) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  ExperimentConfig config = CheckoutConfig();
  config.surface = "support-bot";
  config.arms[0].payload = R"({"model":"m-1","stop":["\n"],"nested":{"a":1}})";
  config.arms[1].initial_share = 0.3;
  ASSERT_TRUE(engine.CreateExperiment(config).ok());
  ASSERT_TRUE(engine.Start(config.id, kStart).ok());
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/s").ok());
  absl::StatusOr<std::unique_ptr<Engine>> restored = ReadSnapshot(dir + "/s");
  ASSERT_TRUE(restored.ok()) << restored.status();
  ExpectSameSnapshot(engine, **restored, dir);
  const internal::EngineState state = internal::EngineAccess::Export(**restored);
  ASSERT_EQ(state.experiments.size(), 1u);
  const ExperimentConfig& got = state.experiments[0].config;
  EXPECT_EQ(got.surface, "support-bot");
  ASSERT_EQ(got.arms.size(), config.arms.size());
  for (size_t a = 0; a < got.arms.size(); ++a) {
    EXPECT_EQ(got.arms[a].payload, config.arms[a].payload) << a;
    EXPECT_EQ(got.arms[a].initial_share, config.arms[a].initial_share) << a;
  }
  absl::StatusOr<SnapshotContents> contents = InspectSnapshot(dir + "/s");
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_EQ(contents->experiments.size(), 1u);
  EXPECT_EQ(contents->experiments[0].surface, "support-bot");
  // The restored engine keeps the rule: a second experiment on the surface
  // does not start while the first runs.
  ExperimentConfig second = CheckoutConfig();
  second.id = "checkout-2";
  second.surface = "support-bot";
  ASSERT_TRUE((*restored)->CreateExperiment(second).ok());
  EXPECT_EQ((*restored)->Start("checkout-2", kStart).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SnapshotTest, WriteIntoAMissingDirectoryFailsAndWritesNothing) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  const std::string path = dir + "/no/such/dir/engine.snapshot";
  absl::Status s = WriteSnapshot(engine, path);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_FALSE(std::filesystem::exists(dir + "/no"));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(SnapshotTest, AtomicWriteLeavesOnlyTheTarget) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  Engine engine;
  SetUpEngine(engine);
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/engine.snapshot").ok());
  ASSERT_TRUE(WriteSnapshot(engine, dir + "/engine.snapshot").ok());
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("engine.snapshot"));
}

TEST(SnapshotTest, InspectReportsTheContents) {
  const ScratchDir scratch("snapshot_test");
  const std::string& dir = scratch.path();
  const std::vector<Event> events = MakeStream(3, 3000);
  Engine engine;
  RunEvents(engine, events, 0, events.size());
  const std::string path = dir + "/s";
  ASSERT_TRUE(WriteSnapshot(engine, path, "app").ok());
  absl::StatusOr<SnapshotContents> c = InspectSnapshot(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->format, kSnapshotFormat);
  EXPECT_EQ(c->payload_bytes, std::filesystem::file_size(path) - 32);
  absl::Time last_advance = absl::InfinitePast();
  for (const Event& e : events) {
    if (e.kind == Event::kAdvance) last_advance = e.time;
  }
  EXPECT_EQ(c->clock, last_advance);
  EXPECT_EQ(c->journal_sequence, 0u);
  EXPECT_EQ(c->application_data, "app");
  EXPECT_THAT(c->deleted_experiments, ::testing::ElementsAre("legacy"));
  ASSERT_EQ(c->experiments.size(), 2u);
  EXPECT_EQ(c->experiments[0].id, "checkout");
  EXPECT_EQ(c->experiments[0].state, "running");
  EXPECT_EQ(c->experiments[1].id, "latency");
  EXPECT_EQ(c->experiments[1].state, "stopped");
  for (const SnapshotExperimentSummary& e : c->experiments) {
    EXPECT_EQ(e.epochs, static_cast<int64_t>(engine.History(e.id)->epochs().size()));
    EXPECT_EQ(e.open_units, *engine.OpenUnits(e.id));
    EXPECT_EQ(e.reports, static_cast<int64_t>(engine.Reports(e.id)->size()));
    EXPECT_GT(e.epochs, 1) << e.id;
    EXPECT_GT(e.reports, 0) << e.id;
  }
}

// Bad files. Every refusal names the file and says what is wrong.
class BadSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path();
    Engine engine;
    const std::vector<Event> events = MakeStream(1, 300);
    RunEvents(engine, events, 0, events.size());
    good_path_ = dir_ + "/good.snapshot";
    ASSERT_TRUE(WriteSnapshot(engine, good_path_).ok());
    good_ = ReadBytes(good_path_);
    ASSERT_GT(good_.size(), 200u);
  }

  // Writes `bytes` to a file and expects every reader to refuse it with
  // `code` and a message naming the file and containing `what`.
  void ExpectRefused(const std::string& bytes, absl::StatusCode code,
                     absl::string_view what) {
    const std::string path = dir_ + "/bad.snapshot";
    WriteBytes(path, bytes);
    absl::StatusOr<std::unique_ptr<Engine>> read = ReadSnapshot(path);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.status().code(), code) << read.status();
    EXPECT_THAT(read.status().message(), HasSubstr(path));
    EXPECT_THAT(read.status().message(), HasSubstr(what));
    absl::StatusOr<SnapshotContents> inspect = InspectSnapshot(path);
    ASSERT_FALSE(inspect.ok());
    EXPECT_EQ(inspect.status(), read.status());
  }

  void ExpectReads(const std::string& bytes) {
    const std::string path = dir_ + "/other.snapshot";
    WriteBytes(path, bytes);
    EXPECT_TRUE(ReadSnapshot(path).ok());
    EXPECT_TRUE(InspectSnapshot(path).ok());
  }

  ScratchDir scratch_;
  std::string dir_;
  std::string good_path_;
  std::string good_;
};

TEST_F(BadSnapshotTest, GoodFileReads) { EXPECT_TRUE(ReadSnapshot(good_path_).ok()); }

TEST_F(BadSnapshotTest, MissingFileIsNotFound) {
  const std::string path = dir_ + "/missing.snapshot";
  absl::StatusOr<std::unique_ptr<Engine>> r = ReadSnapshot(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_EQ(InspectSnapshot(path).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BadSnapshotTest, EmptyFile) {
  ExpectRefused("", absl::StatusCode::kDataLoss, "empty");
}

TEST_F(BadSnapshotTest, TruncatedInsideTheHeader) {
  for (size_t cut : {1, 7, 8, 12, 20, 31}) {
    SCOPED_TRACE(cut);
    ExpectRefused(good_.substr(0, cut), absl::StatusCode::kDataLoss, "truncated header");
  }
}

TEST_F(BadSnapshotTest, TruncatedInsideThePayload) {
  for (size_t cut : {size_t{32}, size_t{33}, good_.size() / 2, good_.size() - 1}) {
    SCOPED_TRACE(cut);
    ExpectRefused(good_.substr(0, cut), absl::StatusCode::kDataLoss,
                  "truncated or padded");
  }
}

TEST_F(BadSnapshotTest, TrailingGarbage) {
  ExpectRefused(good_ + "x", absl::StatusCode::kDataLoss, "truncated or padded");
  ExpectRefused(good_ + good_, absl::StatusCode::kDataLoss, "truncated or padded");
}

TEST_F(BadSnapshotTest, WrongMagic) {
  std::string bytes = good_;
  bytes.replace(0, 8, "NOTASNAP");
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "wrong magic");
  // A journal is not a snapshot.
  ExpectRefused("ALLOTJNL" + good_.substr(8), absl::StatusCode::kDataLoss, "wrong magic");
}

TEST_F(BadSnapshotTest, FutureFormatIsFailedPrecondition) {
  std::string bytes = good_;
  bytes[8] = 2;  // u32 format, little-endian
  ExpectRefused(bytes, absl::StatusCode::kFailedPrecondition,
                "format 2 is not supported");
}

TEST_F(BadSnapshotTest, BitFlipsAtNamedPlaces) {
  struct Case {
    size_t offset;
    absl::StatusCode code;
    const char* what;
  };
  const Case cases[] = {
      {0, absl::StatusCode::kDataLoss, "wrong magic"},
      {7, absl::StatusCode::kDataLoss, "wrong magic"},
      {16, absl::StatusCode::kDataLoss, "truncated or padded"},  // size
      {23, absl::StatusCode::kDataLoss, "truncated or padded"},
      {24, absl::StatusCode::kDataLoss, "checksum mismatch"},  // checksum
      {31, absl::StatusCode::kDataLoss, "checksum mismatch"},
      {32, absl::StatusCode::kDataLoss, "checksum mismatch"},  // payload
      {good_.size() / 2, absl::StatusCode::kDataLoss, "checksum mismatch"},
      {good_.size() - 1, absl::StatusCode::kDataLoss, "checksum mismatch"},
  };
  for (const Case& c : cases) {
    for (int bit : {0, 7}) {
      SCOPED_TRACE(absl::StrCat("offset ", c.offset, " bit ", bit));
      std::string bytes = good_;
      bytes[c.offset] ^= static_cast<char>(1 << bit);
      ExpectRefused(bytes, c.code, c.what);
    }
  }
}

TEST_F(BadSnapshotTest, EveryHeaderBitFlipAndSampledPayloadFlipsAreRefused) {
  // The header is all meaningful (the reserved word must be 0) and the
  // payload is checksummed, so no flipped bit goes unnoticed: every bit of
  // the header, and one bit in each of ~400 payload bytes spread over it.
  const std::string path = dir_ + "/flipped.snapshot";
  std::vector<std::pair<size_t, int>> flips;
  for (size_t offset = 0; offset < 32; ++offset) {
    for (int bit = 0; bit < 8; ++bit) flips.emplace_back(offset, bit);
  }
  const size_t stride = std::max<size_t>(1, (good_.size() - 32) / 400);
  for (size_t offset = 32; offset < good_.size(); offset += stride) {
    flips.emplace_back(offset, static_cast<int>(offset % 8));
  }
  flips.emplace_back(good_.size() - 1, 7);
  for (const auto& [offset, bit] : flips) {
    std::string bytes = good_;
    bytes[offset] ^= static_cast<char>(1 << bit);
    WriteBytes(path, bytes);
    absl::StatusOr<std::unique_ptr<Engine>> r = ReadSnapshot(path);
    ASSERT_FALSE(r.ok()) << "a flip of bit " << bit << " at offset " << offset
                         << " was accepted";
    ASSERT_THAT(r.status().message(), HasSubstr(path));
  }
}

TEST_F(BadSnapshotTest, ReservedHeaderWordMustBeZero) {
  std::string bytes = good_;
  bytes[13] = 1;
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "reserved");
}

TEST_F(BadSnapshotTest, CorruptPayloadWithAValidChecksum) {
  // What a buggy writer or a deliberate edit produces: the checksum holds
  // but the payload does not decode. Refused, never half-loaded.
  auto wrap = [](const std::string& payload) {
    std::string file = "ALLOTSNP";
    internal::PutU32(file, kSnapshotFormat);
    internal::PutU32(file, 0);
    internal::PutU64(file, payload.size());
    internal::PutU64(file, internal::Checksum(payload));
    return file + payload;
  };
  const std::string payload = good_.substr(32);
  ExpectRefused(wrap(payload.substr(0, payload.size() / 2)), absl::StatusCode::kDataLoss,
                "corrupt");
  ExpectRefused(wrap(payload + "xyz"), absl::StatusCode::kDataLoss, "trailing bytes");
  ExpectRefused(wrap(std::string(64, '\xff')), absl::StatusCode::kDataLoss, "corrupt");
  ExpectRefused(wrap(""), absl::StatusCode::kDataLoss, "corrupt");
  ExpectRefused(wrap(wrap(payload)), absl::StatusCode::kDataLoss, "corrupt");
}

// Found by state_fuzzer: the clock is kept in whole microseconds (saturated
// beyond int64 microseconds), so an engine started and advanced at times
// with nanoseconds, or in the year -212 billion, or whose schedule runs past
// the end of time, wrote snapshots the meaning checks refused.
TEST_F(BadSnapshotTest, ReachableStatesPassTheMeaningChecks) {
  const std::pair<absl::Time, absl::Duration> cases[] = {
      {absl::FromUnixSeconds(1767225600) + absl::Nanoseconds(999), absl::Hours(3)},
      // Before the range of int64 microseconds, where the clock saturates.
      {absl::FromUnixSeconds(-6'700'000'000'000'000), absl::Hours(3)},
      // The first grid point, an hour on, is past the end of time.
      {absl::FromUnixSeconds(std::numeric_limits<int64_t>::max() - 10),
       absl::Seconds(5)}};
  for (const auto& [start, advance] : cases) {
    Engine engine;
    ExperimentConfig c;
    c.id = "exp";
    c.arms = {{"a", 1}, {"b", 1}};
    c.schedule.burn_in = absl::Hours(1);
    c.schedule.interval = absl::Hours(1);
    c.schedule.min_units_per_arm = 0;
    ASSERT_TRUE(engine.CreateExperiment(c).ok());
    ASSERT_TRUE(engine.Start("exp", start).ok());
    // (Refused at the edges of time, where the clock saturates.)
    (void)engine.Assign("exp", "u", start + absl::Nanoseconds(1));
    ASSERT_TRUE(engine.Advance(start + advance).ok());
    const std::string path = dir_ + "/reachable.snapshot";
    ASSERT_TRUE(WriteSnapshot(engine, path).ok());
    absl::StatusOr<std::unique_ptr<Engine>> read = ReadSnapshot(path);
    EXPECT_TRUE(read.ok()) << read.status();
  }
}

// Checksum-valid snapshots whose values were edited to mean nothing: each
// decoded to the right length and was accepted by inspection, and some
// aborted the restore with a Boost.Math error. Refused by both.
TEST_F(BadSnapshotTest, DecodedStateIsValidatedForMeaning) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = ReadSnapshot(good_path_);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const internal::EngineState good = internal::EngineAccess::Export(**engine);
  ASSERT_FALSE(good.experiments.empty());
  ASSERT_FALSE(good.experiments[0].ledger.exposures.empty());
  ASSERT_FALSE(good.experiments[0].aggregates.empty());
  ASSERT_FALSE(good.experiments[0].reports.empty());
  auto wrap = [](const internal::EngineState& state) {
    const std::string payload = internal::EncodeEngineState(state);
    std::string file = "ALLOTSNP";
    internal::PutU32(file, kSnapshotFormat);
    internal::PutU32(file, 0);
    internal::PutU64(file, payload.size());
    internal::PutU64(file, internal::Checksum(payload));
    return file + payload;
  };
  auto edited = [&](auto edit) {
    internal::EngineState state = good;
    edit(state.experiments[0]);
    return wrap(state);
  };
  std::string bytes;
  // The untouched state re-encodes into a good snapshot.
  ExpectReads(wrap(good));
  bytes = edited([](auto& e) { e.ledger.exposures[0][0] = -5; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "exposures[0][0] must be in [0, ");
  bytes = edited([](auto& e) { e.aggregates[0][1].n = -1; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "aggregates[0][1].n must be");
  bytes = edited([](auto& e) { e.aggregates[0][0].sum = NAN; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss,
                "aggregates[0][0] must have a finite");
  bytes = edited([](auto& e) {
    e.aggregates[0][0].n = 10;
    e.aggregates[0][0].sum = 10;
    e.aggregates[0][0].sum_sq = 1;  // sum^2 = 100 > n sum_sq = 10
  });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "inconsistent with 10 units");
  bytes = edited([](auto& e) { e.late = -1; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "late outcomes must be");
  bytes = edited([](auto& e) { e.config.prior_alpha = 1e17; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "policy.prior_alpha must be in");
  bytes = edited([](auto& e) { e.epochs.back().weights[0] = 7; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "weights must be in [0, 1], got 7");
  bytes = edited([](auto& e) { e.epochs[0].number = 3; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "epoch 0 is numbered 3");
  // A next due time far behind the clock would replay every grid point
  // missed at the next Advance.
  bytes = edited(
      [](auto& e) { e.next_due = e.start + FirstReallocationDelay(e.config.schedule); });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "is not the first grid point after");
  bytes = edited([](auto& e) { e.next_due += absl::Seconds(1); });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "is not the first grid point after");
  bytes = edited([](auto& e) { e.reports[0].arms[0].units = -1; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "units must be in [0, ");
  bytes = edited([](auto& e) { e.reports[0].winner = 99; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "report winner must be -1 or an arm");
  bytes = edited([](auto& e) { e.reports[0].arms[0].p_best = 2; });
  ExpectRefused(bytes, absl::StatusCode::kDataLoss, "p_best must be in [0, 1], got 2");
}

}  // namespace
}  // namespace allot
