// Copyright 2026 The allot Authors.

#include "store/event_store.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "pqxx/pqxx"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/schema.h"

namespace allot::store {

struct EventStore::StagedExposure {
  int64_t seq;
  ExposureEvent event;
};

struct EventStore::StagedOutcome {
  int64_t seq;
  OutcomeEvent event;
};

struct EventStore::Batch {
  std::vector<StagedExposure> exposures;
  std::vector<StagedOutcome> outcomes;
  int64_t last_seq = 0;
  size_t size() const { return exposures.size() + outcomes.size(); }
  bool empty() const { return size() == 0; }
  void Append(Batch&& other) {
    if (other.empty()) return;
    std::move(other.exposures.begin(), other.exposures.end(),
              std::back_inserter(exposures));
    std::move(other.outcomes.begin(), other.outcomes.end(), std::back_inserter(outcomes));
    last_seq = other.last_seq;
    other.exposures.clear();
    other.outcomes.clear();
  }
  void Clear() {
    exposures.clear();
    outcomes.clear();
  }
};

namespace {

// The staging tables: one per session, emptied at each commit (and gone
// with a rolled-back transaction's rows). `seq` is the arrival order, so
// that of two exposures of one unit in a batch the first is kept;
// has_start says whether unit_start_us is set (COPY has no NULL here).
constexpr char kCreateStaging[] =
    "CREATE TEMP TABLE IF NOT EXISTS allot_stage_exposures ("
    " seq bigint, experiment text, unit_hi bigint, unit_lo bigint, arm smallint,"
    " epoch integer, propensity float8, holdout boolean, exposed_us bigint,"
    " has_start boolean, unit_start_us bigint, replica text) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS allot_stage_outcomes ("
    " seq bigint, experiment text, event_id text, unit_hi bigint, unit_lo bigint,"
    " metric text, value float8, time_us bigint, replica text) ON COMMIT DELETE ROWS";

constexpr char kInsertExposures[] =
    "INSERT INTO allot_exposures (experiment, unit_hi, unit_lo, arm, epoch, propensity,"
    " holdout, exposed_us, unit_start_us, replica)"
    " SELECT experiment, unit_hi, unit_lo, arm, epoch, propensity, holdout, exposed_us,"
    " CASE WHEN has_start THEN unit_start_us END, replica"
    " FROM allot_stage_exposures ORDER BY seq ON CONFLICT DO NOTHING";

constexpr char kInsertOutcomes[] =
    "INSERT INTO allot_outcomes (experiment, event_id, unit_hi, unit_lo, metric, value,"
    " time_us, replica)"
    " SELECT experiment, event_id, unit_hi, unit_lo, metric, value, time_us, replica"
    " FROM allot_stage_outcomes ORDER BY seq ON CONFLICT DO NOTHING";

// Returns OK when `text` is UTF-8 without NUL, which a PostgreSQL text
// column in a UTF8 database takes.
absl::Status CheckText(absl::string_view field, absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    int extra = c < 0x80           ? 0
                : (c >> 5) == 0x6  ? 1
                : (c >> 4) == 0xE  ? 2
                : (c >> 3) == 0x1E ? 3
                                   : -1;
    bool ok = c != 0 && extra >= 0 && c != 0xC0 && c != 0xC1 && c < 0xF5 &&
              i + static_cast<size_t>(extra) < text.size() + (extra == 0 ? 1 : 0);
    for (int k = 1; ok && k <= extra; ++k) {
      if (i + static_cast<size_t>(k) >= text.size() ||
          (static_cast<unsigned char>(text[i + static_cast<size_t>(k)]) & 0xC0) != 0x80) {
        ok = false;
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " must be UTF-8 without NUL; byte ", i, " is ", static_cast<int>(c)));
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return absl::OkStatus();
}

absl::Status CheckTime(absl::string_view field, absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be a finite time"));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const EventStoreOptions& o) {
  if (o.replica.empty() || o.replica.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("replica must be 1 to 64 bytes, got ", o.replica.size(), " bytes"));
  }
  ALLOT_RETURN_IF_ERROR(CheckText("replica", o.replica));
  if (o.flush_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flush_interval must be > 0, got ", absl::FormatDuration(o.flush_interval)));
  }
  if (o.flush_events == 0) {
    return absl::InvalidArgumentError("flush_events must be > 0, got 0");
  }
  if (o.max_buffered_events < o.flush_events) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_buffered_events must be >= flush_events (", o.flush_events,
                     "), got ", o.max_buffered_events));
  }
  if (o.retry_initial <= absl::ZeroDuration() || o.retry_max < o.retry_initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry_initial must be > 0 and retry_max >= retry_initial, got ",
                     absl::FormatDuration(o.retry_initial), " and ",
                     absl::FormatDuration(o.retry_max)));
  }
  if (o.close_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "close_timeout must be >= 0, got ", absl::FormatDuration(o.close_timeout)));
  }
  return absl::OkStatus();
}

}  // namespace

