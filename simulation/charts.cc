// Copyright 2026 The allot Authors.

#include "allot/simulation/charts.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "allot/simulation/world.h"

namespace allot::sim {
namespace {

// Colour-blind-safe palette (Okabe-Ito, then Tableau); cycles past ten.
constexpr const char* kColors[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                                   "#56B4E9", "#F0E442", "#000000", "#8C564B", "#7F7F7F"};
const char* Color(size_t i) {
  return kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
}

constexpr double kWidth = 760;
constexpr double kLeft = 70;    // room for y tick labels
constexpr double kRight = 180;  // room for the legend
constexpr double kPlotWidth = kWidth - kLeft - kRight;

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Num(double v) { return absl::StrFormat("%.2f", v); }

std::string Header(double height, absl::string_view title) {
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", Num(kWidth),
                      "\" height=\"", Num(height), "\" viewBox=\"0 0 ", Num(kWidth), " ",
                      Num(height), "\" font-family=\"sans-serif\" font-size=\"12\">\n",
                      "<title>", Escape(title), "</title>\n",
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                      "<text x=\"", Num(kWidth / 2),
                      "\" y=\"22\" text-anchor=\"middle\" "
                      "font-size=\"15\">",
                      Escape(title), "</text>\n");
}

// Tick positions: 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> Ticks(double max, int target) {
  if (!(max > 0)) return {0};
  const double raw = max / target;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (int i = 0; i * step <= max * (1 + 1e-9); ++i) ticks.push_back(i * step);
  return ticks;
}

// The time axis in hours, or in days for long horizons.
struct TimeAxis {
  double hours;
  bool days;
  explicit TimeAxis(double horizon_hours)
      : hours(horizon_hours), days(horizon_hours >= 96) {}
  double X(double h) const { return kLeft + kPlotWidth * h / hours; }
  double Unit() const { return days ? 24 : 1; }
  std::string Label() const { return days ? "days since start" : "hours since start"; }
};

// Axes, grid lines and tick labels of a plot whose y runs 0..y_max over
// [top, top + height].
std::string Axes(const TimeAxis& time, double top, double height, double y_max,
                 bool percent, absl::string_view y_label) {
  std::string s;
  const double bottom = top + height;
  for (double v : Ticks(y_max, 4)) {
    const double y = bottom - height * v / y_max;
    absl::StrAppend(
        &s, "<line x1=\"", Num(kLeft), "\" y1=\"", Num(y), "\" x2=\"",
        Num(kLeft + kPlotWidth), "\" y2=\"", Num(y),
        "\" stroke=\"#dddddd\"/>\n<text x=\"", Num(kLeft - 6), "\" y=\"", Num(y + 4),
        "\" text-anchor=\"end\">",
        percent ? absl::StrFormat("%.0f%%", 100 * v) : absl::StrFormat("%g", v),
        "</text>\n");
  }
  for (double v : Ticks(time.hours / time.Unit(), 7)) {
    const double x = time.X(v * time.Unit());
    absl::StrAppend(&s, "<line x1=\"", Num(x), "\" y1=\"", Num(bottom), "\" x2=\"",
                    Num(x), "\" y2=\"", Num(bottom + 4),
                    "\" stroke=\"#333333\"/>\n<text x=\"", Num(x), "\" y=\"",
                    Num(bottom + 17), "\" text-anchor=\"middle\">",
                    absl::StrFormat("%g", v), "</text>\n");
  }
  absl::StrAppend(&s, "<rect x=\"", Num(kLeft), "\" y=\"", Num(top), "\" width=\"",
                  Num(kPlotWidth), "\" height=\"", Num(height),
                  "\" fill=\"none\" stroke=\"#333333\"/>\n");
  absl::StrAppend(&s, "<text x=\"", Num(kLeft + kPlotWidth / 2), "\" y=\"",
                  Num(bottom + 32), "\" text-anchor=\"middle\">", time.Label(),
                  "</text>\n");
  absl::StrAppend(&s, "<text transform=\"translate(16 ", Num(top + height / 2),
                  ") rotate(-90)\" text-anchor=\"middle\">", Escape(y_label),
                  "</text>\n");
  return s;
}

std::string Legend(const std::vector<std::string>& names, double top) {
  std::string s;
  const double x = kLeft + kPlotWidth + 16;
  for (size_t i = 0; i < names.size(); ++i) {
    const double y = top + 18 * static_cast<double>(i);
    absl::StrAppend(&s, "<rect x=\"", Num(x), "\" y=\"", Num(y),
                    "\" width=\"12\" "
                    "height=\"12\" fill=\"",
                    Color(i), "\"/>\n<text x=\"", Num(x + 18), "\" y=\"", Num(y + 10),
                    "\">", Escape(names[i]), "</text>\n");
  }
  return s;
}

}  // namespace

