//! Project automation, the single entry point of CI (matklad's cargo-xtask pattern).
//!
//! - `cargo xtask test`: fmt check, clippy `-D warnings`, the OpenAPI drift check, every test with
//!   a PostgreSQL server (`DATABASE_URL`, or a throwaway cluster started and stopped here), then
//!   the conformance checks of the binary (`cargo xtask conformance`).
//! - `cargo xtask conformance`: `scripts/conformance.sh` on the debug binary: schemathesis over
//!   every operation, the docs page in headless Chromium, a generated client's smoke flow.
//! - `cargo xtask openapi [--check]`: regenerate `openapi/openapi.json` (or fail when it is stale).
//! - `cargo xtask bench`: in release mode, list latency in a 100,000-project org on SQLite and
//!   PostgreSQL, listings of a 100,000-entry workspace, and resident memory while a 1 GiB file is
//!   streamed in and out (see `tests/src/bin/bench.rs` for the knobs).
//! - `cargo xtask postgres`: start a throwaway cluster and keep it until Ctrl-C, for local work.

mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <test | conformance | openapi [--check] | bench | postgres>";
const OPENAPI_PATH: &str = "openapi/openapi.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test"] => test(),
        ["conformance"] => conformance(),
        ["openapi"] => openapi(false),
        ["openapi", "--check"] => openapi(true),
        ["postgres"] => hold_postgres(),
        ["bench"] => bench(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

pub(crate) fn run(mut command: Command) -> Result<()> {
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let status = command.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn test() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt).context("formatting differs: run `cargo fmt --all`")?;

    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(clippy)?;

    openapi(true)?;

    let postgres = postgres::Postgres::from_env_or_start()?;
    let mut tests = cargo();
    if nextest_available() {
        tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        tests.args(["test", "--workspace", "--no-fail-fast"]);
    }
    tests.env("DATABASE_URL", postgres.url());
    let result = run(tests).and_then(|()| conformance_with(&postgres));
    drop(postgres);
    result
}

fn conformance() -> Result<()> {
    let postgres = postgres::Postgres::from_env_or_start()?;
    let result = conformance_with(&postgres);
    drop(postgres);
    result
}

/// The binary against its own document, from outside, on SQLite and on PostgreSQL: see
/// `scripts/conformance.sh`.
fn conformance_with(postgres: &postgres::Postgres) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--package", "projects-server", "--bin", "server"]);
    run(build)?;
    let mut script = Command::new(root().join("scripts/conformance.sh"));
    script.arg(root().join("target/debug/server")).env("DATABASE_URL", postgres.url()).current_dir(root());
    run(script).context("conformance checks failed (artefacts in target/conformance/)")
}

fn nextest_available() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The document comes from the code (`server openapi`); the committed copy must match it.
fn openapi(check: bool) -> Result<()> {
    let output = cargo()
        .args(["run", "--quiet", "--package", "projects-server", "--bin", "server", "--", "openapi"])
        .output()
        .context("could not run `server openapi`")?;
    if !output.status.success() {
        bail!("`server openapi` failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    let path = root().join(OPENAPI_PATH);
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed == output.stdout {
        eprintln!("xtask: {OPENAPI_PATH} is up to date");
        return Ok(());
    }
    if check {
        bail!("{OPENAPI_PATH} is stale: run `cargo xtask openapi` and commit the result");
    }
    std::fs::write(&path, &output.stdout).with_context(|| format!("could not write {OPENAPI_PATH}"))?;
    eprintln!("xtask: wrote {OPENAPI_PATH}");
    Ok(())
}

fn bench() -> Result<()> {
    let postgres = postgres::Postgres::from_env_or_start()?;
    let mut bench = cargo();
    bench.args(["run", "--release", "--package", "projects-blackbox-tests", "--bin", "bench"]);
    bench.env("DATABASE_URL", postgres.url());
    let result = run(bench);
    drop(postgres);
    result
}

fn hold_postgres() -> Result<()> {
    let postgres = postgres::Postgres::from_env_or_start()?;
    println!("DATABASE_URL={}", postgres.url());
    eprintln!("xtask: PostgreSQL is up; press Enter to stop it");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(())
}
