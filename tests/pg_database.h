// Copyright 2026 The allot Authors.
//
// Test helpers for the PostgreSQL store: a fresh database per test on the
// server of the CTest fixture `postgres` (tests/pg/ctest_fixture), and a
// private server for tests that stop and start theirs.
//
//   const TestDatabase db;           // CREATE DATABASE allot_t_...
//   absl::StatusOr<MigrateResult> r = MigrateSchema(db.url());
//
// The fixture's URL comes from the file named by ALLOT_TEST_PG_URL_FILE (set
// by ctest) or from ALLOT_TEST_PG_URL. Each test makes its own database, so
// the tests run in parallel against one server.

#ifndef ALLOT_TESTS_PG_DATABASE_H_
#define ALLOT_TESTS_PG_DATABASE_H_

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pqxx/connection"
#include "pqxx/nontransaction"

namespace allot::test {

// Returns the fixture server's URL (of its `postgres` database), or "" when
// neither variable is set.
inline std::string FixtureUrl() {
  if (const char* file = std::getenv("ALLOT_TEST_PG_URL_FILE")) {
    std::ifstream in(file);
    std::string url;
    std::getline(in, url);
    return std::string(absl::StripAsciiWhitespace(url));
  }
  if (const char* url = std::getenv("ALLOT_TEST_PG_URL")) return url;
  return "";
}

// Returns `url` with its database (the path) replaced by `database`.
inline std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t authority = url.find("://") + 3;
  const size_t path = url.find('/', authority);
  return absl::StrCat(url.substr(0, path), "/", database);
}

// A database of its own on a server, dropped when the test ends.
class TestDatabase {
 public:
  // On the fixture's server when `server_url` is empty. The name: the
  // test's name, this process and a counter, so parallel tests never share.
  explicit TestDatabase(std::string server_url = "")
      : server_url_(std::move(server_url)) {
    if (server_url_.empty()) server_url_ = FixtureUrl();
    if (server_url_.empty()) {
      ADD_FAILURE()
          << "no PostgreSQL server: run through ctest (fixture postgres) or set "
             "ALLOT_TEST_PG_URL";
      return;
    }
    static std::atomic<int> counter{0};
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info == nullptr ? "test" : absl::AsciiStrToLower(info->name());
    if (test.size() > 30) test.resize(30);
    name_ = absl::StrCat("allot_t_", test, "_", ::getpid(), "_", counter++);
    try {
      pqxx::connection conn(server_url_);
      pqxx::nontransaction tx(conn);
      tx.exec(absl::StrCat("CREATE DATABASE ", tx.quote_name(name_)));
      url_ = WithDatabase(server_url_, name_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "CREATE DATABASE " << name_ << " on " << server_url_ << ": "
                    << e.what();
    }
  }
  ~TestDatabase() {
    if (url_.empty()) return;
    try {
      pqxx::connection conn(server_url_);
      pqxx::nontransaction tx(conn);
      tx.exec(absl::StrCat("DROP DATABASE IF EXISTS ", tx.quote_name(name_),
                           " WITH (FORCE)"));
    } catch (const std::exception&) {
      // A private server already stopped takes its databases with it.
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

// Runs a shell command, returning its exit status and standard output.
inline int RunShell(const std::string& command, std::string* out = nullptr) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  const int status = ::pclose(pipe);
  if (out != nullptr) *out = std::move(text);
  return status;
}

// A server of the test's own (tests/pg/start_postgres), for tests that stop
// and restart it; stopped and removed when the test ends.
class PrivateServer {
 public:
  // In a scratch directory on tmpfs when there is one (as the fixture's).
  PrivateServer() {
    std::string scratch = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && scratch == "/tmp") {
      scratch = tmp;
    }
    std::string dir = scratch + "/allot_pg.XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << dir;
      return;
    }
    std::string out;
    const int status = RunShell(
        absl::StrCat("bash '", ALLOT_SOURCE_DIR, "/tests/pg/start_postgres' '", dir, "'"),
        &out);
    const size_t newline = out.find('\n');
    if (status != 0 || newline == std::string::npos) {
      ADD_FAILURE() << "start_postgres failed (" << status << "): " << out;
      return;
    }
    url_ = out.substr(0, newline);
    dir_ = std::string(absl::StripAsciiWhitespace(out.substr(newline + 1)));
    // Named for the fixture's cleanup, which stops it if this process dies
    // before its destructor runs.
    if (const char* url_file = std::getenv("ALLOT_TEST_PG_URL_FILE")) {
      const std::string path(url_file);
      marker_ = absl::StrCat(path.substr(0, path.rfind('/')), "/private.",
                             dir_.substr(dir_.rfind('/') + 1));
      std::ofstream(marker_) << dir_ << "\n";
    }
  }
  ~PrivateServer() {
    if (!dir_.empty()) {
      RunShell(absl::StrCat("bash '", ALLOT_SOURCE_DIR, "/tests/pg/stop_postgres' '",
                            dir_, "' >/dev/null 2>&1"));
    }
    if (!marker_.empty()) std::remove(marker_.c_str());
  }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  // Stops the server (fast shutdown: sessions are disconnected) or starts it
  // again on the same port. Returns whether pg_ctl succeeded.
  bool Stop() { return PgCtl("-m fast stop"); }
  bool Start() { return PgCtl("start"); }

  const std::string& url() const { return url_; }  // the `postgres` database
  const std::string& dir() const { return dir_; }

 private:
  bool PgCtl(const std::string& action) {
    const std::string as_user =
        ::geteuid() == 0 ? absl::StrCat("runuser -u \"$(stat -c %U '", dir_, "')\" -- ")
                         : "";
    // pg_ctl start reuses the options the server was first started with
    // (postmaster.opts): the same port and socket directory.
    const std::string opts = action == "start" ? RestartOptions() : "";
    return RunShell(absl::StrCat(as_user, "/usr/lib/postgresql/15/bin/pg_ctl -D '", dir_,
                                 "/data' -l '", dir_, "/log' -w -t 60 ", opts, " ",
                                 action, " >/dev/null 2>&1")) == 0;
  }
  std::string RestartOptions() const {
    const size_t colon = url_.rfind(':');
    const size_t slash = url_.find('/', colon);
    const std::string port = url_.substr(colon + 1, slash - colon - 1);
    return absl::StrCat("-o \"-c listen_addresses=127.0.0.1 -p ", port,
                        " -c unix_socket_directories='", dir_, "' -c fsync=on\"");
  }

  std::string url_;
  std::string dir_;
  std::string marker_;
};

}  // namespace allot::test

#endif  // ALLOT_TESTS_PG_DATABASE_H_
