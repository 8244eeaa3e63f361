// Copyright 2026 The allot Authors.
//
// Runs the built `allot` tool (ALLOT_CLI_PATH, a compile definition of every
// test) with arguments, capturing its exit code, standard output and
// standard error through files in a scratch directory. Shared by the CLI
// tests.

#ifndef ALLOT_TESTS_CLI_RUN_H_
#define ALLOT_TESTS_CLI_RUN_H_

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/scratch_files.h"

namespace allot::test {

struct CliResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// How to run the tool beyond its arguments.
struct CliOptions {
  std::string stdin_bytes;  // standard input (default: empty)
  // Largest file the tool may write, in 512-byte blocks (`ulimit -f`), with
  // SIGXFSZ ignored so a write past it fails with EFBIG; 0: no limit.
  int file_size_blocks = 0;
};

// Runs `allot ARGS...`; `dir` holds the captured streams. Arguments may
// hold any byte but NUL and a single quote.
inline CliResult RunCli(const std::vector<std::string>& args, const std::string& dir,
                        const CliOptions& options = {}) {
  const std::string in = dir + "/cli_stdin.txt", out = dir + "/cli_stdout.txt",
                    err = dir + "/cli_stderr.txt";
  WriteBytes(in, options.stdin_bytes);
  std::string command = absl::StrCat("'", ALLOT_CLI_PATH, "'");
  for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
  absl::StrAppend(&command, " < '", in, "' > '", out, "' 2> '", err, "'");
  if (options.file_size_blocks > 0) {
    command = absl::StrCat("trap '' XFSZ; ulimit -f ", options.file_size_blocks,
                           "; exec ", command);
  }
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadBytes(out);
  result.err = ReadBytes(err);
  return result;
}

// One row of a command's bad-input table. In `args` and `files`' names,
// "$DIR" stands for the case's scratch directory (in `message` too); outputs
// go to $DIR/out. A file name ending in "/" makes a directory.
struct BadInputCase {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> files;  // written first
  std::string stdin_bytes;
  int exit_code = 1;
  std::string message;  // stderr must contain it
};

// Runs every case in a fresh directory and checks its exit code and message,
// that stdout is empty and that no output file is left in $DIR/out.
inline void RunBadInputTable(const std::vector<BadInputCase>& cases) {
  for (const BadInputCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ScratchDir scratch("cli_bad_input");
    const std::string& dir = scratch.path();
    const auto expand = [&](std::string s) {
      for (size_t at; (at = s.find("$DIR")) != std::string::npos;) s.replace(at, 4, dir);
      return s;
    };
    for (const auto& [name, bytes] : c.files) {
      if (name.back() == '/') {
        std::filesystem::create_directories(expand(name));
      } else {
        WriteBytes(expand(name), bytes);
      }
    }
    std::vector<std::string> args;
    for (const std::string& a : c.args) args.push_back(expand(a));
    const CliResult r =
        RunCli(args, dir, {.stdin_bytes = c.stdin_bytes, .file_size_blocks = 0});
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find(expand(c.message)), std::string::npos)
        << "stderr: " << r.err << "\nwanted: " << expand(c.message);
    EXPECT_LT(r.err.size(), 2000u) << "error messages stay short";
    EXPECT_EQ(r.out, "");
    std::error_code ec;
    if (std::filesystem::exists(dir + "/out", ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(dir + "/out")) {
        ADD_FAILURE() << "left behind: " << entry.path();
      }
    }
  }
}

// The path of a file in the source tree.
inline std::string SourcePath(const std::string& relative) {
  return absl::StrCat(ALLOT_SOURCE_DIR, "/", relative);
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_CLI_RUN_H_
