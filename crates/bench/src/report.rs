//! Figures: one sample per run for Freshet and for its baseline, summarised as median, min
//! and max, with latency percentiles, the ratio between the two, and the goal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies of one run, recorded in microseconds (1 µs to 10 minutes, 3 significant digits).
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    const MAX_MICROS: u64 = 600_000_000;

    pub fn new() -> Self {
        // Fixed, valid bounds: construction cannot fail.
        let histogram = Histogram::new_with_bounds(1, Self::MAX_MICROS, 3)
            .unwrap_or_else(|_| unreachable!("1 µs to 10 min with 3 digits is a valid histogram"));
        Self(histogram)
    }

    pub fn record(&mut self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.clamp(1, Self::MAX_MICROS));
    }

    pub fn merge(&mut self, other: &Self) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The latency at `quantile` (0.5, 0.99) in milliseconds; `None` without samples.
    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.value_at_quantile(quantile) as f64 / 1_000.0)
    }
}

/// One run's figure: a throughput (or a time), and the latencies behind it if any.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub value: f64,
    pub latencies: Option<Latencies>,
    /// Secondary numbers of the run (events per command, retries, RSS, ...).
    pub extra: BTreeMap<&'static str, f64>,
}

impl Sample {
    pub fn new(value: f64) -> Self {
        Self {
            value,
            ..Self::default()
        }
    }

    pub fn rate(count: u64, elapsed: Duration) -> Self {
        Self::new(count as f64 / elapsed.as_secs_f64().max(1e-9))
    }

    pub fn with_latencies(mut self, latencies: Latencies) -> Self {
        self.latencies = Some(latencies);
        self
    }

    pub fn with(mut self, name: &'static str, value: f64) -> Self {
        self.extra.insert(name, value);
        self
    }
}

/// Whether bigger is better (throughput) or smaller (a duration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// One condition of a goal.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Freshet's median is at most this.
    AtMost(f64),
    /// Freshet reaches at least this share of the baseline (see [`Summary::ratio`]).
    RatioAtLeast(f64),
    /// Freshet's p99 latency (median over runs) is below this many milliseconds.
    P99Below(f64),
}

#[derive(Debug, Clone)]
pub struct Goal {
    pub text: &'static str,
    pub checks: Vec<Check>,
}

impl Goal {
    pub fn new(text: &'static str, checks: Vec<Check>) -> Self {
        Self { text, checks }
    }
}

/// A figure as measured: every run of Freshet and of the baseline.
#[derive(Debug, Clone)]
pub struct Figure {
    pub scenario: &'static str,
    pub name: String,
    pub backend: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub freshet: Vec<Sample>,
    /// The baseline's name and its runs.
    pub baseline: Option<(String, Vec<Sample>)>,
    pub goal: Option<Goal>,
}

impl Figure {
    pub fn new(
        scenario: &'static str,
        name: impl Into<String>,
        backend: &'static str,
        unit: &'static str,
    ) -> Self {
        Self {
            scenario,
            name: name.into(),
            backend,
            unit,
            better: Better::Higher,
            freshet: Vec::new(),
            baseline: None,
            goal: None,
        }
    }

    pub fn lower_is_better(mut self) -> Self {
        self.better = Better::Lower;
        self
    }

    pub fn baseline(mut self, name: impl Into<String>) -> Self {
        self.baseline = Some((name.into(), Vec::new()));
        self
    }

    pub fn goal(mut self, goal: Goal) -> Self {
        self.goal = Some(goal);
        self
    }

    pub fn push_freshet(&mut self, sample: Sample) {
        self.freshet.push(sample);
    }

    pub fn push_baseline(&mut self, sample: Sample) {
        if let Some((_, samples)) = &mut self.baseline {
            samples.push(sample);
        }
    }
}

/// Median, min and max over runs, with latency percentiles (median of the runs' p50 and p99).
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<&'static str, f64>,
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

