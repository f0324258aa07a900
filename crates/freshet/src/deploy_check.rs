//! The files in `deploy/` stay valid: they parse, carry the essentials an operator relies on,
//! and name only settings this binary actually reads.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::CommandFactory;
use serde_yaml_ng::Value;

use crate::cli::Cli;

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy_dir().join(file)).expect("the deploy file exists");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("valid YAML"))
        .collect()
}

fn get<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
}

fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    get(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is a string"))
}

/// Every `FRESHET_*` variable the binary reads, from its own flag definitions.
fn known_settings() -> BTreeSet<String> {
    fn walk(command: &clap::Command, into: &mut BTreeSet<String>) {
        for arg in command.get_arguments() {
            if let Some(env) = arg.get_env() {
                into.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, into);
        }
    }
    let mut settings = BTreeSet::new();
    walk(&Cli::command(), &mut settings);
    settings
}

#[test]
fn every_kubernetes_manifest_has_its_essentials() {
    let mut kinds = BTreeSet::new();
    for file in [
        "configmap.yaml",
        "secret.yaml",
        "migrate-job.yaml",
        "api-deployment.yaml",
        "worker-deployment.yaml",
        "service.yaml",
    ] {
        for doc in documents(&format!("k8s/{file}")) {
            assert!(!text(&doc, "apiVersion").is_empty(), "{file}");
            assert!(!text(&doc, "metadata.name").is_empty(), "{file}");
            kinds.insert(text(&doc, "kind").to_owned());
        }
    }
    let expected: BTreeSet<String> = ["ConfigMap", "Secret", "Job", "Deployment", "Service"]
        .map(String::from)
        .into();
    assert_eq!(kinds, expected);

    let api = &documents("k8s/api-deployment.yaml")[0];
    let container = get(api, "spec.template.spec.containers.0");
    assert_eq!(text(container, "readinessProbe.httpGet.path"), "/readyz");
    assert_eq!(text(container, "livenessProbe.httpGet.path"), "/healthz");
    assert!(
        get(container, "resources.requests.memory")
            .as_str()
            .is_some()
    );
    let args: Vec<&str> = get(container, "args")
        .as_sequence()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(args, ["serve", "--role", "api"]);
    let selector = get(api, "spec.selector.matchLabels");
    assert_eq!(selector, get(api, "spec.template.metadata.labels"));

    let worker = &documents("k8s/worker-deployment.yaml")[0];
    let args = get(worker, "spec.template.spec.containers.0.args");
    assert_eq!(args[2].as_str(), Some("worker"));
    let job = &documents("k8s/migrate-job.yaml")[0];
    assert_eq!(
        get(job, "spec.template.spec.containers.0.args")[0].as_str(),
        Some("migrate")
    );
    let service = &documents("k8s/service.yaml")[0];
    assert_eq!(get(service, "spec.selector"), selector);
}

#[test]
fn deploy_files_name_only_settings_the_binary_reads() {
    let known = known_settings();
    let mut used = BTreeSet::new();
    for (file, path) in [
        ("k8s/configmap.yaml", "data"),
        ("k8s/secret.yaml", "stringData"),
        ("compose.yaml", "x-freshet.environment"),
    ] {
        let doc = &documents(file)[0];
        for key in get(doc, path).as_mapping().expect("a mapping").keys() {
            used.insert(key.as_str().expect("a name").to_owned());
        }
    }
    let unknown: Vec<_> = used.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "settings the binary does not read: {unknown:?}"
    );
    assert!(used.contains("FRESHET_DATABASE_URL"));
}

#[test]
fn the_compose_file_runs_the_whole_topology() {
    let compose = &documents("compose.yaml")[0];
    let services = get(compose, "services").as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for name in [
        "postgres", "migrate", "api-1", "api-2", "worker-1", "worker-2", "proxy", "mailpit",
    ] {
        assert!(names.contains(name), "compose lacks {name}");
    }
    let command = |service: &str| -> Vec<String> {
        get(compose, &format!("services.{service}.command"))
            .as_sequence()
            .expect("a command")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(command("migrate"), ["migrate"]);
    assert_eq!(command("api-1"), ["serve", "--role", "api"]);
    assert_eq!(command("worker-2"), ["serve", "--role", "worker"]);
}