std::string WeightsChartSvg(const Scenario& scenario, const ReplicateOutcome& replicate) {
  constexpr double kPanel = 150;
  constexpr double kGap = 70;
  constexpr double kTop = 50;
  const size_t policies = replicate.policies.size();
  const double height = kTop + static_cast<double>(policies) * (kPanel + kGap);
  const TimeAxis time(absl::ToDoubleHours(scenario.horizon));
  std::string svg = Header(
      height, absl::StrCat(scenario.name, ": traffic weights over time (replicate 0)"));
  // In the engine's order (arms that join come last); churned arms are not
  // drawn.
  std::vector<std::string> arms;
  for (int a : EngineArmOrder(scenario)) arms.push_back(scenario.arms[a].id);
  absl::StrAppend(&svg, Legend(arms, kTop));
  for (size_t p = 0; p < policies; ++p) {
    const double top = kTop + static_cast<double>(p) * (kPanel + kGap);
    const double bottom = top + kPanel;
    const std::vector<EpochRecord>& epochs = replicate.policies[p].epochs;
    absl::StrAppend(&svg, "<text x=\"", Num(kLeft), "\" y=\"", Num(top - 8),
                    "\" font-weight=\"bold\">", Escape(scenario.policies[p].name),
                    "</text>\n");
    // Each arm is a band between the cumulative weights of the arms before
    // it and including it, held constant through each epoch.
    for (size_t a = 0; a < arms.size(); ++a) {
      std::string upper, lower;
      for (size_t e = 0; e < epochs.size(); ++e) {
        const double start = static_cast<double>(epochs[e].time_us) / kMicrosPerHour;
        const double end =
            e + 1 < epochs.size()
                ? static_cast<double>(epochs[e + 1].time_us) / kMicrosPerHour
                : time.hours;
        double below = 0;
        const std::vector<double>& w = epochs[e].weights;
        for (size_t b = 0; b < a && b < w.size(); ++b) below += w[b];
        const double above = below + (a < w.size() ? w[a] : 0.0);
        const double y_hi = bottom - kPanel * above;
        const double y_lo = bottom - kPanel * below;
        absl::StrAppend(&upper, Num(time.X(start)), ",", Num(y_hi), " ", Num(time.X(end)),
                        ",", Num(y_hi), " ");
        lower = absl::StrCat(Num(time.X(end)), ",", Num(y_lo), " ", Num(time.X(start)),
                             ",", Num(y_lo), " ", lower);
      }
      absl::StrAppend(&svg, "<polygon fill=\"", Color(a),
                      "\" fill-opacity=\"0.85\" "
                      "points=\"",
                      upper, lower, "\"/>\n");
    }
    absl::StrAppend(&svg, Axes(time, top, kPanel, 1.0, true, "traffic share"));
  }
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

std::string RegretChartSvg(const Scenario& scenario, const Summary& summary) {
  constexpr double kTop = 50;
  constexpr double kPlot = 320;
  const double height = kTop + kPlot + 60;
  const TimeAxis time(summary.horizon_hours);
  std::string svg =
      Header(height, absl::StrCat(scenario.name, ": mean cumulative regret over ",
                                  summary.replicates, " replicates"));
  double y_max = 0;
  std::vector<std::string> names;
  for (const PolicySummary& p : summary.policies) {
    names.push_back(p.name);
    for (double v : p.mean_regret_curve) y_max = std::max(y_max, v);
  }
  if (!(y_max > 0)) y_max = 1;
  const std::vector<double> ticks = Ticks(y_max, 4);
  y_max = std::max(y_max, ticks.back());
  absl::StrAppend(&svg, Axes(time, kTop, kPlot, y_max, false,
                             summary.binary ? "conversions lost" : "value lost"));
  const double bottom = kTop + kPlot;
  for (size_t p = 0; p < summary.policies.size(); ++p) {
    const std::vector<double>& curve = summary.policies[p].mean_regret_curve;
    std::string points = absl::StrCat(Num(time.X(0)), ",", Num(bottom));
    for (size_t j = 0; j < curve.size(); ++j) {
      const double h =
          time.hours * static_cast<double>(j + 1) / static_cast<double>(curve.size());
      absl::StrAppend(&points, " ", Num(time.X(h)), ",",
                      Num(bottom - kPlot * curve[j] / y_max));
    }
    absl::StrAppend(&svg, "<polyline fill=\"none\" stroke=\"", Color(p),
                    "\" stroke-width=\"2\" points=\"", points, "\"/>\n");
  }
  absl::StrAppend(&svg, Legend(names, kTop), "</svg>\n");
  return svg;
}

}  // namespace allot::sim
