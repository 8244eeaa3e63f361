// Copyright 2026 The allot Authors.
//
// Runs the built `allot serve` (ALLOT_CLI_PATH) as a child process and talks
// HTTP/1.1 to it with a small Boost.Beast client. Shared by the serve tests.

#ifndef ALLOT_TESTS_SERVE_CLIENT_H_
#define ALLOT_TESTS_SERVE_CLIENT_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/scratch_files.h"

namespace allot::test {

struct HttpResult {
  int status = -1;  // -1: the connection failed
  std::string body;
  std::string content_type;
  std::string allow;
};

struct HttpHeaders {
  std::string content_type = "application/json";
  std::string authorization;  // the whole header value
};

// Sends one request on a new connection and reads the answer.
inline HttpResult Http(int port, const std::string& method, const std::string& target,
                       const std::string& body = "", const HttpHeaders& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  HttpResult result;
  boost::asio::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(port)),
                 ec);
  if (ec) return result;
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, headers.content_type);
  if (!headers.authorization.empty())
    req.set(http::field::authorization, headers.authorization);
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return result;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  http::read(socket, buffer, parser, ec);
  if (ec) return result;
  const auto& res = parser.get();
  result.status = static_cast<int>(res.result_int());
  result.body = res.body();
  result.content_type = std::string(res[http::field::content_type]);
  result.allow = std::string(res[http::field::allow]);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return result;
}

// A running `allot serve`. Stops it (SIGTERM) when destroyed.
class ServeProcess {
 public:
  // Starts `allot serve ARGS...` and waits (up to 20 s) for its start line.
  // On failure, port() is 0 and start_line() holds its stderr.
  // With `file_size_blocks` > 0, the server may write files of at most that
  // many 512-byte blocks (RLIMIT_FSIZE, SIGXFSZ ignored): writes past it fail
  // with EFBIG, as on a full disk.
  ServeProcess(const std::vector<std::string>& args, const std::string& dir,
               int file_size_blocks = 0) {
    err_path_ = dir + "/serve_stderr.txt";
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, 2);
      close(fds[0]);
      close(fds[1]);
      if (file_size_blocks > 0) {
        signal(SIGXFSZ, SIG_IGN);
        const rlim_t bytes = static_cast<rlim_t>(file_size_blocks) * 512;
        const rlimit limit{bytes, bytes};
        setrlimit(RLIMIT_FSIZE, &limit);
      }
      std::vector<char*> argv;
      std::string exe = ALLOT_CLI_PATH;
      argv.push_back(exe.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
    std::string line;
    while (line.find('\n') == std::string::npos) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 20000) <= 0) break;
      char buf[256];
      const ssize_t n = read(out_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    start_line_ = line.substr(0, line.find('\n'));
    const size_t colon = start_line_.rfind("127.0.0.1:");
    if (colon == std::string::npos) {
      start_line_ = ReadBytes(err_path_);
      return;
    }
    size_t end = colon + 10;
    while (end < start_line_.size() &&
           isdigit(static_cast<unsigned char>(start_line_[end]))) {
      ++end;
    }
    int port = 0;
    if (absl::SimpleAtoi(start_line_.substr(colon + 10, end - colon - 10), &port))
      port_ = port;
  }
  ~ServeProcess() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGTERM);
      Wait();
    }
    if (out_fd_ >= 0) close(out_fd_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  const std::string& start_line() const { return start_line_; }
  std::string stderr_text() const { return ReadBytes(err_path_); }

  // Sends `sig` and waits; returns the exit code, or -signal when killed.
  int Stop(int sig = SIGTERM) {
    kill(pid_, sig);
    return Wait();
  }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  bool waited_ = false;
  std::string start_line_;
  std::string err_path_;
};

// The serve tests' experiment, config and server.
inline constexpr char kExperiment[] = R"(id = "exp"
[[arms]]
id = "a"
config = { model = "small", temperature = 0.5 }
[[arms]]
id = "b"
[schedule]
burn_in = "1h"
min_units_per_arm = 1
interval = "1h"
conversion_window = "30m"
)";

inline rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

// Each test gets a data directory, a config and a server on port 0.
class ServeFixture : public ::testing::Test {
 protected:
  void WriteConfig(const std::string& extra = "") {
    WriteBytes(dir() + "/exp.toml", kExperiment);
    WriteBytes(dir() + "/serve.toml",
               absl::StrCat("listen = \"127.0.0.1:0\"\n", "data_dir = \"data\"\n",
                            "experiments = [\"exp.toml\"]\n", extra));
  }
  void StartServer(bool manual_clock = true, int file_size_blocks = 0) {
    server_.reset();
    std::vector<std::string> args = {"serve", "--config", dir() + "/serve.toml"};
    if (manual_clock) args.push_back("--manual-clock");
    server_ = std::make_unique<ServeProcess>(args, dir(), file_size_blocks);
    ASSERT_GT(server_->port(), 0) << server_->start_line();
  }
  HttpResult Post(const std::string& target, const std::string& body,
                  const HttpHeaders& headers = {}) {
    return Http(server_->port(), "POST", target, body, headers);
  }
  HttpResult Get(const std::string& target, const HttpHeaders& headers = {}) {
    return Http(server_->port(), "GET", target, "", headers);
  }
  HttpResult Delete(const std::string& target, const HttpHeaders& headers = {}) {
    return Http(server_->port(), "DELETE", target, "", headers);
  }
  void SetClock(const std::string& now) {
    const HttpResult r = Post("/v1/clock", absl::StrCat(R"({"now":")", now, R"("})"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const std::string& dir() const { return scratch_.path(); }

  ScratchDir scratch_{"serve_test"};
  std::unique_ptr<ServeProcess> server_;
};

}  // namespace allot::test

#endif  // ALLOT_TESTS_SERVE_CLIENT_H_
