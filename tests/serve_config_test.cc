// Copyright 2026 The allot Authors.

#include "serve/serve_config.h"

#include <string>

#include "gtest/gtest.h"

namespace allot::serve {
namespace {

constexpr char kDigest[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(ServeConfigTest, Defaults) {
  absl::StatusOr<ServeConfig> c =
      ParseServeConfig("data_dir = \"d\"\n", "s.toml", "/base");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8470);
  EXPECT_EQ(c->data_dir, "/base/d");
  EXPECT_EQ(c->snapshot_interval, absl::Minutes(5));
  EXPECT_EQ(c->advance_interval, absl::Seconds(10));
  EXPECT_EQ(c->max_body_bytes, 1 << 20);
  EXPECT_EQ(c->max_batch, 10000);
  EXPECT_EQ(c->max_connections, 1024);
  EXPECT_EQ(c->read_timeout, absl::Seconds(10));
  EXPECT_EQ(c->durability, Durability::kSync);
  EXPECT_EQ(c->io_threads, 1);
  EXPECT_TRUE(c->tokens.empty());
}

TEST(ServeConfigTest, ReadsEveryField) {
  const std::string text = std::string(R"(
listen = "0.0.0.0:9000"
data_dir = "/var/lib/allot"
experiments = ["a.toml", "/abs/b.toml"]
snapshot_interval = "1m"
advance_interval = "2s"
max_body_bytes = 4096
max_batch = 10
max_connections = 5
read_timeout = "3s"
flush = "interval"
flush_interval = "20ms"
io_threads = 4
[[tokens]]
sha256 = ")") + kDigest + R"("
role = "router"
)";
  absl::StatusOr<ServeConfig> c = ParseServeConfig(text, "s.toml", "/etc/allot");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9000);
  EXPECT_EQ(c->data_dir, "/var/lib/allot");
  ASSERT_EQ(c->experiments.size(), 2u);
  EXPECT_EQ(c->experiments[0], "/etc/allot/a.toml");
  EXPECT_EQ(c->experiments[1], "/abs/b.toml");
  EXPECT_EQ(c->snapshot_interval, absl::Minutes(1));
  EXPECT_EQ(c->advance_interval, absl::Seconds(2));
  EXPECT_EQ(c->max_body_bytes, 4096);
  EXPECT_EQ(c->max_batch, 10);
  EXPECT_EQ(c->max_connections, 5);
  EXPECT_EQ(c->read_timeout, absl::Seconds(3));
  EXPECT_EQ(c->durability, Durability::kInterval);
  EXPECT_EQ(c->flush_interval, absl::Milliseconds(20));
  EXPECT_EQ(c->io_threads, 4);
  ASSERT_EQ(c->tokens.size(), 1u);
  EXPECT_EQ(c->tokens[0].role, Role::kRouter);
  EXPECT_EQ(c->tokens[0].sha256[0], 0x9f);
  EXPECT_EQ(c->tokens[0].sha256[31], 0x08);
}

TEST(ServeConfigTest, RefusesBadInput) {
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"", "data_dir is required"},
      {"data_dir = \"d\"\nlisten_port = 1\n", "listen_port is not a known field"},
      {"data_dir = \"d\"\nlisten = \"127.0.0.1\"\n", "listen must be \"ADDRESS:PORT\""},
      {"data_dir = \"d\"\nlisten = \":80\"\n", "no address"},
      {"data_dir = \"d\"\nflush = \"sometimes\"\n",
       "flush must be \"sync\" or \"interval\", got \"sometimes\""},
      {"data_dir = \"d\"\nflush_interval = \"0s\"\n",
       "flush_interval must be a positive"},
      {"data_dir = \"d\"\nflush_interval = \"2m\"\n",
       "flush_interval must be at most 1m"},
      {"data_dir = \"d\"\nio_threads = 0\n", "io_threads must be positive, got 0"},
      {"data_dir = \"d\"\nio_threads = 65\n", "io_threads must be at most 64, got 65"},
      {"data_dir = \"d\"\nlisten = \"127.0.0.1:70000\"\n", "[0, 65535]"},
      {"data_dir = \"d\"\nlisten = \"0.0.0.0:8470\"\n", "is not a loopback address"},
      {"data_dir = \"d\"\nmax_batch = 0\n", "max_batch must be positive, got 0"},
      {"data_dir = \"d\"\nmax_body_bytes = \"big\"\n", "max_body_bytes"},
      {"data_dir = \"d\"\nread_timeout = \"soon\"\n", "read_timeout"},
      {"data_dir = \"d\"\nadvance_interval = \"0s\"\n",
       "advance_interval must be a positive"},
      {"data_dir = \"d\"\nexperiments = \"a.toml\"\n", "experiments must be an array"},
      {"data_dir = \"d\"\n[[tokens]]\nsha256 = \"abc\"\nrole = \"admin\"\n",
       "tokens[0].sha256 must be 64 hexadecimal digits"},
      {std::string("data_dir = \"d\"\n[[tokens]]\nsha256 = \"") + kDigest +
           "\"\nrole = \"root\"\n",
       "tokens[0].role must be admin, router or viewer"},
      {std::string("data_dir = \"d\"\n[[tokens]]\nsha256 = \"") + kDigest + "\"\n",
       "tokens[0] needs role"},
      {std::string("data_dir = \"d\"\n[[tokens]]\nsha256 = \"") + kDigest +
           "\"\nrole = \"admin\"\nname = \"x\"\n",
       "tokens[0].name is not a known field"},
      {"data_dir = ", "s.toml:1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<ServeConfig> config = ParseServeConfig(c.text, "s.toml", "/base");
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.message), std::string::npos)
        << config.status();
  }
}

