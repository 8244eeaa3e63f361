// Copyright 2026 The allot Authors.
//
// The byte codec under snapshots and the journal: the engine's state and
// every kind of journal record survive a round trip, and truncated, padded,
// lying or random input is refused with DataLoss rather than a crash or a
// huge allocation.

#include "durability/state_codec.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/engine_access.h"
#include "runtime/engine_state.h"
#include "tests/event_stream.h"

namespace allot::internal {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

ExperimentConfig CheckoutConfig() {
  ExperimentConfig c;
  c.id = "checkout";
  c.salt = "salt-1";
  c.arms = {{"a", 1}, {"b", 2}, {"c", 1}};
  c.holdout = 0.1;
  c.baseline = "a";
  c.fallback = "b";
  c.seed = 17;
  c.schedule.burn_in = absl::Minutes(40);
  c.schedule.interval = absl::Minutes(20);
  c.schedule.conversion_window = absl::Minutes(15);
  c.schedule.min_units_per_arm = 3;
  return c;
}

// The state of an engine that went through a seeded stream: open and
// matured units, several epochs, reports, a stopped experiment.
EngineState BusyState() {
  Engine engine;
  for (const test::EngineEvent& e : test::MakeEventStream(
           /*seed=*/8, 1500,
           {.experiments = {CheckoutConfig(), test::LatencyConfig()}, .start = kStart})) {
    (void)test::ApplyEvent(engine, e);
  }
  EngineState state = EngineAccess::Export(engine);
  state.journal_sequence = 1234;
  state.application_data = std::string("cursor=9\0\xff", 10);
  return state;
}

TEST(StateCodecTest, EngineStateRoundTrips) {
  const EngineState state = BusyState();
  // The stream must have produced a state worth encoding.
  ASSERT_EQ(state.experiments.size(), 2u);
  ASSERT_GT(state.experiments[0].epochs.size(), 2u);
  ASSERT_GT(state.experiments[0].reports.size(), 2u);
  ASSERT_FALSE(state.experiments[0].ledger.open.empty());

  const std::string bytes = EncodeEngineState(state);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  // Equal bytes on re-encoding: nothing was lost or changed.
  EXPECT_TRUE(EncodeEngineState(*decoded) == bytes) << "re-encoding differs";
  EXPECT_EQ(decoded->clock, state.clock);
  EXPECT_EQ(decoded->journal_sequence, 1234u);
  EXPECT_EQ(decoded->application_data, state.application_data);
  ASSERT_EQ(decoded->experiments.size(), state.experiments.size());
  for (size_t i = 0; i < state.experiments.size(); ++i) {
    const ExperimentRuntimeState& want = state.experiments[i];
    const ExperimentRuntimeState& got = decoded->experiments[i];
    EXPECT_EQ(got.config.id, want.config.id);
    EXPECT_EQ(got.config.salt, want.config.salt);
    EXPECT_EQ(got.config.arms.size(), want.config.arms.size());
    EXPECT_EQ(got.config.metric, want.config.metric);
    EXPECT_EQ(got.lifecycle, want.lifecycle);
    EXPECT_EQ(got.start, want.start);
    EXPECT_EQ(got.stop_us, want.stop_us);
    EXPECT_EQ(got.epochs.size(), want.epochs.size());
    EXPECT_EQ(got.ledger.open.size(), want.ledger.open.size());
    EXPECT_EQ(got.ledger.matured, want.ledger.matured);
    EXPECT_EQ(got.ledger.exposures, want.ledger.exposures);
    EXPECT_EQ(got.late, want.late);
    EXPECT_EQ(got.unknown, want.unknown);
    EXPECT_EQ(got.duplicate, want.duplicate);
    EXPECT_EQ(got.next_due, want.next_due);
    EXPECT_EQ(ReportsToJson(got.reports), ReportsToJson(want.reports));
  }
  // An engine imported from it exports the same state (the application
  // data belongs to the snapshot file, not the engine).
  absl::StatusOr<std::unique_ptr<Engine>> imported = EngineAccess::Import(*decoded);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EngineState again = EngineAccess::Export(**imported);
  again.application_data = decoded->application_data;
  EXPECT_TRUE(EncodeEngineState(again) == bytes) << "import and export changed the state";
}

TEST(StateCodecTest, EmptyEngineStateRoundTrips) {
  const EngineState empty;
  const std::string bytes = EncodeEngineState(empty);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->clock, absl::InfinitePast());
  EXPECT_TRUE(decoded->experiments.empty());
  EXPECT_TRUE(EncodeEngineState(*decoded) == bytes);
}

