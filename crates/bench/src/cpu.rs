//! CPU time of this process, to tell whether a figure is bound by Freshet's own code (the
//! client side) or by the database server.

use std::time::Duration;

/// User plus system CPU time this process used so far (Linux `/proc/self/stat`).
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // The kernel reports clock ticks; Linux uses 100 per second on every common platform.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Measures the share of one core this process used between `start` and now.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    cpu: Option<Duration>,
    wall: std::time::Instant,
}

impl CpuMeter {
    pub fn start() -> Self {
        Self {
            cpu: process_cpu(),
            wall: std::time::Instant::now(),
        }
    }

    /// Cores' worth of CPU this process used (1.0 = one core busy all along).
    pub fn cores(&self) -> f64 {
        match (self.cpu, process_cpu()) {
            (Some(before), Some(after)) => {
                after.saturating_sub(before).as_secs_f64()
                    / self.wall.elapsed().as_secs_f64().max(1e-9)
            }
            _ => f64::NAN,
        }
    }
}

/// Peak and current resident memory of a process, in MiB (`VmHWM`, `VmRSS`).
pub fn memory_mib(pid: &str) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<f64>()
            .ok()
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reports_its_cpu_and_memory() {
        assert!(process_cpu().is_some());
        let (peak, now) = memory_mib("self").unwrap_or_default();
        assert!(peak >= now && now > 0.0);
    }
}
