// Copyright 2026 The allot Authors.
//
// Test helpers for files: a fresh scratch directory removed when the test
// ends, and whole-file byte reads and writes. Shared by the snapshot and
// journal tests.

#ifndef ALLOT_TESTS_SCRATCH_FILES_H_
#define ALLOT_TESTS_SCRATCH_FILES_H_

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"

namespace allot::test {

// A fresh directory per test (ctest runs cases in parallel processes), on
// tmpfs when there is one: journals fdatasync every record, which tmpfs
// makes free; the logic under test is the same. Removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name = "allot_test") {
    tmpfs_ = ::access("/dev/shm", W_OK) == 0;
    path_ = (tmpfs_ ? std::string("/dev/shm") : ::testing::TempDir()) + "/" + name +
            ".XXXXXX";
    EXPECT_NE(::mkdtemp(path_.data()), nullptr) << path_;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  bool tmpfs() const { return tmpfs_; }

 private:
  std::string path_;
  bool tmpfs_ = false;
};

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace allot::test

#endif  // ALLOT_TESTS_SCRATCH_FILES_H_