JournalRecord Record(JournalRecord::Kind kind) {
  JournalRecord r;
  r.sequence = 0x0102030405060708ull;
  r.kind = kind;
  r.experiment = "checkout";
  r.time = kStart + absl::Nanoseconds(123456789);
  return r;
}

// Every field of `got` equals `want` (doubles by their bits).
void ExpectSameRecord(const JournalRecord& got, const JournalRecord& want) {
  EXPECT_EQ(got.sequence, want.sequence);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.experiment, want.experiment);
  EXPECT_EQ(got.unit, want.unit);
  EXPECT_EQ(got.time, want.time);
  EXPECT_EQ(got.unit_start, want.unit_start);
  EXPECT_EQ(std::bit_cast<uint64_t>(got.value), std::bit_cast<uint64_t>(want.value));
}

std::vector<JournalRecord> EveryKind() {
  std::vector<JournalRecord> records;
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  records.push_back(create);
  records.push_back(Record(JournalRecord::Kind::kStart));
  records.push_back(Record(JournalRecord::Kind::kStop));
  records.push_back(Record(JournalRecord::Kind::kDelete));
  JournalRecord exposure = Record(JournalRecord::Kind::kExposure);
  static constexpr char kNulUnit[] = "user\0with nul \xe2\x82\xac";
  exposure.unit = std::string(kNulUnit, sizeof(kNulUnit) - 1);  // 17 bytes
  records.push_back(exposure);
  exposure.unit = "pinned";
  exposure.unit_start = kStart - absl::Hours(3) + absl::Nanoseconds(1);
  records.push_back(exposure);
  JournalRecord outcome = Record(JournalRecord::Kind::kOutcome);
  outcome.unit = "u7";
  outcome.value = -0.1 / 3;
  records.push_back(outcome);
  JournalRecord advance = Record(JournalRecord::Kind::kAdvance);
  advance.experiment = "";
  records.push_back(advance);
  return records;
}

TEST(StateCodecTest, EveryJournalRecordKindRoundTrips) {
  for (const JournalRecord& want : EveryKind()) {
    SCOPED_TRACE(JournalKindName(want.kind));
    const std::string bytes = EncodeJournalRecord(want);
    absl::StatusOr<JournalRecord> got = DecodeJournalRecord(bytes);
    ASSERT_TRUE(got.ok()) << got.status();
    ExpectSameRecord(*got, want);
    EXPECT_EQ(EncodeJournalRecord(*got), bytes);
    if (want.kind == JournalRecord::Kind::kCreate) {
      EXPECT_EQ(got->config.id, "checkout");
      EXPECT_EQ(got->config.salt, "salt-1");
      ASSERT_EQ(got->config.arms.size(), 3u);
      EXPECT_EQ(got->config.arms[1].id, "b");
      EXPECT_EQ(got->config.arms[1].weight, 2);
      EXPECT_EQ(got->config.holdout, 0.1);
      EXPECT_EQ(got->config.baseline, "a");
      EXPECT_EQ(got->config.fallback, "b");
      EXPECT_EQ(got->config.seed, 17u);
      EXPECT_EQ(got->config.schedule.burn_in, absl::Minutes(40));
      EXPECT_EQ(got->config.schedule.interval, absl::Minutes(20));
      EXPECT_EQ(got->config.schedule.conversion_window, absl::Minutes(15));
      EXPECT_EQ(got->config.schedule.min_units_per_arm, 3);
    }
  }
}

