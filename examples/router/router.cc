// Copyright 2026 The allot Authors.
//
// A model router that embeds allot, the way a routing service does: worker
// threads take requests, ask the experiment (through a handle) which variant
// serves each conversation, read the variant's payload to pick a model
// backend, call it and report whether the answer converted. A timer thread
// calls Advance; another writes a snapshot now and then; state lives in a
// journal and snapshots under --state-dir, so a restarted router recovers
// every unit's arm, every outcome and every reallocation.
//
// Time is simulated so a run is quick and reproducible in its statistics:
// each request moves a shared clock on by --step (a busy service's request
// rate); the backends' behaviour differs by model.
//
//   build/examples/router/router_example --state-dir /tmp/router
//       --experiment examples/experiments/support-bot-model.toml
//       --requests 200000 --threads 4

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "allot/engine.h"
#include "allot/experiment_config.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "rapidjson/document.h"

namespace {

// A model endpoint: how often its answer resolves the conversation.
struct Backend {
  double success = 0;
};

// The backends the payloads' "model" names; unknown models fail.
const std::map<std::string, Backend>& Backends() {
  static const auto* backends =
      new std::map<std::string, Backend>{{"support-small-2", {0.10}},
                                         {"support-large-2", {0.14}},
                                         {"support-large-3", {0.16}}};
  return *backends;
}

// The payload's "model" (a router caches this per arm; parsing it per
// request keeps the example short).
std::string ModelOf(const allot::ArmInfo& arm) {
  rapidjson::Document doc;
  doc.Parse(arm.payload.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("model") ||
      !doc["model"].IsString()) {
    return "";
  }
  return doc["model"].GetString();
}

// A shared simulated clock: each request moves it on by one step.
class Clock {
 public:
  Clock(absl::Time start, absl::Duration step) : start_(start), step_(step) {}
  absl::Time Tick() { return start_ + step_ * ticks_.fetch_add(1); }
  absl::Time Now() const { return start_ + step_ * ticks_.load(); }
  int64_t ticks() const { return ticks_.load(); }
  void ResumeAt(absl::Time t) {
    absl::Duration rem;  // IDivDuration writes it: it may not be null
    ticks_ = absl::IDivDuration(t - start_, step_, &rem) + 1;
  }

