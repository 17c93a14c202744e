//! A PostgreSQL server for the tests: the one in `DATABASE_URL`, or a throwaway cluster started
//! from the installed server binaries (installed first with apt-get when missing and possible),
//! run as an unprivileged user when we are root, and stopped and removed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::run;

pub struct Postgres {
    url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    run_as: Option<String>,
}

impl Postgres {
    pub fn from_env_or_start() -> Result<Self> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            eprintln!("xtask: using PostgreSQL at DATABASE_URL");
            return Ok(Self { url, cluster: None });
        }
        let bin = match find_server_binaries() {
            Some(bin) => bin,
            None => {
                install_server()?;
                find_server_binaries().context("PostgreSQL was installed but initdb is still not found")?
            }
        };
        let (cluster, url) = Cluster::start(bin)?;
        Ok(Self { url, cluster: Some(cluster) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            cluster.stop();
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or the directory of an `initdb` on PATH.
fn find_server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn install_server() -> Result<()> {
    const HOW: &str =
        "sudo apt-get install -y postgresql   (or set DATABASE_URL to a server where databases may be created)";
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        bail!("no PostgreSQL server binaries found; install them with:\n    {HOW}");
    }
    eprintln!("xtask: no PostgreSQL server binaries found; installing them with apt-get");
    let mut update = Command::new("apt-get");
    update.arg("update").env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "--no-install-recommends", "postgresql"]).env("DEBIAN_FRONTEND", "noninteractive");
    run(install).with_context(|| format!("could not install PostgreSQL; install it with:\n    {HOW}"))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Cluster {
    fn start(bin: PathBuf) -> Result<(Self, String)> {
        // PostgreSQL refuses to run as root: use its own system user, made by the Debian package.
        let run_as = is_root().then(|| "postgres".to_owned());
        let dir = std::env::temp_dir().join(format!("projects-xtask-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let cluster = Cluster { bin, dir, run_as };
        if let Some(user) = &cluster.run_as {
            let mut chown = Command::new("chown");
            chown.args(["-R", user]).arg(&cluster.dir);
            run(chown)?;
        }
        let data = cluster.dir.join("data");
        let mut initdb = cluster.command("initdb");
        initdb.args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "-D"]).arg(&data);
        run(initdb).context("initdb failed")?;

        let port = free_port()?;
        // Preloaded where the server has it, so that the bench can count statements per request.
        let preload = if stat_statements_installed(&cluster.bin) {
            " -c shared_preload_libraries=pg_stat_statements"
        } else {
            ""
        };
        // Durability is worthless for a cluster that lives as long as one test run.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300{preload}",
            cluster.dir.display()
        );
        let mut start = cluster.command("pg_ctl");
        start.args(["start", "-w", "-t", "60", "-o", &options, "-l"]).arg(cluster.dir.join("log")).arg("-D").arg(&data);
        if let Err(err) = run(start) {
            let log = std::fs::read_to_string(cluster.dir.join("log")).unwrap_or_default();
            cluster.stop();
            bail!("{err:#}\n{log}");
        }
        eprintln!("xtask: started a throwaway PostgreSQL on 127.0.0.1:{port}");
        Ok((cluster, format!("postgres://postgres@127.0.0.1:{port}/postgres")))
    }

    fn command(&self, program: &str) -> Command {
        let binary = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(binary);
                command
            }
            None => Command::new(binary),
        }
    }

    fn stop(self) {
        let mut stop = self.command("pg_ctl");
        stop.args(["stop", "-m", "immediate", "-w", "-D"]).arg(self.dir.join("data"));
        if let Err(err) = run(stop) {
            eprintln!("xtask: could not stop PostgreSQL: {err:#}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the server's contrib modules include `pg_stat_statements`.
fn stat_statements_installed(bin: &std::path::Path) -> bool {
    Command::new(bin.join("pg_config"))
        .arg("--sharedir")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .is_some_and(|share| std::path::Path::new(&share).join("extension/pg_stat_statements.control").exists())
}
