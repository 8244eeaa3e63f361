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
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/scratch_files.h"

namespace allot::test {

struct CliResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs `allot ARGS...` with standard input from /dev/null; `dir` holds the
// captured streams.
inline CliResult RunCli(const std::vector<std::string>& args, const std::string& dir) {
  const std::string out = dir + "/cli_stdout.txt", err = dir + "/cli_stderr.txt";
  std::string command = absl::StrCat("'", ALLOT_CLI_PATH, "'");
  for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
  absl::StrAppend(&command, " < /dev/null > '", out, "' 2> '", err, "'");
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadBytes(out);
  result.err = ReadBytes(err);
  return result;
}

// The path of a file in the source tree.
inline std::string SourcePath(const std::string& relative) {
  return absl::StrCat(ALLOT_SOURCE_DIR, "/", relative);
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_CLI_RUN_H_
