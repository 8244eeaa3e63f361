// Copyright 2026 The allot Authors.
//
// store_ingest: events per second through the PostgreSQL store's write path
// (EventStore: buffered appends, COPY into staging, INSERT ... ON CONFLICT
// DO NOTHING). Each appender is a replica of its own (its own EventStore and
// connections) on its own thread, appending one exposure and one outcome per
// unit; units are disjoint between appenders. The clock runs from the first
// append to the last event written (Flush). A full buffer is waited out
// (the appender sleeps 1 ms), so the figure is what the database sustains.
//
//   store_ingest --store postgresql://postgres@127.0.0.1:5432/bench
//                [--appenders 2] [--units 500000]
//
// Not a Google Benchmark binary (it needs a server), so CI's smoke pass of
// build/bench/*_benchmark skips it; a ctest (store_ingest_smoke) runs it
// briefly against the test fixture's server.

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "store/event_store.h"
#include "store/schema.h"

namespace {

using allot::store::EventStore;
using allot::store::EventStoreOptions;
using allot::store::EventStoreStats;

int Run(const std::string& url, int appenders, int64_t units) {
  absl::StatusOr<allot::store::MigrateResult> schema = allot::store::MigrateSchema(url);
  if (!schema.ok()) {
    std::cerr << "store_ingest: " << schema.status() << "\n";
    return 1;
  }
  const std::string experiment = absl::StrCat("ingest-", ::getpid());
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  std::vector<std::unique_ptr<EventStore>> stores;
  for (int a = 0; a < appenders; ++a) {
    EventStoreOptions options;
    options.replica = absl::StrCat("bench-", a);
    options.incarnation = static_cast<uint64_t>(::getpid());
    absl::StatusOr<std::unique_ptr<EventStore>> s = EventStore::Connect(url, options);
    if (s.ok()) {
      const absl::Status r = (*s)->RegisterExperiment(experiment, "", t0);
      if (!r.ok()) s = r;
    }
    if (!s.ok()) {
      std::cerr << "store_ingest: " << s.status() << "\n";
      return 1;
    }
    stores.push_back(*std::move(s));
  }
  std::atomic<int64_t> waits{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int a = 0; a < appenders; ++a) {
    threads.emplace_back([&, a] {
      EventStore& store = *stores[static_cast<size_t>(a)];
      for (int64_t i = 0; i < units; ++i) {
        const uint64_t unit = static_cast<uint64_t>(a) << 40 | static_cast<uint64_t>(i);
        const absl::Time t = t0 + absl::Microseconds(i);
        allot::store::ExposureEvent e{.experiment = experiment,
                                      .unit_hi = unit * 0x9E3779B97F4A7C15ull,
                                      .unit_lo = unit,
                                      .arm = static_cast<int>(i % 3),
                                      .epoch = 0,
                                      .propensity = 1.0 / 3,
                                      .holdout = false,
                                      .exposed = t,
                                      .unit_start = std::nullopt};
        while (!store.AppendExposure(e).ok()) {
          waits.fetch_add(1);
          absl::SleepFor(absl::Milliseconds(1));
        }
        allot::store::OutcomeEvent o{.experiment = experiment,
                                     .event_id = "",
                                     .unit_hi = e.unit_hi,
                                     .unit_lo = e.unit_lo,
                                     .metric = "converted",
                                     .value = 1,
                                     .time = t + absl::Seconds(1)};
        while (!store.AppendOutcome(o).ok()) {
          waits.fetch_add(1);
          absl::SleepFor(absl::Milliseconds(1));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (auto& s : stores) {
    const absl::Status f = s->Flush(absl::Minutes(10));
    if (!f.ok()) {
      std::cerr << "store_ingest: " << f << "\n";
      return 1;
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t written = 0, flushes = 0;
  for (auto& s : stores) {
    const EventStoreStats st = s->Stats();
    written += st.exposures_written + st.outcomes_written;
    flushes += st.flushes;
  }
  const int64_t events = 2 * units * appenders;
  std::cout << absl::StrFormat(
      "appenders %d, events %d (written %d) in %.2f s: %.0f events/s; %d flushes, %d "
      "waits "
      "for a full buffer\n",
      appenders, events, written, seconds, static_cast<double>(written) / seconds,
      flushes, waits.load());
  return written == events ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store_ingest: events/s through the PostgreSQL store's write path"};
  std::string url;
  int appenders = 2;
  int64_t units = 500000;
  app.add_option("--store", url, "PostgreSQL URL of a database to write to")->required();
  app.add_option("--appenders", appenders, "Appenders (replicas), one thread each")
      ->check(CLI::Range(1, 64));
  app.add_option("--units", units, "Units per appender (two events each)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  CLI11_PARSE(app, argc, argv);
  return Run(url, appenders, units);
}
