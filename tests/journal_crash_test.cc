// Copyright 2026 The allot Authors.
//
// The crash test: a child process applies a long event stream to an engine
// journaling every record, and is killed with SIGKILL at 60 points spread
// over the stream. Each time, recovery from the journal must give exactly
// the state implied by the records that reached the journal: the state of an
// engine that applied the stream until its own journal held as many records,
// compared by snapshot bytes (journal sequence included). Runs in CI, label
// "crash"; it takes a few seconds on tmpfs.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/engine.h"
#include "allot/journal.h"
#include "allot/snapshot.h"
#include "gtest/gtest.h"
#include "tests/event_stream.h"
#include "tests/scratch_files.h"

namespace allot {
namespace {

using test::ReadBytes;
using test::ScratchDir;

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01
constexpr int kKillPoints = 60;

std::string SnapshotBytes(const Engine& engine, const std::string& path) {
  EXPECT_TRUE(WriteSnapshot(engine, path).ok());
  return ReadBytes(path);
}

ExperimentConfig BinaryConfig() {
  ExperimentConfig c;
  c.id = "checkout";
  c.arms = {{"a", 1}, {"b", 1}, {"c", 1}};
  c.holdout = 0.05;
  c.baseline = "a";
  c.seed = 9;
  c.schedule.burn_in = absl::Minutes(40);
  c.schedule.interval = absl::Minutes(20);
  c.schedule.conversion_window = absl::Minutes(15);
  c.schedule.min_units_per_arm = 3;
  return c;
}

using Event = test::EngineEvent;

// Applies `e`; returns false only when the journal failed (a refused call,
// which the stream has on purpose, changes nothing and is fine).
bool Apply(Engine& engine, const Event& e) {
  return test::ApplyEvent(engine, e).code() != absl::StatusCode::kDataLoss;
}

// `n` events: the creates and starts of two experiments, then seeded events (see
// tests/event_stream.h): new, pinned and returning units, outcomes (some
// late, duplicated, unknown or refused), an advance every 5 minutes of event
// time (about 40 reallocations each), a stop at 90%.
std::vector<Event> MakeStream(uint64_t seed, int n) {
  return test::MakeEventStream(seed, n - 4,
                               {.experiments = {BinaryConfig(), test::LatencyConfig()},
                                .start = kStart,
                                .max_step_seconds = 10,
                                .advance_every = absl::Minutes(5),
                                .stop_second_at = 0.9});
}

// The child: applies the stream with a journal flushed per record and
// reports, after each event, how many it has applied. Past `target` it
// pauses 200 us after each event, so a parent that a loaded machine
// deschedules still kills it mid-stream rather than finding it finished
// (the pipe never blocks it). Never returns.
[[noreturn]] void RunChild(const std::vector<Event>& events,
                           const std::string& journal_path, int progress_fd, int target) {
  absl::StatusOr<std::unique_ptr<Journal>> journal =
      Journal::Open(journal_path, {.flush = FlushPolicy::kEveryRecord});
  if (!journal.ok()) ::_exit(3);
  Engine engine({.journal = journal->get()});
  for (uint32_t k = 0; k < events.size(); ++k) {
    if (!Apply(engine, events[k])) ::_exit(4);
    const uint32_t done = k + 1;
    if (::write(progress_fd, &done, sizeof(done)) != sizeof(done)) ::_exit(5);
    if (static_cast<int>(done) >= target) ::usleep(200);
  }
  ::_exit(0);
}

struct KillPoint {
  int target = 0;        // kill once the child reports this many events
  int64_t progress = 0;  // the most the parent saw reported before the kill
  bool killed = false;   // false: the child finished first
  int64_t records = 0;   // N, records in the journal after recovery
  int64_t dropped = 0;
  std::string recovered;  // snapshot bytes of the recovered engine
};

// Forks a child on `journal_path`, kills it once it has applied `target`
// events, and recovers.
void KillAndRecover(const std::vector<Event>& events, const std::string& dir,
                    KillPoint& kp) {
  const std::string journal_path = dir + "/journal";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(events, journal_path, fds[1], kp.target);
  }
  ::close(fds[1]);
  uint32_t message = 0;
  size_t have = 0;  // bytes of `message` read so far
  while (kp.progress < kp.target) {
    const ssize_t n =
        ::read(fds[0], reinterpret_cast<char*>(&message) + have, sizeof(message) - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child ended
    have += static_cast<size_t>(n);
    if (have == sizeof(message)) {
      kp.progress = message;
      have = 0;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(fds[0]);
  kp.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!kp.killed) {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "the child failed with status " << status;
  }
  ASSERT_GE(kp.progress, kp.target);

  absl::StatusOr<Recovery> r = Recover("", journal_path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->from_snapshot);
  kp.dropped = r->records_dropped;
  absl::StatusOr<JournalContents> c = InspectJournal(journal_path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dropped_records, 0);  // recovery cut any torn tail off
  kp.records = c->records;
  EXPECT_EQ(r->records_replayed, kp.records);
  kp.recovered = SnapshotBytes(*r->engine, dir + "/recovered.snapshot");
}

TEST(JournalCrashTest, RecoveryAfterSigkillIsExactlyTheJournaledState) {
  const auto began = std::chrono::steady_clock::now();
  const ScratchDir scratch("allot_crash");
  const std::string& root = scratch.path();
  const bool tmpfs = scratch.tmpfs();
  // Without tmpfs every record costs a real fdatasync; a shorter stream
  // keeps the test under a minute.
  const int num_events = tmpfs ? 3000 : 800;
  const std::vector<Event> events = MakeStream(/*seed=*/42, num_events);

  // Targets spread over the whole stream: one random point in each of
  // kKillPoints equal slices.
  std::mt19937_64 rng(20260101);
  std::vector<KillPoint> kills(kKillPoints);
  for (int i = 0; i < kKillPoints; ++i) {
    const int lo = 1 + i * num_events / kKillPoints;
    const int hi = (i + 1) * num_events / kKillPoints;
    kills[i].target = lo + static_cast<int>(rng() % (hi - lo + 1));
  }
  for (int i = 0; i < kKillPoints; ++i) {
    SCOPED_TRACE(absl::StrCat("kill point ", i, " at event ", kills[i].target));
    const std::string dir = absl::StrCat(root, "/kill", i);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    KillAndRecover(events, dir, kills[i]);
    std::filesystem::remove_all(dir);
  }

  // The expected states: one engine applies the stream with its own
  // journal; records[k] is how many records the first k events wrote, and
  // its snapshot is taken whenever the journal holds exactly a recovered N.
  std::map<int64_t, std::string> expected;
  for (const KillPoint& kp : kills) expected[kp.records];
  std::vector<int64_t> records(events.size() + 1, 0);
  {
    const std::string path = root + "/expected.journal";
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(
        path, {.flush = FlushPolicy::kBatched, .batch_interval = absl::Minutes(1)});
    ASSERT_TRUE(journal.ok()) << journal.status();
    Engine engine({.journal = journal->get()});
    auto take = [&](int64_t n) {
      auto it = expected.find(n);
      if (it != expected.end() && it->second.empty()) {
        it->second = SnapshotBytes(engine, root + "/expected.snapshot");
      }
    };
    take(0);
    for (size_t k = 0; k < events.size(); ++k) {
      ASSERT_TRUE(Apply(engine, events[k]));
      records[k + 1] = static_cast<int64_t>((*journal)->next_sequence()) - 1;
      ASSERT_LE(records[k + 1], records[k] + 1) << "one record per event at most";
      take(records[k + 1]);
    }
    // The stream goes through several reallocations and the stop.
    absl::StatusOr<std::vector<ReallocationReport>> reports = engine.Reports("checkout");
    ASSERT_TRUE(reports.ok());
    EXPECT_GE(std::count_if(reports->begin(), reports->end(),
                            [](const ReallocationReport& r) { return r.reallocated; }),
              5);
    EXPECT_EQ(*engine.State("latency"), ExperimentState::kStopped);
  }

  std::printf("kill points (target event -> progress seen -> records N):\n");
  int killed = 0;
  for (size_t i = 0; i < kills.size(); ++i) {
    const KillPoint& kp = kills[i];
    SCOPED_TRACE(absl::StrCat("kill point ", i, " at event ", kp.target));
    std::printf("  %2zu: %4d -> %4lld -> %4lld%s%s\n", i, kp.target,
                static_cast<long long>(kp.progress), static_cast<long long>(kp.records),
                kp.dropped ? " (torn tail dropped)" : "",
                kp.killed ? "" : " (child finished first)");
    killed += kp.killed;
    // Every event the child reported was acknowledged, so its records are
    // in the journal; nothing beyond the stream can be.
    EXPECT_GE(kp.records, records[kp.progress]);
    EXPECT_LE(kp.records, records.back());
    ASSERT_FALSE(expected[kp.records].empty());
    EXPECT_TRUE(kp.recovered == expected[kp.records])
        << "recovery from " << kp.records
        << " records differs from the state those records imply";
  }
  // Most kills must land mid-stream, or the test proves little.
  EXPECT_GE(killed, kKillPoints * 3 / 4);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf("%d kill points over %d events (%s), %d mid-stream, %.1f s\n", kKillPoints,
              num_events, tmpfs ? "tmpfs" : "disk", killed, seconds);
}

}  // namespace
}  // namespace allot