 private:
  const absl::Time start_;
  const absl::Duration step_;
  std::atomic<int64_t> ticks_{0};
};

struct Args {
  std::string experiment;
  std::string state_dir;
  int64_t requests = 100000;
  int threads = 4;
  std::string step = "10s";
};

int Run(const Args& args) {
  absl::Duration step;
  if (!absl::ParseDuration(args.step, &step) || step <= absl::ZeroDuration()) {
    std::fprintf(stderr, "--step must be a positive duration, got %s\n",
                 args.step.c_str());
    return 2;
  }
  absl::StatusOr<allot::ExperimentConfig> config =
      allot::LoadExperimentFile(args.experiment);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  const std::string snapshot = args.state_dir + "/allot.snapshot";
  const std::string journal_path = args.state_dir + "/allot.journal";
  std::filesystem::create_directories(args.state_dir);

  // 1. Recover whatever an earlier run left (nothing on the first run).
  absl::StatusOr<allot::Recovery> recovered = allot::Recover(snapshot, journal_path);
  if (!recovered.ok()) {
    std::fprintf(stderr, "recovery failed: %s\n",
                 std::string(recovered.status().message()).c_str());
    return 1;
  }
  std::unique_ptr<allot::Engine> engine = std::move(recovered->engine);
  absl::StatusOr<std::unique_ptr<allot::Journal>> journal = allot::Journal::Open(
      journal_path,
      {.flush = allot::FlushPolicy::kBatched, .batch_interval = absl::Milliseconds(10)});
  if (!journal.ok()) {
    std::fprintf(stderr, "%s\n", std::string(journal.status().message()).c_str());
    return 1;
  }
  engine->AttachJournal(journal->get());

  const absl::Time origin = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  Clock clock(origin, step);
  if (!engine->State(config->id).ok()) {
    if (!engine->CreateExperiment(*config).ok() ||
        !engine->Start(config->id, origin).ok()) {
      std::fprintf(stderr, "cannot start %s\n", config->id.c_str());
      return 1;
    }
    std::printf("started %s\n", config->id.c_str());
  } else {
    // Go on after the latest time the recovered engine saw: its last Advance
    // was before the next grid point after its last report (a wall clock
    // would simply be later).
    const allot::AllocationHistory history = *engine->History(config->id);
    const std::vector<allot::ReallocationReport> reports = *engine->Reports(config->id);
    clock.ResumeAt(reports.empty()
                       ? origin + allot::FirstReallocationDelay(config->schedule)
                       : reports.back().time + config->schedule.interval);
    std::printf(
        "recovered %s: %s, %lld journal records replayed, %zu epochs, %lld open units\n",
        config->id.c_str(), recovered->from_snapshot ? "from a snapshot" : "no snapshot",
        static_cast<long long>(recovered->records_replayed), history.epochs().size(),
        static_cast<long long>(*engine->OpenUnits(config->id)));
  }

  // 2. The router's hot path: a handle, no lookup by id per request.
  const allot::ExperimentHandle handle = *engine->Handle(config->id);
  // Unit ids never repeat across runs: they count on from the clock.
  const int64_t first_unit = clock.ticks();
  std::atomic<int64_t> next_request{0}, retried{0}, failed{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < args.threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937_64 rng(1000 + w);
      std::uniform_real_distribution<double> uniform(0, 1);
      for (int64_t k; (k = next_request.fetch_add(1)) < args.requests;) {
        const std::string unit = absl::StrCat("conv-", first_unit + k);
        absl::StatusOr<allot::Assignment> a = handle.Assign(unit, clock.Tick());
        // Stamped before an Advance that ran meanwhile: stamp it again (the
        // timer may advance again in between, hence the loop).
        for (int tries = 0; tries < 100 && !a.ok() &&
                            a.status().code() == absl::StatusCode::kInvalidArgument;
             ++tries) {
          retried.fetch_add(1);
          a = handle.Assign(unit, clock.Now());
        }
        if (!a.ok()) {
          failed.fetch_add(1);
          continue;
        }
        auto backend = Backends().find(ModelOf(*a->arm_info));
        const bool converted =
            backend != Backends().end() && uniform(rng) < backend->second.success;
        if (converted && a->new_exposure) {
          absl::StatusOr<allot::OutcomeDisposition> d =
              handle.RecordOutcome(unit, clock.Now(), 1);
          for (int tries = 0; tries < 100 && !d.ok(); ++tries) {
            d = handle.RecordOutcome(unit, clock.Now(), 1);
          }
        }
      }
    });
  }
  // 3. Advance on a timer; a snapshot every few hundred milliseconds.
  std::thread timer([&] {
    auto last_snapshot = std::chrono::steady_clock::now();
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      (void)engine->Advance(clock.Now());
      if (std::chrono::steady_clock::now() - last_snapshot >
          std::chrono::milliseconds(300)) {
        (void)allot::WriteSnapshot(*engine, snapshot);
        last_snapshot = std::chrono::steady_clock::now();
      }
    }
  });
  for (std::thread& t : workers) t.join();
  done = true;
  timer.join();
  (void)engine->Advance(clock.Now());
  if (absl::Status s = allot::WriteSnapshot(*engine, snapshot); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }

  const std::vector<allot::ReallocationReport> reports = *engine->Reports(config->id);
  std::printf(
      "served %lld requests on %d threads (%lld re-stamped after an Advance, %lld "
      "failed); %zu reports, %zu epochs\n",
      static_cast<long long>(args.requests), args.threads,
      static_cast<long long>(retried.load()), static_cast<long long>(failed.load()),
      reports.size(), engine->History(config->id)->epochs().size());
  if (!reports.empty()) {
    const allot::ReallocationReport& r = reports.back();
    for (size_t a = 0; a < r.arms.size(); ++a) {
      std::printf("  %-8s units %7lld  rate %.4f  P(best) %.3f  weight %.3f\n",
                  r.arms[a].id.c_str(), static_cast<long long>(r.arms[a].units),
                  r.arms[a].mean, r.arms[a].p_best, r.weights_after[a]);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A model router embedding allot (examples/router)"};
  Args args;
  app.add_option("--experiment", args.experiment, "experiment TOML")->required();
  app.add_option("--state-dir", args.state_dir, "journal and snapshot directory")
      ->required();
  app.add_option("--requests", args.requests, "requests to serve")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", args.threads, "worker threads")->check(CLI::Range(1, 64));
  app.add_option("--step", args.step, "simulated time per request (default 10s)");
  CLI11_PARSE(app, argc, argv);
  return Run(args);
}
