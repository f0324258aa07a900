//! The automated accessibility check: axe-core, run in the page shown, reporting every
//! violation of impact `serious` or `critical`.
//!
//! axe-core comes from npm (`.ci/axe`, installed by `.ci/browser.sh`, or
//! `npm ci --prefix .ci/axe` by hand); `FRESHET_AXE_JS` names another `axe.min.js`.
//! It is injected through WebDriver's Execute Script, which the pages' Content-Security-Policy
//! (`default-src 'self'`, no inline scripts) does not govern.

use serde_json::Value;

use crate::chrome::{Page, required, workspace};

/// axe-core's source, or `None` (skip, with a notice) when it is not installed outside CI.
pub fn source() -> Option<String> {
    let file = required(
        "axe-core",
        "FRESHET_AXE_JS",
        workspace().join(".ci/axe/node_modules/axe-core/axe.min.js"),
    )?;
    Some(std::fs::read_to_string(file).expect("read axe.min.js"))
}

/// The serious and critical violations on the page shown, one line each (rule, impact,
/// what to fix, the elements at fault), prefixed with `name`.
pub async fn violations(page: &Page, axe: &str, name: &str) -> Vec<String> {
    // Execute Script runs its source as a function body: axe-core's top-level `var axe`
    // would stay local, so it is handed to the window explicitly.
    page.client
        .execute(&format!("{axe}\n;window.axe = axe;"), Vec::new())
        .await
        .unwrap_or_else(|e| panic!("inject axe-core into {name}: {e}"));
    let run = "const done = arguments[arguments.length - 1];\
               window.axe.run(document, { resultTypes: ['violations'] })\
                 .then(r => done(r.violations), e => done(String(e)));";
    let answer = page
        .client
        .execute_async(run, Vec::new())
        .await
        .unwrap_or_else(|e| panic!("run axe-core on {name}: {e}"));
    let Value::Array(found) = answer else {
        panic!("axe-core failed on {name}: {answer}")
    };
    found
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let targets: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|node| node["target"].to_string())
                .collect();
            format!(
                "{name}: {} ({}): {} at {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                targets.join(", ")
            )
        })
        .collect()
}
