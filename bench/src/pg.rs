//! PostgreSQL for the benchmarks: the server named by `HERD_BENCH_PG_URL`
//! (an admin URL), else a throwaway one started like `scripts/test.sh`
//! does. Every run gets a fresh database, dropped afterwards.

use std::error::Error;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

pub struct Postgres {
    admin_url: String,
    /// Stopped when the benchmarks end.
    _server: Option<Throwaway>,
}

impl Postgres {
    /// Where the URL came from goes to stderr, so the JSON lines on stdout
    /// stay comparable whichever server ran them.
    pub fn find() -> Result<Self, String> {
        if let Ok(url) = std::env::var("HERD_BENCH_PG_URL") {
            eprintln!("PostgreSQL: HERD_BENCH_PG_URL");
            return Ok(Self {
                admin_url: url,
                _server: None,
            });
        }
        let server = Throwaway::start().map_err(|e| {
            format!("HERD_BENCH_PG_URL is unset and no throwaway PostgreSQL could start: {e}")
        })?;
        eprintln!("PostgreSQL: throwaway server on {}", server.admin_url);
        Ok(Self {
            admin_url: server.admin_url.clone(),
            _server: Some(server),
        })
    }

    pub fn fresh_database(&self) -> Result<PgDatabase, Box<dyn Error>> {
        let name = format!("herd_bench_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::establish(&self.admin_url)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let base = self
            .admin_url
            .split('?')
            .next()
            .and_then(|u| u.rsplit_once('/'))
            .map_or(self.admin_url.as_str(), |(base, _)| base);
        Ok(PgDatabase {
            url: format!("{base}/{name}"),
            name,
            admin_url: self.admin_url.clone(),
        })
    }
}

pub struct PgDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // FORCE: a server process or connection pool may still hold it.
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut c)
                .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!("could not drop benchmark database {}: {e}", self.name);
        }
    }
}

struct Throwaway {
    admin_url: String,
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Throwaway {
    fn start() -> Result<Self, Box<dyn Error>> {
        let bin = pg_bin_dir().ok_or("no /usr/lib/postgresql/*/bin with initdb and pg_ctl")?;
        let dir = tempfile::Builder::new()
            .prefix("herd-bench-pg-")
            .tempdir()?;
        let data = dir.path().join("data");
        let root = is_root()?;
        if root {
            // initdb refuses to run as root; the postgres user must reach the directory.
            run(Command::new("chmod").arg("755").arg(dir.path()))?;
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))?;
        }
        let as_pg = |program: &Path| {
            if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        run(as_pg(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]))?;
        let port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -F -c max_connections=200",
            dir.path().display()
        );
        run(as_pg(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "-t", "30", "-o", &options, "start"]))?;
        let server = Self {
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            data,
            _dir: dir,
        };
        server.wait_until_ready()?;
        Ok(server)
    }

    fn wait_until_ready(&self) -> Result<(), Box<dyn Error>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match PgConnection::establish(&self.admin_url) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e.into()),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let mut stop = if is_root().unwrap_or(false) {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "-t", "20", "stop"]);
        if let Err(e) = run(&mut stop) {
            eprintln!("could not stop the throwaway PostgreSQL: {e}");
        }
    }
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> Result<bool, Box<dyn Error>> {
    let out = Command::new("id").arg("-u").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn run(cmd: &mut Command) -> Result<(), Box<dyn Error>> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{:?} exited with {}: {}",
        cmd.get_program(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    )
    .into())
}
