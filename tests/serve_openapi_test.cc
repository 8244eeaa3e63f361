// Copyright 2026 The allot Authors.
//
// docs/openapi.yaml describes exactly the server's routes: the same paths
// and methods as the route table the server dispatches through.

#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "serve/routes.h"
#include "tests/cli_run.h"

namespace allot::serve {
namespace {

using MethodPath = std::pair<std::string, std::string>;

// Reads the (method, path) pairs under `paths:`: paths at indentation 2,
// operations at indentation 4. The file keeps to that layout (block style),
// so no YAML library is needed.
std::set<MethodPath> OpenApiOperations(const std::string& text) {
  std::set<MethodPath> ops;
  bool in_paths = false;
  std::string path;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const size_t indent = line.find_first_not_of(' ');
    if (indent == absl::string_view::npos) continue;
    if (indent == 0) {
      in_paths = line == "paths:";
      continue;
    }
    if (!in_paths) continue;
    const absl::string_view key = absl::StripTrailingAsciiWhitespace(line.substr(indent));
    if (indent == 2 && absl::EndsWith(key, ":")) {
      path = std::string(key.substr(0, key.size() - 1));
    } else if (indent == 4) {
      for (const char* method : {"get", "post", "put", "delete", "patch"}) {
        if (key == absl::StrCat(method, ":")) {
          ops.insert({absl::AsciiStrToUpper(method), path});
        }
      }
    }
  }
  return ops;
}

TEST(ServeOpenApiTest, PathsAndMethodsMatchTheRouteTable) {
  const std::string text = test::ReadBytes(test::SourcePath("docs/openapi.yaml"));
  ASSERT_FALSE(text.empty());
  std::set<MethodPath> routes;
  for (const Route& r : Routes())
    routes.insert({std::string(r.method), std::string(r.path)});
  EXPECT_EQ(routes.size(), Routes().size()) << "a route is listed twice";
  EXPECT_EQ(OpenApiOperations(text), routes);
}

TEST(ServeOpenApiTest, ReaderSeesOperations) {
  const std::set<MethodPath> ops = OpenApiOperations(
      "info:\n  x: 1\npaths:\n  /a:\n    parameters: []\n    get:\n      summary: x\n"
      "  /b/{id}:\n    delete:\n      x: 1\ncomponents:\n  /c:\n    get: {}\n");
  EXPECT_EQ(ops, (std::set<MethodPath>{{"GET", "/a"}, {"DELETE", "/b/{id}"}}));
}

}  // namespace
}  // namespace allot::serve