impl Stats {
    pub fn of(samples: &[Sample]) -> Option<Self> {
        let runs: Vec<f64> = samples.iter().map(|s| s.value).collect();
        let quantile = |q: f64| {
            let per_run: Vec<f64> = samples
                .iter()
                .filter_map(|s| s.latencies.as_ref()?.quantile_ms(q))
                .collect();
            median(&per_run)
        };
        let mut names: Vec<&'static str> = samples
            .iter()
            .flat_map(|s| s.extra.keys().copied())
            .collect();
        names.sort_unstable();
        names.dedup();
        let extra = names
            .into_iter()
            .filter_map(|name| {
                let values: Vec<f64> = samples
                    .iter()
                    .filter_map(|s| s.extra.get(name).copied())
                    .collect();
                Some((name, median(&values)?))
            })
            .collect();
        Some(Self {
            median: median(&runs)?,
            min: runs.iter().copied().fold(f64::INFINITY, f64::min),
            max: runs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            runs,
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            extra,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineStats {
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// A figure summarised: what one JSON line holds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: &'static str,
    pub figure: String,
    pub backend: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub freshet: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineStats>,
    /// Share of the baseline Freshet reaches: Freshet / baseline for throughputs,
    /// baseline / Freshet for durations. 1.0 means "as fast as the physical limit".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal_met: Option<bool>,
}

impl Summary {
    pub fn of(figure: &Figure) -> Self {
        let freshet = Stats::of(&figure.freshet);
        let baseline = figure.baseline.as_ref().and_then(|(name, samples)| {
            Some(BaselineStats {
                name: name.clone(),
                stats: Stats::of(samples)?,
            })
        });
        let ratio = match (&freshet, &baseline) {
            (Some(f), Some(b)) if f.median > 0.0 && b.stats.median > 0.0 => {
                Some(match figure.better {
                    Better::Higher => f.median / b.stats.median,
                    Better::Lower => b.stats.median / f.median,
                })
            }
            _ => None,
        };
        let goal_met = figure.goal.as_ref().map(|goal| {
            let Some(f) = &freshet else {
                return false;
            };
            goal.checks.iter().all(|check| match *check {
                Check::AtMost(max) => f.median <= max,
                Check::RatioAtLeast(min) => ratio.is_some_and(|r| r >= min),
                Check::P99Below(ms) => f.p99_ms.is_some_and(|p| p < ms),
            })
        });
        Self {
            scenario: figure.scenario,
            figure: figure.name.clone(),
            backend: figure.backend,
            unit: figure.unit,
            better: figure.better,
            freshet,
            baseline,
            ratio,
            goal: figure.goal.as_ref().map(|g| g.text),
            goal_met,
        }
    }
}

/// Collects the summaries, printing each as one JSON line on stdout as it completes.
#[derive(Debug, Default)]
pub struct Report {
    pub summaries: Vec<Summary>,
}

impl Report {
    pub fn add(&mut self, figure: &Figure) {
        let summary = Summary::of(figure);
        match serde_json::to_string(&summary) {
            Ok(line) => println!("{line}"),
            Err(error) => eprintln!("cannot print figure {}: {error}", summary.figure),
        }
        self.summaries.push(summary);
    }

    /// The readable table (Markdown, so it can go into BENCHMARKS.md as it is).
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "| scenario | figure | backend | Freshet median (min–max) | p50 / p99 ms | \
             baseline | baseline median (min–max) | p50 / p99 ms | ratio | goal | met |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for s in &self.summaries {
            let (fv, fl) = cells(s.freshet.as_ref(), s.unit);
            let (bname, bv, bl) = match &s.baseline {
                Some(b) => {
                    let (v, l) = cells(Some(&b.stats), s.unit);
                    (b.name.clone(), v, l)
                }
                None => ("–".to_owned(), "–".to_owned(), "–".to_owned()),
            };
            let ratio = s
                .ratio
                .map_or_else(|| "–".to_owned(), |r| format!("{:.0}%", r * 100.0));
            let met = match s.goal_met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                s.scenario,
                s.figure,
                s.backend,
                fv,
                fl,
                bname,
                bv,
                bl,
                ratio,
                s.goal.unwrap_or("–"),
                met
            );
        }
        out
    }
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        let rounded = value.round() as i64;
        let digits = rounded.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if rounded < 0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

fn cells(stats: Option<&Stats>, unit: &str) -> (String, String) {
    let Some(s) = stats else {
        return ("–".to_owned(), "–".to_owned());
    };
    let value = format!(
        "{} {unit} ({}–{})",
        number(s.median),
        number(s.min),
        number(s.max)
    );
    let latency = match (s.p50_ms, s.p99_ms) {
        (Some(p50), Some(p99)) => format!("{p50:.2} / {p99:.2}"),
        _ => "–".to_owned(),
    };
    (value, latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn the_ratio_is_the_share_of_the_limit_for_throughputs_and_durations() {
        let mut fast = Figure::new("s", "f", "postgres", "ops/s").baseline("b");
        fast.push_freshet(Sample::new(75.0));
        fast.push_baseline(Sample::new(100.0));
        assert_eq!(Summary::of(&fast).ratio, Some(0.75));

        let mut slow = Figure::new("s", "f", "postgres", "s")
            .lower_is_better()
            .baseline("b");
        slow.push_freshet(Sample::new(2.0));
        slow.push_baseline(Sample::new(1.0));
        assert_eq!(Summary::of(&slow).ratio, Some(0.5));
    }

    #[test]
    fn a_goal_is_met_only_when_every_check_holds() {
        let mut latencies = Latencies::new();
        for ms in 1..=100 {
            latencies.record(Duration::from_millis(ms));
        }
        let mut figure = Figure::new("s", "f", "postgres", "ops/s")
            .baseline("b")
            .goal(Goal::new(
                "≥ 75% and p99 < 5 ms",
                vec![Check::RatioAtLeast(0.75), Check::P99Below(5.0)],
            ));
        figure.push_freshet(Sample::new(80.0).with_latencies(latencies));
        figure.push_baseline(Sample::new(100.0));
        let summary = Summary::of(&figure);
        assert_eq!(summary.goal_met, Some(false));
        assert!(
            summary
                .freshet
                .and_then(|f| f.p99_ms)
                .is_some_and(|p| p > 90.0)
        );
    }

    #[test]
    fn large_numbers_are_grouped_by_thousands() {
        assert_eq!(number(1_234_567.4), "1,234,567");
        assert_eq!(number(123.0), "123");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(0.5), "0.500");
    }
}