TEST(StateCodecTest, KindNames) {
  using Kind = JournalRecord::Kind;
  EXPECT_EQ(JournalKindName(Kind::kCreate), "create");
  EXPECT_EQ(JournalKindName(Kind::kStart), "start");
  EXPECT_EQ(JournalKindName(Kind::kStop), "stop");
  EXPECT_EQ(JournalKindName(Kind::kDelete), "delete");
  EXPECT_EQ(JournalKindName(Kind::kExposure), "exposure");
  EXPECT_EQ(JournalKindName(Kind::kOutcome), "outcome");
  EXPECT_EQ(JournalKindName(Kind::kAdvance), "advance");
}

// The fields added to the config since the format was fixed (retention,
// half-life; then the estimate method; then the decision rule with the
// reports' bounds) are encoded last, after a create record's config and
// after a snapshot's application data.
constexpr size_t kMethodBytes = 1;
constexpr size_t kExtensionBytes = 1 + 8 + kMethodBytes;  // retention unset, half-life
constexpr size_t kDecisionBytes = 1 + 8 + 8 + 8;  // rule, alpha, min_effect, horizon
constexpr size_t kBoundsBytes = 8 + 8 + 1;        // per arm of a report
// The metrics block of a config without guardrails: the primary's id
// ("primary"), no composite terms, no guardrails.
constexpr size_t kMetricsBytes = 8 + 7 + 8 + 8;
// The surface-and-payloads block of a config with no surface, payloads or
// initial shares: an empty surface, the arm count, per arm an empty payload
// and an unset share.
constexpr size_t SurfaceBytes(size_t arms) { return 8 + 8 + (8 + 1) * arms; }
constexpr size_t kCheckoutSurfaceBytes = SurfaceBytes(3);
// What follows the estimate method in a create record.
constexpr size_t kAfterMethodBytes =
    kDecisionBytes + kMetricsBytes + kCheckoutSurfaceBytes;

// The bytes of a snapshot's arm-changes block (no arm ever changed): each
// experiment's arms (an empty list), its reports' retired arms (none) and
// the count of reports made, then the final reports' retired arms.
size_t ArmChangesBlockBytes(const EngineState& state) {
  size_t bytes = 8 * state.final_reports.size();
  for (const ExperimentRuntimeState& e : state.experiments) {
    bytes += 8 + 8 * e.reports.size() + 8;
  }
  return bytes;
}

// The bytes of a snapshot's surface-and-payloads block (none set anywhere)
// and the arm-changes block after it.
size_t SurfaceBlockBytes(const EngineState& state) {
  size_t bytes = ArmChangesBlockBytes(state);
  for (const ExperimentRuntimeState& e : state.experiments) {
    bytes += SurfaceBytes(e.config.arms.size());
  }
  return bytes;
}

// The bytes of a snapshot's metrics block (no guardrails anywhere): each
// experiment's metrics, open units' values and guardrail aggregates (empty
// vectors), its reports' arms' stopped_by (empty) and guardrails (none);
// then the final reports'; and the surface block after it.
size_t MetricsBlockBytes(const EngineState& state) {
  size_t bytes = SurfaceBlockBytes(state);
  auto reports = [&](const std::vector<ReallocationReport>& all) {
    for (const ReallocationReport& r : all) bytes += 8 * r.arms.size() + 8;
  };
  for (const ExperimentRuntimeState& e : state.experiments) {
    bytes += kMetricsBytes + 8 + 8;
    reports(e.reports);
  }
  reports(state.final_reports);
  return bytes;
}

// The bytes of a snapshot after its estimate methods: the decision block
// (each experiment's decision and its reports' bounds, then the final
// reports' bounds) and the metrics block.
size_t DecisionBlockBytes(const EngineState& state) {
  size_t bytes = 0;
  auto reports = [&](const std::vector<ReallocationReport>& all) {
    for (const ReallocationReport& r : all) bytes += kBoundsBytes * r.arms.size();
  };
  for (const ExperimentRuntimeState& e : state.experiments) {
    bytes += kDecisionBytes;
    reports(e.reports);
  }
  reports(state.final_reports);
  return bytes + MetricsBlockBytes(state);
}