EventStore::EventStore(std::string url, EventStoreOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      buffer_(std::make_unique<Batch>()) {}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Connect(
    absl::string_view url, EventStoreOptions options) {
  ALLOT_RETURN_IF_ERROR(ValidateOptions(options));
  ALLOT_ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> conn, ConnectStore(url));
  ALLOT_ASSIGN_OR_RETURN(const int version, SchemaVersion(*conn));
  if (version != LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        version == 0 ? absl::StrCat("no allot schema in ", RedactUrl(url),
                                    "; create it with allot store init")
        : version < LatestSchemaVersion()
            ? absl::StrCat("the store holds schema version ", version,
                           ", older than this allot's ", LatestSchemaVersion(),
                           "; upgrade it with allot store migrate")
            : absl::StrCat("the store holds schema version ", version,
                           ", newer than this allot's ", LatestSchemaVersion(),
                           "; upgrade allot"));
  }
  std::unique_ptr<EventStore> store(new EventStore(std::string(url), std::move(options)));
  {
    absl::MutexLock lock(&store->admin_mu_);
    store->admin_conn_ = std::move(conn);
  }
  store->flusher_ = std::thread([s = store.get()] { s->FlushLoop(); });
  return store;
}

EventStore::~EventStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  flusher_.join();
}

absl::Status EventStore::WithAdmin(absl::string_view doing,
                                   const std::function<void(pqxx::connection&)>& body) {
  absl::MutexLock lock(&admin_mu_);
  try {
    if (admin_conn_ == nullptr || !admin_conn_->is_open()) {
      admin_conn_.reset();
      ALLOT_ASSIGN_OR_RETURN(admin_conn_, ConnectStore(url_));
    }
    body(*admin_conn_);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    admin_conn_.reset();  // the next call connects afresh
    return StoreError(doing, e);
  }
}

absl::Status EventStore::RegisterExperiment(absl::string_view experiment,
                                            absl::string_view config_toml,
                                            std::optional<absl::Time> started) {
  if (experiment.empty())
    return absl::InvalidArgumentError("experiment must not be empty");
  ALLOT_RETURN_IF_ERROR(CheckText("experiment", experiment));
  ALLOT_RETURN_IF_ERROR(CheckText("config_toml", config_toml));
  if (started) ALLOT_RETURN_IF_ERROR(CheckTime("started", *started));
  const std::string id(experiment);
  ALLOT_RETURN_IF_ERROR(
      WithAdmin(absl::StrCat("registering experiment ", id), [&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec(
            absl::StrCat("INSERT INTO allot_experiments (experiment, config_toml, "
                         "started_us) VALUES (",
                         tx.quote(id), ", ", tx.quote(std::string(config_toml)), ", ",
                         started ? absl::StrCat(absl::ToUnixMicros(*started)) : "NULL",
                         ") ON CONFLICT (experiment) DO UPDATE SET started_us ="
                         " COALESCE(allot_experiments.started_us, EXCLUDED.started_us)"));
        tx.exec(absl::StrCat("SELECT allot_create_partitions(", tx.quote(id), ")"));
        tx.commit();
      }));
  absl::MutexLock lock(&mu_);
  registered_.insert(id);
  return absl::OkStatus();
}