TEST(ServeConfigTest, AReplicaNeedsAStoreAndNoDataDir) {
  absl::StatusOr<ServeConfig> c = ParseServeConfig(R"([store]
url = "postgresql://allot@db:5432/allot"
replica = "router-3"
flush_interval = "100ms"
flush_events = 500
poll_interval = "2s"
learner = true
learner_lag = "10s"
)",
                                                   "s.toml", "/base");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->data_dir.empty());
  EXPECT_EQ(c->store.url, "postgresql://allot@db:5432/allot");
  EXPECT_EQ(c->store.replica, "router-3");
  EXPECT_EQ(c->store.flush_interval, absl::Milliseconds(100));
  EXPECT_EQ(c->store.flush_events, 500);
  EXPECT_EQ(c->store.poll_interval, absl::Seconds(2));
  EXPECT_TRUE(c->store.learner);
  EXPECT_EQ(c->store.learner_lag, absl::Seconds(10));
  // --store gives the URL when the file has none.
  c = ParseServeConfig("", "s.toml", "/base", "postgresql://db/allot");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->store.url, "postgresql://db/allot");
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"[store]\nreplica = \"r\"\n", "data_dir is required (or a [store] url"},
      {"[store]\nurl = \"postgresql://db/a\"\nflush_events = 0\n",
       "store.flush_events must be positive, got 0"},
      {"[store]\nurl = \"postgresql://db/a\"\nlearner = \"yes\"\n",
       "store.learner must be true or false"},
      {"[store]\nurl = \"postgresql://db/a\"\nlearner_lag = \"-1s\"\n",
       "store.learner_lag must not be negative"},
      {"[store]\nurl = \"postgresql://db/a\"\nreplica = \"\"\n",
       "store.replica must be 1 to 64 bytes"},
      {"[store]\nurl = \"postgresql://db/a\"\nhost = \"db\"\n",
       "store.host is not a known field"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.text);
    absl::StatusOr<ServeConfig> config = ParseServeConfig(bad.text, "s.toml", "/base");
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.status().message().find(bad.message), std::string::npos)
        << config.status();
  }
}

TEST(ServeConfigTest, NonLoopbackNeedsTokens) {
  const std::string text = std::string(
                               "listen = \"0.0.0.0:0\"\ndata_dir = \"d\"\n[[tokens]]\n"
                               "sha256 = \"") +
                           kDigest + "\"\nrole = \"admin\"\n";
  EXPECT_TRUE(ParseServeConfig(text, "s.toml", "/").ok());
  EXPECT_TRUE(
      ParseServeConfig("listen = \"[::1]:0\"\ndata_dir = \"d\"\n", "s.toml", "/").ok());
  // A host name is resolved: "localhost" is loopback (from /etc/hosts).
  absl::StatusOr<ServeConfig> named =
      ParseServeConfig("listen = \"localhost:0\"\ndata_dir = \"d\"\n", "s.toml", "/");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->listen_host, "localhost");
}

}  // namespace
}  // namespace allot::serve