TEST(StateCodecTest, EveryTruncatedJournalRecordIsRefused) {
  for (const JournalRecord& r : EveryKind()) {
    const std::string bytes = EncodeJournalRecord(r);
    for (size_t keep = 0; keep < bytes.size(); ++keep) {
      // Cut just before the extension: a record written before it existed,
      // which must load (OlderBytesLoadWithTheDefaults).
      if (r.kind == JournalRecord::Kind::kCreate &&
          (keep == bytes.size() - kAfterMethodBytes - kExtensionBytes ||
           keep == bytes.size() - kAfterMethodBytes - kMethodBytes ||
           keep == bytes.size() - kAfterMethodBytes ||
           keep == bytes.size() - kCheckoutSurfaceBytes - kMetricsBytes ||
           keep == bytes.size() - kCheckoutSurfaceBytes)) {
        continue;
      }
      absl::StatusOr<JournalRecord> got = DecodeJournalRecord(bytes.substr(0, keep));
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss)
          << JournalKindName(r.kind) << " cut to " << keep << " bytes";
    }
  }
}

TEST(StateCodecTest, RetentionAndHalfLifeRoundTrip) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  create.config.schedule.retention = absl::Hours(30);
  create.config.estimate.half_life = absl::Hours(72);
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(EncodeJournalRecord(create));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.schedule.retention, absl::Hours(30));
  EXPECT_EQ(got->config.estimate.half_life, absl::Hours(72));

  EngineState state = BusyState();
  state.experiments[1].config.schedule.retention = absl::ZeroDuration();
  state.experiments[1].config.estimate.half_life = absl::Minutes(90);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(EncodeEngineState(state));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->experiments[0].config.schedule.retention, std::nullopt);
  EXPECT_EQ(decoded->experiments[0].config.estimate.half_life, absl::ZeroDuration());
  EXPECT_EQ(decoded->experiments[1].config.schedule.retention, absl::ZeroDuration());
  EXPECT_EQ(decoded->experiments[1].config.estimate.half_life, absl::Minutes(90));
}

TEST(StateCodecTest, EstimateMethodRoundTripsAndOlderBytesGetTheDefault) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  create.config.estimate.method = EstimateMethod::kPooled;
  const std::string record = EncodeJournalRecord(create);
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(record);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.estimate.method, EstimateMethod::kPooled);
  // A record from before the method existed: the default.
  got = DecodeJournalRecord(
      record.substr(0, record.size() - kAfterMethodBytes - kMethodBytes));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.estimate.method, EstimateMethod::kEpochAdjusted);
  // An unknown method is corruption.
  std::string bad = record;
  bad[record.size() - kAfterMethodBytes - 1] = 3;
  EXPECT_EQ(DecodeJournalRecord(bad).status().code(), absl::StatusCode::kDataLoss);

  EngineState state = BusyState();
  state.experiments[1].config.estimate.method = EstimateMethod::kPeriodWeighted;
  const std::string bytes = EncodeEngineState(state);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->experiments[0].config.estimate.method,
            EstimateMethod::kEpochAdjusted);
  EXPECT_EQ(decoded->experiments[1].config.estimate.method,
            EstimateMethod::kPeriodWeighted);
  decoded =
      DecodeEngineState(bytes.substr(0, bytes.size() - DecisionBlockBytes(state) -
                                            state.experiments.size() * kMethodBytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->experiments[1].config.estimate.method,
            EstimateMethod::kEpochAdjusted);
}

