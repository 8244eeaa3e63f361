// Copyright 2026 The allot Authors.
//
// Tests of RFC 3339 times and Go-style durations as allot's files and
// command line write them.

#include "allot/time_format.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace allot {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int year, int month, int day, int hour, int minute, int second) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

// Expects `text` to be refused as `field`, with both in the message.
template <typename T>
void ExpectRefused(const absl::StatusOr<T>& parsed, const std::string& field,
                   const std::string& text) {
  ASSERT_FALSE(parsed.ok()) << "\"" << text << "\" was accepted";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(parsed.status().message());
  EXPECT_THAT(message, HasSubstr(field));
  EXPECT_THAT(message, HasSubstr("\"" + text + "\""));
}

TEST(ParseTimeTest, ReadsUtcWithZ) {
  absl::StatusOr<absl::Time> t = ParseTime("start", "2026-01-02T06:00:00Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Utc(2026, 1, 2, 6, 0, 0));
}

TEST(ParseTimeTest, ReadsOffsets) {
  absl::StatusOr<absl::Time> plus = ParseTime("start", "2026-01-02T08:30:00+02:30");
  ASSERT_TRUE(plus.ok()) << plus.status();
  EXPECT_EQ(*plus, Utc(2026, 1, 2, 6, 0, 0));
  absl::StatusOr<absl::Time> minus = ParseTime("start", "2026-01-01T22:00:00-08:00");
  ASSERT_TRUE(minus.ok()) << minus.status();
  EXPECT_EQ(*minus, Utc(2026, 1, 2, 6, 0, 0));
  absl::StatusOr<absl::Time> zero = ParseTime("start", "2026-01-02T06:00:00+00:00");
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(*zero, Utc(2026, 1, 2, 6, 0, 0));
}

TEST(ParseTimeTest, ReadsFractionalSeconds) {
  absl::StatusOr<absl::Time> t = ParseTime("start", "2026-01-02T06:00:00.25Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Utc(2026, 1, 2, 6, 0, 0) + absl::Milliseconds(250));
  absl::StatusOr<absl::Time> nanos =
      ParseTime("start", "2026-01-02T06:00:00.123456789+01:00");
  ASSERT_TRUE(nanos.ok()) << nanos.status();
  EXPECT_EQ(*nanos, Utc(2026, 1, 2, 5, 0, 0) + absl::Nanoseconds(123456789));
}

TEST(ParseTimeTest, RefusesBadTextNamingTheField) {
  for (const std::string text :
       {"", "yesterday", "2026-01-02", "2026-01-02T06:00:00", "2026-01-02 06:00:00Z x",
        "2026-13-02T06:00:00Z", "2026-01-02T25:00:00Z", "2026-01-02T06:00:00+25:00",
        "1767333600", "infinite-future", "infinite-past"}) {
    ExpectRefused(ParseTime("epochs[1].start", text), "epochs[1].start", text);
  }
}

TEST(ParseTimeTest, RefusalMessageShowsAnExample) {
  absl::StatusOr<absl::Time> t = ParseTime("--at", "noon");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            "--at must be an RFC 3339 time like 2026-01-02T06:00:00Z, got "
            "\"noon\"");
}

TEST(FormatRfc3339Test, WritesUtcWithZ) {
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 2, 6, 0, 0)), "2026-01-02T06:00:00Z");
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 2, 6, 0, 0) + absl::Milliseconds(500)),
            "2026-01-02T06:00:00.5Z");
}

TEST(FormatRfc3339Test, RoundTrips) {
  const absl::Time base = Utc(2026, 1, 1, 0, 0, 0);
  for (absl::Time t : {base, base + absl::Hours(30), base + absl::Nanoseconds(1),
                       base + absl::Milliseconds(123), base - absl::Hours(24 * 365 * 30),
                       Utc(1970, 1, 1, 0, 0, 0), Utc(2099, 12, 31, 23, 59, 59)}) {
    const std::string text = FormatRfc3339(t);
    absl::StatusOr<absl::Time> back = ParseTime("t", text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, t) << text;
  }
}

TEST(ParseDurationTest, ReadsGoStyleDurations) {
  struct Case {
    std::string text;
    absl::Duration want;
  };
  for (const Case& c : {Case{"24h", absl::Hours(24)}, Case{"90m", absl::Minutes(90)},
                        Case{"1h30m", absl::Minutes(90)}, Case{"90s", absl::Seconds(90)},
                        Case{"1.5h", absl::Minutes(90)}, Case{"0s", absl::ZeroDuration()},
                        Case{"-1h", -absl::Hours(1)}, Case{"14d", absl::Hours(14 * 24)},
                        Case{"0.5d", absl::Hours(12)}, Case{" 72h ", absl::Hours(72)}}) {
    absl::StatusOr<absl::Duration> d = ParseDuration("schedule.interval", c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDurationTest, RefusesBadTextNamingTheField) {
  for (const std::string text : {"", "abc", "inf", "-inf", "12 parsecs", "24", "d",
                                 "nand", "infd", "1e300d", "1h 30m", "h"}) {
    ExpectRefused(ParseDuration("schedule.burn_in", text), "schedule.burn_in", text);
  }
}

TEST(ParseDurationTest, RefusalMessageShowsExamples) {
  absl::StatusOr<absl::Duration> d = ParseDuration("schedule.burn_in", "soon");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(std::string(d.status().message()),
            "schedule.burn_in must be a duration like \"24h\", \"90m\" or "
            "\"14d\", got \"soon\"");
}

TEST(FormatDurationTest, WritesWhatParseDurationReads) {
  EXPECT_EQ(allot::FormatDuration(absl::Hours(72)), "72h");
  EXPECT_EQ(allot::FormatDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(allot::FormatDuration(absl::ZeroDuration()), "0");
}

TEST(FormatDurationTest, RoundTrips) {
  for (absl::Duration d :
       {absl::Hours(24), absl::Hours(6), absl::Minutes(90), absl::Seconds(1),
        absl::Milliseconds(1500), absl::Nanoseconds(1), absl::Hours(14 * 24),
        absl::ZeroDuration(), -absl::Hours(1),
        absl::Hours(1) + absl::Minutes(2) + absl::Seconds(3) + absl::Microseconds(4)}) {
    const std::string text = allot::FormatDuration(d);
    absl::StatusOr<absl::Duration> back = ParseDuration("d", text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, d) << text;
  }
}

}  // namespace
}  // namespace allot
