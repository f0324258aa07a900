//! The real `freshet` binary as child processes: started with a clean `FRESHET_*`
//! environment, logging to files, and killed (SIGKILL) and reaped when dropped, also when
//! the test panics, in which case the end of every log is printed.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `freshet` binary of this build: `target/<profile>/freshet`, beside the `deps` folder
/// this test runs from, or `FRESHET_BIN`. `cargo test --workspace` (the README's command)
/// builds it, since the `freshet` package has integration tests of its own; alone, run
/// `cargo build -p freshet` first.
pub fn freshet_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("FRESHET_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = profile.join(format!("freshet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p freshet` (or `cargo test --workspace`)",
        bin.display()
    );
    bin
}

/// One running process.
#[derive(Debug)]
pub struct Proc {
    pub log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    /// SIGKILL (what `Child::kill` sends on Unix), then reap. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (what an orchestrator sends to stop a process gracefully).
    pub fn terminate(&mut self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }

    /// Waits up to `limit` for the process to end by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process ended by itself (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every process a test started, by name.
#[derive(Debug)]
pub struct Fleet {
    bin: PathBuf,
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    procs: BTreeMap<String, Proc>,
    logs: Vec<PathBuf>,
}

impl Fleet {
    /// `env` is given to every process (on top of the parent's environment without its
    /// `FRESHET_*` variables).
    pub fn new(bin: impl Into<PathBuf>, env: &[(&str, String)]) -> Self {
        Self {
            bin: bin.into(),
            dir: tempfile::tempdir().expect("a temporary directory for the logs"),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            procs: BTreeMap::new(),
            logs: Vec::new(),
        }
    }

    fn command(&mut self, name: &str, args: &[&str], env: &[(&str, String)]) -> (Command, PathBuf) {
        let log = self
            .dir
            .path()
            .join(format!("{name}-{}.log", self.logs.len()));
        self.logs.push(log.clone());
        let out = File::create(&log).expect("create a log file");
        let err = out.try_clone().expect("clone the log file");
        let mut command = Command::new(&self.bin);
        for (key, _) in std::env::vars() {
            if key.starts_with("FRESHET_") {
                command.env_remove(key);
            }
        }
        command
            .args(args)
            // Each process serves its metrics on a port of its own, so processes and tests
            // running side by side never contend for the default one.
            .env("FRESHET_METRICS_LISTEN", "127.0.0.1:0")
            .envs(&self.env)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        (command, log)
    }

    /// Starts a long-running process under `name` (replacing, after killing, one of the same
    /// name).
    pub fn spawn(&mut self, name: &str, args: &[&str], env: &[(&str, String)]) {
        if let Some(mut old) = self.procs.remove(name) {
            old.kill();
        }
        let (mut command, log) = self.command(name, args, env);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.procs.insert(
            name.to_owned(),
            Proc {
                log,
                child: Some(child),
            },
        );
    }

    pub fn get(&mut self, name: &str) -> &mut Proc {
        self.procs
            .get_mut(name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Runs a one-shot command to its end (killed after `timeout`); its output, or a panic
    /// with the output if it failed.
    pub fn run(&mut self, name: &str, args: &[&str], timeout: Duration) -> String {
        let (mut command, log) = self.command(name, args, &[]);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll a child") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`freshet {}` did not finish within {timeout:?}:\n{}",
                    args.join(" "),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            status.success(),
            "`freshet {}` failed ({status}):\n{output}",
            args.join(" ")
        );
        output
    }

    /// Kills every process (reaped before this returns).
    pub fn stop_all(&mut self) {
        for proc in self.procs.values_mut() {
            proc.kill();
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop_all();
        if std::thread::panicking() {
            for log in &self.logs {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                eprintln!("----- {} (last 40 lines)\n{tail}", log.display());
            }
        }
    }
}

/// A loopback address with a port that was free a moment ago.
pub fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").to_string()
}

/// Waits until `name` answers `/healthz` on `base`; panics with its log if it exits first
/// or is not healthy within a minute.
pub async fn wait_healthy(fleet: &mut Fleet, name: &str, base: &str) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("an HTTP client");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http.get(format!("{base}/healthz")).send().await
            && response.status().is_success()
        {
            return;
        }
        let proc = fleet.get(name);
        if let Some(status) = proc.exited() {
            panic!("{name} exited ({status}):\n{}", proc.log_text());
        }
        assert!(Instant::now() < deadline, "{name} not healthy after 60s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
