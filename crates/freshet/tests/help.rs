//! `--help` shows each flag's environment value; secrets must not be among them (issue 14).
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn help_never_prints_the_database_password_or_the_smtp_password() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["users", "add", "--help"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_freshet"))
            .args(args)
            .env(
                "FRESHET_DATABASE_URL",
                "postgres://freshet:hunter2@db.internal/freshet",
            )
            .env("FRESHET_SMTP_PASSWORD", "swordfish")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("FRESHET_DATABASE_URL"), "{args:?}: {help}");
        for secret in ["hunter2", "swordfish"] {
            assert!(!help.contains(secret), "{args:?} shows {secret}: {help}");
        }
    }
}