absl::Status EventStore::CheckRoomFor(const std::string& experiment) {
  if (!registered_.contains(experiment)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "experiment \"", experiment, "\" is not registered with this store"));
  }
  if (buffer_->size() + in_flight_ >= options_.max_buffered_events) {
    ++stats_.rejected;
    return absl::ResourceExhaustedError(
        absl::StrCat("the event buffer is full (", options_.max_buffered_events,
                     " events) while the store is not written: ", stats_.last_error));
  }
  return absl::OkStatus();
}

absl::Status EventStore::AppendExposure(const ExposureEvent& e) {
  if (e.arm < 0 || e.arm > 32767) {
    return absl::InvalidArgumentError(
        absl::StrCat("arm must be in [0, 32767], got ", e.arm));
  }
  if (e.epoch < 0) {
    return absl::InvalidArgumentError(absl::StrCat("epoch must be >= 0, got ", e.epoch));
  }
  if (!(e.propensity > 0 && e.propensity <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("propensity must be in (0, 1], got ", e.propensity));
  }
  ALLOT_RETURN_IF_ERROR(CheckTime("exposed", e.exposed));
  if (e.unit_start) ALLOT_RETURN_IF_ERROR(CheckTime("unit_start", *e.unit_start));
  absl::MutexLock lock(&mu_);
  ALLOT_RETURN_IF_ERROR(CheckRoomFor(e.experiment));
  buffer_->exposures.push_back({next_seq_, e});
  buffer_->last_seq = next_seq_++;
  ++stats_.appended;
  return absl::OkStatus();
}

absl::Status EventStore::AppendOutcome(OutcomeEvent e) {
  if (e.metric.empty()) return absl::InvalidArgumentError("metric must not be empty");
  ALLOT_RETURN_IF_ERROR(CheckText("metric", e.metric));
  ALLOT_RETURN_IF_ERROR(CheckText("event_id", e.event_id));
  if (e.event_id.size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("event_id must be at most 256 bytes, got ", e.event_id.size()));
  }
  if (!std::isfinite(e.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("value must be finite, got ", e.value));
  }
  ALLOT_RETURN_IF_ERROR(CheckTime("time", e.time));
  absl::MutexLock lock(&mu_);
  ALLOT_RETURN_IF_ERROR(CheckRoomFor(e.experiment));
  if (e.event_id.empty()) {
    e.event_id =
        absl::StrCat(options_.replica, ":", options_.incarnation, ":", next_seq_);
  }
  buffer_->outcomes.push_back({next_seq_, std::move(e)});
  buffer_->last_seq = next_seq_++;
  ++stats_.appended;
  return absl::OkStatus();
}

absl::Status EventStore::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = next_seq_ - 1;
  flush_requested_ = true;
  auto done = [this, target]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return written_seq_ >= target; };
  if (mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("events not written within ", absl::FormatDuration(timeout),
                   stats_.last_error.empty() ? "" : "; last error: ", stats_.last_error));
}

bool EventStore::FlushDue() const {
  return stopping_ || flush_requested_ || buffer_->size() >= options_.flush_events;
}

