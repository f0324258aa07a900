//! Closed-loop load: N clients, each sending its next operation when the last one answered,
//! until a deadline or a total count, whichever comes first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::report::Latencies;

/// Every load loop stops at whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub duration: Duration,
    pub max_ops: u64,
}

/// What a load run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

impl Outcome {
    /// Its throughput, failures and latencies, as a report's sample.
    pub fn into_sample(self) -> crate::report::Sample {
        crate::report::Sample::new(self.per_second())
            .with("failed", self.errors as f64)
            .with_latencies(self.latencies)
    }
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `op(client, sequence)` from `clients` concurrent tasks. Only successful operations
/// count towards the throughput and the latencies.
pub async fn closed_loop<F, Fut, E>(clients: usize, limits: Limits, op: F) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    let op = Arc::new(op);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + limits.duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let op = Arc::clone(&op);
        let issued = Arc::clone(&issued);
        tasks.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let sequence = issued.fetch_add(1, Ordering::Relaxed);
                if sequence >= limits.max_ops || Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match op(client, sequence).await {
                    Ok(()) => {
                        outcome.ops += 1;
                        outcome.latencies.record(sent.elapsed());
                    }
                    Err(error) => {
                        outcome.errors += 1;
                        if outcome.first_error.is_none() {
                            outcome.first_error = Some(error.to_string());
                        }
                    }
                }
            }
            outcome
        }));
    }
    let mut total = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(outcome) => {
                total.ops += outcome.ops;
                total.errors += outcome.errors;
                total.first_error = total.first_error.or(outcome.first_error);
                total.latencies.merge(&outcome.latencies);
            }
            Err(error) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    total.elapsed = started.elapsed();
    if let Some(error) = &total.first_error {
        eprintln!("  {} operations failed; first: {error}", total.errors);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_load_stops_at_its_count() {
        let limits = Limits {
            duration: Duration::from_secs(10),
            max_ops: 100,
        };
        let outcome = closed_loop(4, limits, |_, _| async { Ok::<(), String>(()) }).await;
        assert_eq!(outcome.ops, 100);
        assert_eq!(outcome.latencies.count(), 100);
    }

    #[tokio::test]
    async fn a_load_stops_at_its_deadline_and_counts_failures_apart() {
        let limits = Limits {
            duration: Duration::from_millis(50),
            max_ops: u64::MAX,
        };
        let outcome = closed_loop(2, limits, |_, n| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if n % 2 == 0 { Ok(()) } else { Err("odd") }
        })
        .await;
        assert!(outcome.ops > 0 && outcome.errors > 0);
        assert!(outcome.elapsed < Duration::from_secs(1));
    }
}