TEST(StateCodecTest, DecisionAndReportBoundsRoundTripAndOlderBytesGetTheDefaults) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  create.config.decision = {DecisionRule::kPBest, 0.01, 0.5, 2500};
  const std::string record = EncodeJournalRecord(create);
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(record);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.decision.rule, DecisionRule::kPBest);
  EXPECT_EQ(got->config.decision.alpha, 0.01);
  EXPECT_EQ(got->config.decision.min_effect, 0.5);
  EXPECT_EQ(got->config.decision.horizon_units, 2500);
  got = DecodeJournalRecord(record.substr(0, record.size() - kAfterMethodBytes));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.decision.rule, DecisionRule::kConfidenceSequence);
  EXPECT_EQ(got->config.decision.alpha, 0.05);
  std::string bad = record;
  bad[record.size() - kAfterMethodBytes] = 2;  // no such rule
  EXPECT_EQ(DecodeJournalRecord(bad).status().code(), absl::StatusCode::kDataLoss);

  // The busy state's reports past burn-in carry bounds; they survive, and
  // bytes from before the block give reports without bounds (NaN).
  const EngineState state = BusyState();
  int bounded = 0;
  for (const ReallocationReport& r : state.experiments[0].reports) {
    for (const ArmReport& a : r.arms) bounded += !std::isnan(a.advantage_low);
  }
  ASSERT_GT(bounded, 0);
  const std::string bytes = EncodeEngineState(state);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(ReportsToJson(decoded->experiments[0].reports),
            ReportsToJson(state.experiments[0].reports));
  decoded = DecodeEngineState(bytes.substr(0, bytes.size() - DecisionBlockBytes(state)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  for (const ReallocationReport& r : decoded->experiments[0].reports) {
    for (const ArmReport& a : r.arms) {
      EXPECT_TRUE(std::isnan(a.advantage_low));
      EXPECT_FALSE(a.eliminated);
    }
  }
}

TEST(StateCodecTest, GuardrailsCompositeAndNamedOutcomesRoundTrip) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  create.config.metric = MetricKind::kContinuous;
  create.config.metric_id = "value";
  create.config.guardrails = {
      {"errors", MetricKind::kBinary, Direction::kLowerIsBetter, HarmKind::kRelative,
       0.5},
      {"tokens", MetricKind::kContinuous, Direction::kLowerIsBetter, HarmKind::kNone, 0}};
  create.config.composite = {{"errors", -2.0}, {"tokens", -0.001}};
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(EncodeJournalRecord(create));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.metric_id, "value");
  ASSERT_EQ(got->config.guardrails.size(), 2u);
  EXPECT_EQ(got->config.guardrails[0].id, "errors");
  EXPECT_EQ(got->config.guardrails[0].harm, HarmKind::kRelative);
  EXPECT_EQ(got->config.guardrails[0].max_harm, 0.5);
  EXPECT_EQ(got->config.guardrails[1].kind, MetricKind::kContinuous);
  EXPECT_EQ(got->config.guardrails[1].harm, HarmKind::kNone);
  ASSERT_EQ(got->config.composite.size(), 2u);
  EXPECT_EQ(got->config.composite[1].metric, "tokens");
  EXPECT_EQ(got->config.composite[1].weight, -0.001);

  // An outcome naming its metric keeps the name; the primary's has none,
  // and its bytes are those of a record from before metrics had names.
  JournalRecord outcome = Record(JournalRecord::Kind::kOutcome);
  outcome.unit = "u1";
  outcome.value = 1;
  const std::string primary = EncodeJournalRecord(outcome);
  outcome.metric = "errors";
  const std::string named = EncodeJournalRecord(outcome);
  EXPECT_EQ(named.substr(0, primary.size()), primary);
  got = DecodeJournalRecord(named);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->metric, "errors");
  got = DecodeJournalRecord(primary);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->metric, "");
}