void EventStore::FlushLoop() {
  Batch batch;  // being written; only this thread touches it
  absl::Duration backoff = absl::ZeroDuration();
  absl::Time close_deadline = absl::InfiniteFuture();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (backoff > absl::ZeroDuration()) {
        // After a failure: wait, but no longer than the close allows; a
        // close that starts meanwhile ends the wait (one more try, then the
        // close deadline counts).
        const absl::Time wake = std::min(
            absl::Now() + backoff, stopping_ ? close_deadline : absl::InfiniteFuture());
        const bool was_stopping = stopping_;
        auto close_started = [this, was_stopping]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ != was_stopping;
        };
        mu_.AwaitWithDeadline(absl::Condition(&close_started), wake);
      } else if (!FlushDue()) {
        mu_.AwaitWithTimeout(absl::Condition(this, &EventStore::FlushDue),
                             options_.flush_interval);
      }
      if (stopping_ && close_deadline == absl::InfiniteFuture()) {
        close_deadline = absl::Now() + options_.close_timeout;
      }
      batch.Append(std::move(*buffer_));
      in_flight_ = batch.size();
      flush_requested_ = false;
      if (batch.empty()) {
        if (stopping_) return;
        continue;
      }
      if (stopping_ && absl::Now() >= close_deadline) {
        stats_.abandoned += static_cast<int64_t>(batch.size());
        in_flight_ = 0;
        return;
      }
    }
    int64_t exposures = 0, outcomes = 0;
    const absl::Status status = WriteBatch(batch, &exposures, &outcomes);
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      written_seq_ = batch.last_seq;
      stats_.healthy = true;
      stats_.last_flush = absl::Now();
      ++stats_.flushes;
      stats_.exposures_written += exposures;
      stats_.outcomes_written += outcomes;
      stats_.duplicates_dropped +=
          static_cast<int64_t>(batch.size()) - exposures - outcomes;
      batch.Clear();
      in_flight_ = 0;
      backoff = absl::ZeroDuration();
    } else {
      stats_.healthy = false;
      stats_.last_error = std::string(status.message());
      stats_.last_error_time = absl::Now();
      ++stats_.failed_flushes;
      backoff = backoff == absl::ZeroDuration()
                    ? options_.retry_initial
                    : std::min(backoff * 2, options_.retry_max);
    }
  }
}

absl::Status EventStore::WriteBatch(const Batch& batch, int64_t* exposures,
                                    int64_t* outcomes) {
  try {
    if (flush_conn_ == nullptr || !flush_conn_->is_open()) {
      flush_conn_.reset();
      absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = ConnectStore(url_);
      if (!conn.ok()) {
        return absl::Status(
            conn.status().code(),
            absl::StrCat("writing ", batch.size(), " events: ", conn.status().message()));
      }
      pqxx::nontransaction setup(**conn);
      setup.exec(kCreateStaging);
      flush_conn_ = *std::move(conn);
    }
    pqxx::work tx(*flush_conn_);
    if (!batch.exposures.empty()) {
      pqxx::stream_to copy(
          tx, "allot_stage_exposures",
          std::vector<std::string>{"seq", "experiment", "unit_hi", "unit_lo", "arm",
                                   "epoch", "propensity", "holdout", "exposed_us",
                                   "has_start", "unit_start_us", "replica"});
      for (const StagedExposure& s : batch.exposures) {
        const ExposureEvent& e = s.event;
        copy << std::make_tuple(
            s.seq, e.experiment, ToBigint(e.unit_hi), ToBigint(e.unit_lo), e.arm, e.epoch,
            e.propensity, e.holdout, absl::ToUnixMicros(e.exposed),
            e.unit_start.has_value(),
            e.unit_start ? absl::ToUnixMicros(*e.unit_start) : int64_t{0},
            options_.replica);
      }
      copy.complete();
      *exposures = static_cast<int64_t>(tx.exec(kInsertExposures).affected_rows());
    }
    if (!batch.outcomes.empty()) {
      pqxx::stream_to copy(
          tx, "allot_stage_outcomes",
          std::vector<std::string>{"seq", "experiment", "event_id", "unit_hi", "unit_lo",
                                   "metric", "value", "time_us", "replica"});
      for (const StagedOutcome& s : batch.outcomes) {
        const OutcomeEvent& e = s.event;
        copy << std::make_tuple(s.seq, e.experiment, e.event_id, ToBigint(e.unit_hi),
                                ToBigint(e.unit_lo), e.metric, e.value,
                                absl::ToUnixMicros(e.time), options_.replica);
      }
      copy.complete();
      *outcomes = static_cast<int64_t>(tx.exec(kInsertOutcomes).affected_rows());
    }
    tx.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    flush_conn_.reset();  // the next try connects afresh
    return StoreError(absl::StrCat("writing ", batch.size(), " events"), e);
  }
}

