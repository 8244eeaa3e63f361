// Copyright 2026 The allot Authors.
//
// The SQL of every migration. README.md ("PostgreSQL store") explains the
// layout; the learner writes its SQL against these tables.

#include "store/migrations.h"

#include <iterator>

namespace allot::store {
namespace {

// Version 1: experiments, the two event tables (partitioned by experiment:
// one partition per experiment, made by allot_create_partitions when the
// experiment is registered) and the allocation history by epoch.
//
// Times are microseconds since the Unix epoch. unit_hi and unit_lo are the
// two halves of the unit's 128-bit fingerprint (the ledger's
// UnitFingerprint of the experiment's salt), stored as the bit patterns of
// signed bigints; raw unit ids are never stored.
constexpr char kV1Events[] = R"sql(
CREATE TABLE allot_experiments (
  experiment text PRIMARY KEY,
  config_toml text NOT NULL,
  started_us bigint NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per unit and experiment: the primary key is the "first exposure
-- wins" rule. A unit that reaches two replicas is one trial; the exposure
-- that arrives first is kept, later ones are dropped (ON CONFLICT DO NOTHING).
CREATE TABLE allot_exposures (
  experiment text NOT NULL,
  unit_hi bigint NOT NULL,
  unit_lo bigint NOT NULL,
  arm smallint NOT NULL,
  epoch integer NOT NULL,
  propensity float8 NOT NULL,
  holdout boolean NOT NULL,
  exposed_us bigint NOT NULL,
  unit_start_us bigint NULL,
  replica text NOT NULL,
  PRIMARY KEY (experiment, unit_hi, unit_lo)
) PARTITION BY LIST (experiment);
-- The learner's maturity scans: units exposed before a watermark.
CREATE INDEX allot_exposures_exposed ON allot_exposures (experiment, exposed_us);

-- event_id is chosen by the replica (its replica id and a sequence number),
-- so a batch delivered twice is written once.
CREATE TABLE allot_outcomes (
  experiment text NOT NULL,
  event_id text NOT NULL,
  unit_hi bigint NOT NULL,
  unit_lo bigint NOT NULL,
  metric text NOT NULL,
  value float8 NOT NULL,
  time_us bigint NOT NULL,
  replica text NOT NULL,
  PRIMARY KEY (experiment, event_id)
) PARTITION BY LIST (experiment);
-- The learner joins outcomes to exposures by unit.
CREATE INDEX allot_outcomes_unit ON allot_outcomes (experiment, unit_hi, unit_lo);

-- The allocation history as of each epoch: the whole AllocationHistory JSON.
CREATE TABLE allot_epochs (
  experiment text NOT NULL,
  epoch integer NOT NULL,
  start_us bigint NOT NULL,
  history_json text NOT NULL,
  PRIMARY KEY (experiment, epoch)
);

-- Replicas LISTEN on allot_history; each new epoch is announced with its
-- experiment id (delivered when the inserting transaction commits).
CREATE FUNCTION allot_notify_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('allot_history', NEW.experiment);
  RETURN NULL;
END;
$$;
CREATE TRIGGER allot_epochs_notify AFTER INSERT ON allot_epochs
  FOR EACH ROW EXECUTE FUNCTION allot_notify_history();

-- Creates the experiment's partitions of both event tables when they do not
-- exist yet. Partition names: the table's name and the md5 of the experiment
-- id (any id is safe in an identifier that way, and stays under 63 bytes).
-- Two sessions registering the same experiment at once are serialized.
CREATE FUNCTION allot_create_partitions(exp text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  suffix text := md5(exp);
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('allot_create_partitions:' || exp, 0));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF allot_exposures FOR VALUES IN (%L)',
                 'allot_exposures_' || suffix, exp);
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF allot_outcomes FOR VALUES IN (%L)',
                 'allot_outcomes_' || suffix, exp);
END;
$$;
)sql";

// Version 2: what the learner writes besides epochs: its reports and its
// watermark (units exposed before it have been folded into reports).
constexpr char kV2Learner[] = R"sql(
CREATE TABLE allot_reports (
  experiment text NOT NULL,
  report_index bigint NOT NULL,
  time_us bigint NOT NULL,
  report_json text NOT NULL,
  PRIMARY KEY (experiment, report_index)
);

CREATE TABLE allot_learner_state (
  experiment text PRIMARY KEY,
  watermark_us bigint NOT NULL,
  reports_made bigint NOT NULL,
  learner text,
  updated_at timestamptz
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "events", kV1Events},
    {2, "learner", kV2Learner},
};

}  // namespace

absl::Span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

}  // namespace allot::store