TEST(StateCodecTest, SurfaceAndPayloadsRoundTripAndOlderBytesGetNone) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  create.config.surface = "support-bot";
  create.config.arms[0].payload = R"({"model":"m-2","temperature":0.2})";
  create.config.arms[2].payload = "{}";
  create.config.arms[2].initial_share = 0.25;
  const std::string record = EncodeJournalRecord(create);
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(record);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.surface, "support-bot");
  ASSERT_EQ(got->config.arms.size(), 3u);
  EXPECT_EQ(got->config.arms[0].payload, create.config.arms[0].payload);
  EXPECT_EQ(got->config.arms[0].initial_share, std::nullopt);
  EXPECT_EQ(got->config.arms[1].payload, "");
  EXPECT_EQ(got->config.arms[2].payload, "{}");
  EXPECT_EQ(got->config.arms[2].initial_share, 0.25);
  EXPECT_EQ(EncodeJournalRecord(*got), record);
  // A record from before the block: no surface, no payloads.
  const size_t block = 8 + 11 + 8 + (8 + 33 + 1) + (8 + 1) + (8 + 2 + 1 + 8);
  got = DecodeJournalRecord(record.substr(0, record.size() - block));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.surface, "");
  EXPECT_EQ(got->config.arms[0].payload, "");
  EXPECT_EQ(got->config.arms[2].initial_share, std::nullopt);
  EXPECT_EQ(got->config.metric_id, "primary");
  // Payloads for another number of arms than the config's are corrupt.
  std::string bad = record;
  bad[record.size() - block + 8 + 11] = 2;
  got = DecodeJournalRecord(bad);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(got.status().message(), HasSubstr("payloads for 2 arms"));

  EngineState state = BusyState();
  const size_t old_size = EncodeEngineState(state).size() - SurfaceBlockBytes(state);
  state.experiments[0].config.surface = "checkout-page";
  state.experiments[0].config.arms[1].payload = R"({"route":"b","n":[1,2]})";
  state.experiments[1].config.arms[0].payload = R"({"x":null})";
  const std::string bytes = EncodeEngineState(state);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->experiments[0].config.surface, "checkout-page");
  EXPECT_EQ(decoded->experiments[0].config.arms[1].payload, R"({"route":"b","n":[1,2]})");
  EXPECT_EQ(decoded->experiments[1].config.surface, "");
  EXPECT_EQ(decoded->experiments[1].config.arms[0].payload, R"({"x":null})");
  // An engine imported from it keeps them.
  absl::StatusOr<std::unique_ptr<Engine>> imported = EngineAccess::Import(*decoded);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EngineState again = EngineAccess::Export(**imported);
  again.application_data = decoded->application_data;
  EXPECT_TRUE(EncodeEngineState(again) == bytes) << "import and export changed the state";
  // A snapshot from before the block.
  decoded = DecodeEngineState(bytes.substr(0, old_size));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->experiments[0].config.surface, "");
  EXPECT_EQ(decoded->experiments[0].config.arms[1].payload, "");
  // A payload that is not a JSON object means the bytes are corrupt.
  state.experiments[0].config.arms[1].payload = "[1]";
  decoded = DecodeEngineState(EncodeEngineState(state));
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(),
              HasSubstr("arms[1].config must be a JSON object"));
}

// Bytes written before the extension (the same encoding without its last
// bytes) still load, with the defaults: one window's retention, no half-life.
TEST(StateCodecTest, OlderBytesLoadWithTheDefaults) {
  JournalRecord create = Record(JournalRecord::Kind::kCreate);
  create.config = CheckoutConfig();
  const std::string record = EncodeJournalRecord(create);
  absl::StatusOr<JournalRecord> got = DecodeJournalRecord(
      record.substr(0, record.size() - kAfterMethodBytes - kExtensionBytes));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->config.schedule.retention, std::nullopt);
  EXPECT_EQ(got->config.estimate.half_life, absl::ZeroDuration());
  EXPECT_EQ(got->config.schedule.conversion_window, absl::Minutes(15));

  const EngineState state = BusyState();
  const std::string bytes = EncodeEngineState(state);
  const size_t old_size = bytes.size() - DecisionBlockBytes(state) -
                          state.experiments.size() * kExtensionBytes;
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes.substr(0, old_size));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->experiments.size(), 2u);
  EXPECT_EQ(decoded->application_data, state.application_data);
  for (const ExperimentRuntimeState& e : decoded->experiments) {
    EXPECT_EQ(e.config.schedule.retention, std::nullopt);
    EXPECT_EQ(e.config.estimate.half_life, absl::ZeroDuration());
  }
  // ...and an engine imported from them runs.
  absl::StatusOr<std::unique_ptr<Engine>> imported = EngineAccess::Import(*decoded);
  ASSERT_TRUE(imported.ok()) << imported.status();
}