absl::Status EventStore::PublishEpoch(absl::string_view experiment, int epoch,
                                      absl::Time start, absl::string_view history_json) {
  if (epoch < 0) {
    return absl::InvalidArgumentError(absl::StrCat("epoch must be >= 0, got ", epoch));
  }
  ALLOT_RETURN_IF_ERROR(CheckText("experiment", experiment));
  ALLOT_RETURN_IF_ERROR(CheckText("history_json", history_json));
  ALLOT_RETURN_IF_ERROR(CheckTime("start", start));
  bool conflict = false;
  ALLOT_RETURN_IF_ERROR(WithAdmin(
      absl::StrCat("publishing epoch ", epoch, " of ", experiment),
      [&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        const std::string id(experiment), json(history_json);
        const pqxx::result inserted = tx.exec(
            absl::StrCat("INSERT INTO allot_epochs (experiment, epoch, start_us, "
                         "history_json) VALUES (",
                         tx.quote(id), ", ", epoch, ", ", absl::ToUnixMicros(start), ", ",
                         tx.quote(json), ") ON CONFLICT DO NOTHING"));
        if (inserted.affected_rows() == 0) {
          const pqxx::row row = tx.exec1(absl::StrCat(
              "SELECT history_json FROM allot_epochs WHERE experiment = ", tx.quote(id),
              " AND epoch = ", epoch));
          conflict = row[0].as<std::string>() != json;
        }
        tx.commit();
      }));
  if (conflict) {
    return absl::AlreadyExistsError(absl::StrCat("epoch ", epoch, " of experiment \"",
                                                 experiment, "\" holds another history"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> EventStore::StartedAt(absl::string_view experiment) {
  ALLOT_RETURN_IF_ERROR(CheckText("experiment", experiment));
  std::optional<std::optional<int64_t>> found;
  ALLOT_RETURN_IF_ERROR(WithAdmin(
      absl::StrCat("reading the start of ", experiment), [&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        const pqxx::result r = tx.exec(
            absl::StrCat("SELECT started_us FROM allot_experiments WHERE experiment = ",
                         tx.quote(std::string(experiment))));
        if (r.empty()) return;
        found = r[0][0].is_null() ? std::nullopt
                                  : std::optional<int64_t>(r[0][0].as<int64_t>());
      }));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("experiment \"", experiment, "\" is not registered in the store"));
  }
  if (!found->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("experiment \"", experiment, "\" has no start in the store"));
  }
  return absl::FromUnixMicros(**found);
}

absl::StatusOr<StoredHistory> EventStore::LatestHistory(absl::string_view experiment) {
  ALLOT_RETURN_IF_ERROR(CheckText("experiment", experiment));
  std::optional<StoredHistory> found;
  ALLOT_RETURN_IF_ERROR(WithAdmin(
      absl::StrCat("reading the history of ", experiment), [&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        const pqxx::result r = tx.exec(absl::StrCat(
            "SELECT epoch, start_us, history_json FROM allot_epochs WHERE experiment = ",
            tx.quote(std::string(experiment)), " ORDER BY epoch DESC LIMIT 1"));
        if (r.empty()) return;
        found =
            StoredHistory{r[0][0].as<int>(), absl::FromUnixMicros(r[0][1].as<int64_t>()),
                          r[0][2].as<std::string>()};
      }));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("experiment \"", experiment, "\" has no epoch in the store"));
  }
  return *std::move(found);
}

bool EventStore::healthy() const {
  absl::MutexLock lock(&mu_);
  return stats_.healthy;
}

EventStoreStats EventStore::Stats() const {
  absl::MutexLock lock(&mu_);
  EventStoreStats s = stats_;
  s.buffered = buffer_->size() + in_flight_;
  return s;
}

}  // namespace allot::store
