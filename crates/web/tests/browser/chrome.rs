//! Headless Chromium, driven over WebDriver by its own chromedriver on a free port: what a
//! test does in it is what a person does (open a page, type, click, read what is shown).
//!
//! Without Chromium or chromedriver the test is skipped with a notice, unless `CI=true`,
//! where that is a failure (`.ci/browser.sh` installs them). A test whose steps panic
//! leaves a screenshot of the page it was on in `target/browser-screenshots/`.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A file a browser test needs: `variable` names it, else `default`; `None` (the test is
/// skipped, with a notice) if it is missing outside CI.
///
/// # Panics
/// If it is missing while `CI=true`: browser tests cannot be skipped in CI.
pub fn required(what: &str, variable: &str, default: PathBuf) -> Option<PathBuf> {
    let path = std::env::var_os(variable).map_or(default, PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!(
            "{what} is missing at {} (set {variable}): browser tests cannot be skipped in CI",
            path.display()
        );
    }
    // Straight to stderr, past the test harness's output capture, so it is seen.
    let _ = writeln!(
        std::io::stderr(),
        "note: {what} is missing at {} (set {variable}); skipping a browser test",
        path.display()
    );
    None
}

/// The workspace's root: screenshots and `.ci/` are found from it.
pub fn workspace() -> PathBuf {
    let web = Path::new(env!("CARGO_MANIFEST_DIR"));
    web.ancestors()
        .nth(2)
        .expect("crates/web is two levels down")
        .to_owned()
}

/// A chromedriver process, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser's window on the app at `base`.
#[derive(Clone)]
pub struct Page {
    pub client: Client,
    base: String,
}

/// Runs `steps` in a fresh headless Chromium on the app at `base`; skipped (with a notice)
/// when Chromium or chromedriver is missing outside CI. `name` names the screenshot saved
/// when a step fails.
pub async fn in_browser<F, Fut>(base: &str, name: &str, steps: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(chromium) = required(
        "Chromium",
        "FRESHET_CHROMIUM",
        PathBuf::from("/usr/bin/chromium"),
    ) else {
        return;
    };
    let Some(chromedriver) = required(
        "chromedriver",
        "FRESHET_CHROMEDRIVER",
        PathBuf::from("/usr/bin/chromedriver"),
    ) else {
        return;
    };
    let port = free_port();
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let client = session(port, &chromium).await;
    let page = Page {
        client,
        base: base.to_owned(),
    };
    // The steps run as their own task so that a failing one can be caught, photographed,
    // and failed again with its own message.
    let outcome = tokio::spawn(steps(page.clone())).await;
    if let Err(failure) = outcome {
        let file = workspace()
            .join("target/browser-screenshots")
            .join(format!("{name}.png"));
        page.save_screenshot(&file).await;
        let _ = writeln!(
            std::io::stderr(),
            "browser test {name} failed on {}; screenshot: {}",
            page.client
                .current_url()
                .await
                .map_or_else(|e| e.to_string(), |u| u.to_string()),
            file.display()
        );
        let _ = page.client.close().await;
        drop(driver);
        match failure.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(failure) => panic!("the browser steps did not finish: {failure}"),
        }
    }
    page.client.close().await.expect("end the browser session");
    drop(driver);
}

/// A WebDriver session with headless Chromium, once chromedriver listens on `port`.
async fn session(port: u16, chromium: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object")
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut attempts = 0;
    loop {
        let connected = ClientBuilder::rustls()
            .expect("a WebDriver client")
            .capabilities(capabilities.clone())
            .connect(&url)
            .await;
        match connected {
            Ok(client) => return client,
            // chromedriver takes a moment to listen.
            Err(_) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("no browser session from chromedriver on {url}: {error}"),
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl Page {
    /// Opens `path` of the app, as typed into the address bar.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .expect("the current address");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The first element matching `css`.
    async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("no {css} on {}: {error}", self.path().await),
        }
    }

    /// The text shown by the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// The texts shown by every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.expect("find") {
            texts.push(element.text().await.expect("an element's text"));
        }
        texts
    }

    /// The value of the form field matching `css`, as shown.
    pub async fn value(&self, css: &str) -> String {
        let field = self.find(css).await;
        field
            .prop("value")
            .await
            .expect("its value")
            .unwrap_or_default()
    }

    /// Types `text` into the (emptied) field matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("empty the field");
        field.send_keys(text).await.expect("type");
    }

    /// Clicks the element matching `css` and waits for the page it leads to (a link or a
    /// form's button: every click on these pages leads to a page).
    pub async fn click(&self, css: &str) {
        // A mark on the page shown: gone once the next page has replaced it, even when the
        // next one has the same address (a form shown again with its problem).
        self.client
            .execute("window.freshetLeft = true;", Vec::new())
            .await
            .expect("mark the page");
        self.find(css).await.click().await.expect("click");
        let arrived = "return window.freshetLeft !== true && document.readyState === 'complete';";
        for _ in 0..200 {
            if self.client.execute(arrived, Vec::new()).await.ok() == Some(json!(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "clicking {css} led to no new page from {}",
            self.path().await
        );
    }

    /// Reloads the page until the element matching `css` shows text containing `expected`
    /// (the read models follow the log a moment after a command).
    pub async fn reload_until(&self, css: &str, expected: &str) {
        for _ in 0..100 {
            if self.texts(css).await.iter().any(|t| t.contains(expected)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.client.refresh().await.expect("reload");
        }
        panic!(
            "{css} never showed {expected:?} on {}: {:?}",
            self.path().await,
            self.texts(css).await
        );
    }

    /// Saves a PNG of what the window shows to `file`.
    pub async fn save_screenshot(&self, file: &Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).expect("the screenshots' folder");
        }
        std::fs::write(file, png).expect("write the screenshot");
    }
}

impl Page {
    /// Chooses the option with `value` in the `<select>` matching `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .expect("choose an option");
    }

    /// Whether an element matches `css` on the page shown.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }
}

impl Page {
    /// Waits, without reloading, until the element matching `css` shows text containing
    /// `expected` (the page's own live updates bring it).
    pub async fn wait_for(&self, css: &str, expected: &str) {
        for _ in 0..100 {
            if self.texts(css).await.iter().any(|t| t.contains(expected)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css} never showed {expected:?} on {} without a reload: {:?}",
            self.path().await,
            self.texts(css).await
        );
    }
}