// An engine whose arms changed: the block after the surfaces carries every
// arm's join and retire epochs, mode and payload, and the reports' retired
// arms; without it (an older snapshot) such a state would not validate, and
// a bad retire mode is corrupt.
TEST(StateCodecTest, ArmChangesRoundTripAndABadModeIsCorrupt) {
  Engine engine;
  ExperimentConfig c = CheckoutConfig();
  c.holdout = 0;
  ASSERT_TRUE(engine.CreateExperiment(c).ok());
  ASSERT_TRUE(engine.Start(c.id, kStart).ok());
  ArmConfig d("d");
  d.payload = R"({"model":"m-9"})";
  d.initial_share = 0.2;
  ASSERT_TRUE(engine.AddArm(c.id, d, kStart + absl::Minutes(1)).ok());
  ASSERT_TRUE(
      engine.RetireArm(c.id, "b", kStart + absl::Minutes(2), RetireMode::kNow).ok());
  ASSERT_TRUE(engine.Advance(kStart + absl::Hours(2)).ok());
  const EngineState state = EngineAccess::Export(engine);
  ASSERT_EQ(state.experiments[0].arms.size(), 4u);
  const std::string bytes = EncodeEngineState(state);
  absl::StatusOr<EngineState> decoded = DecodeEngineState(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const std::vector<HistoryArm>& arms = decoded->experiments[0].arms;
  ASSERT_EQ(arms.size(), 4u);
  EXPECT_EQ(arms[3].id, "d");
  EXPECT_EQ(arms[3].payload, d.payload);
  EXPECT_EQ(arms[3].added_epoch, 1);
  EXPECT_EQ(arms[1].retired_epoch, 2);
  EXPECT_EQ(arms[1].retire_mode, RetireMode::kNow);
  EXPECT_TRUE(decoded->experiments[0].reports.back().arms[1].retired);
  EXPECT_EQ(EncodeEngineState(*decoded), bytes);
  // Cut before the block (an older snapshot's bytes): its epochs name arms
  // the config does not have, so it is refused as corrupt.
  EngineState unchanged = state;
  unchanged.experiments[0].arms.clear();
  for (ReallocationReport& r : unchanged.experiments[0].reports) {
    for (ArmReport& arm : r.arms) arm.retired = false;
  }
  const size_t before_block =
      EncodeEngineState(unchanged).size() - ArmChangesBlockBytes(unchanged);
  EXPECT_EQ(DecodeEngineState(bytes.substr(0, before_block)).status().code(),
            absl::StatusCode::kDataLoss);
  // The retire mode byte, found as the one byte a drain would change, set to 7.
  EngineState drained = state;
  drained.experiments[0].arms[1].retire_mode = RetireMode::kDrain;
  const std::string other = EncodeEngineState(drained);
  ASSERT_EQ(other.size(), bytes.size());
  size_t at = 0;
  while (at < bytes.size() && bytes[at] == other[at]) ++at;
  ASSERT_LT(at, bytes.size());
  std::string bad = bytes;
  bad[at] = 7;
  EXPECT_THAT(DecodeEngineState(bad).status().message(),
              HasSubstr("unknown retire mode 7"));
}

TEST(StateCodecTest, TruncatedEngineStateIsRefused) {
  const EngineState state = BusyState();
  const std::string bytes = EncodeEngineState(state);
  // Every cut in the first 4 KB, then 500 spread over the rest.
  std::vector<size_t> cuts;
  for (size_t k = 0; k < std::min<size_t>(bytes.size(), 4096); ++k) cuts.push_back(k);
  for (size_t k = 4096; k < bytes.size(); k += std::max<size_t>(1, bytes.size() / 500)) {
    cuts.push_back(k);
  }
  cuts.push_back(bytes.size() - 1);
  // Just before each extension is a snapshot written before it existed,
  // which must load (OlderBytesLoadWithTheDefaults).
  const size_t before_decision = bytes.size() - DecisionBlockBytes(state);
  for (size_t keep : cuts) {
    if (keep == bytes.size() - ArmChangesBlockBytes(state) ||
        keep == bytes.size() - SurfaceBlockBytes(state) ||
        keep == bytes.size() - MetricsBlockBytes(state) || keep == before_decision ||
        keep == before_decision - 2 * kMethodBytes ||
        keep == before_decision - 2 * kExtensionBytes) {
      continue;
    }
    absl::StatusOr<EngineState> got = DecodeEngineState(bytes.substr(0, keep));
    ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << "cut to " << keep;
    EXPECT_THAT(got.status().message(), HasSubstr("snapshot payload"));
  }
}

TEST(StateCodecTest, TrailingBytesAreRefused) {
  const std::string record = EncodeJournalRecord(Record(JournalRecord::Kind::kStart));
  absl::StatusOr<JournalRecord> r = DecodeJournalRecord(record + "x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("1 unexpected trailing bytes"));
  absl::StatusOr<EngineState> s = DecodeEngineState(EncodeEngineState({}) + "xyz");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("3 unexpected trailing bytes"));
}

TEST(StateCodecTest, UnknownRecordKindsAreRefused) {
  std::string bytes = EncodeJournalRecord(Record(JournalRecord::Kind::kStart));
  constexpr size_t kKindByte = 1 + 8;  // after the endianness byte and sequence
  ASSERT_EQ(bytes[kKindByte], 2);
  for (int kind : {0, 10, 255}) {
    bytes[kKindByte] = static_cast<char>(kind);
    absl::StatusOr<JournalRecord> r = DecodeJournalRecord(bytes);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(r.status().message(), HasSubstr("unknown record kind"));
  }
}

TEST(StateCodecTest, AHugeLengthIsRefusedWithoutAllocating) {
  std::string bytes = EncodeJournalRecord(Record(JournalRecord::Kind::kStart));
  // The experiment id's 8-byte length follows the kind byte.
  constexpr size_t kLength = 1 + 8 + 1;
  ASSERT_EQ(bytes[kLength], 8);  // "checkout"
  for (size_t i = 0; i < 8; ++i) bytes[kLength + i] = '\xff';
  absl::StatusOr<JournalRecord> r = DecodeJournalRecord(bytes);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  // 2^62: would be an allocation of exabytes if the length were trusted.
  for (size_t i = 0; i < 8; ++i) bytes[kLength + i] = 0;
  bytes[kLength + 7] = 0x40;
  r = DecodeJournalRecord(bytes);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
}

TEST(StateCodecTest, RandomBytesAreRefused) {
  // Seeded garbage of many lengths. Whatever it says, decoding must return
  // (no crash, no hang, no huge allocation); a random sequence of bytes
  // forming a valid record or state is vanishingly unlikely, so every one
  // must be refused.
  std::mt19937_64 rng(20260101);
  int refused_records = 0, refused_states = 0, tries = 0;
  for (int len = 0; len < 300; ++len) {
    for (int rep = 0; rep < 10; ++rep, ++tries) {
      std::string bytes(len, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      refused_records += !DecodeJournalRecord(bytes).ok();
      refused_states += !DecodeEngineState(bytes).ok();
    }
  }
  EXPECT_EQ(refused_records, tries);
  EXPECT_EQ(refused_states, tries);
  // Flipping bytes of a valid record: a flip may still decode (a changed
  // unit byte is a different but valid record); it must not crash, and the
  // flips in the framing (lengths, kind, flags) must be refused somewhere.
  const std::string good = EncodeJournalRecord(EveryKind()[0]);
  int refused_flips = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    refused_flips += !DecodeJournalRecord(bad).ok();
  }
  EXPECT_GT(refused_flips, 0);
}

}  // namespace
}  // namespace allot::internal
