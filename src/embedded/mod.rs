//! The private throwaway PostgreSQL (DESIGN §4). The product's default target and the test
//! suite's clusters come from this one piece of code.
//!
//! Why it looks the way it does:
//! - initdb refuses to run as root, so as root the data directory is chowned to the `postgres`
//!   system user and `initdb`/`postgres` run with its uid/gid (no sudo on these machines).
//! - The server listens on a Unix socket inside its own directory only, so there is no TCP port
//!   to collide on and parallel tests never meet. Servers that must reach each other (Citus
//!   nodes, `crate::citus`) also get a free 127.0.0.1 port ([`ClusterOptions::tcp_port`]).
//! - The directory goes on `/dev/shm` when it has room for the expected database and leaves
//!   RAM to spare, else on the first disk folder with room ([`placement`]): creating the
//!   ~1000 files of a data directory costs ~0.9 ms each on the disk here.
//! - Nothing is left behind: `Drop` stops the server and removes the directory; Ctrl-C goes
//!   through [`cleanup_all`]; if pgperf is SIGKILLed the server gets SIGQUIT from the kernel
//!   (`PR_SET_PDEATHSIG`) and a small watchdog process removes the directory.

mod binaries;
mod clock;
pub mod placement;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use binaries::find_bin_dir;

/// Unix socket paths are limited to 107 bytes (`sun_path`).
const MAX_SOCKET_PATH: usize = 107;
const PORT: u16 = 5432;
const SUPERUSER: &str = "postgres";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the embedded cluster could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked in {searched}); install them with `apt-get install -y postgresql-15`, or point PGPERF_PG_BIN at the folder that holds initdb and postgres"
    )]
    BinariesNotFound { searched: String },
    #[error(
        "pgperf runs as root but there is no `postgres` system user to run the server as (initdb refuses root); create it with `useradd --system postgres`, or run pgperf as a normal user"
    )]
    NoPostgresUser,
    #[error("could not prepare the cluster directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the cluster directory {path} is too long for a Unix socket (limit 107 bytes); set TMPDIR to a shorter folder"
    )]
    SocketPathTooLong { path: PathBuf },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("initdb failed ({status}):\n{output}")]
    Initdb { status: String, output: String },
    #[error("the server exited during start-up ({status}); its log ends with:\n{log_tail}")]
    StartFailed { status: String, log_tail: String },
    #[error(
        "the server did not accept connections within {secs} s; its log ends with:\n{log_tail}"
    )]
    StartTimeout { secs: u64, log_tail: String },
    #[error(
        "--clock needs libfaketime to run the server with a pinned clock, and it was not found; install it with `apt-get install -y libfaketime`, or point PGPERF_LIBFAKETIME at libfaketime.so.1"
    )]
    FaketimeNotFound,
    #[error(
        "the server's clock reads {server_now}, not the pinned {clock}: libfaketime was not loaded into it; check that {library} is libfaketime for this machine's architecture, or run without --clock"
    )]
    ClockNotPinned {
        clock: chrono::DateTime<chrono::Utc>,
        server_now: chrono::DateTime<chrono::Utc>,
        library: String,
    },
    #[error(
        "no folder has room for the embedded cluster: it needs about {} and {}; free some space, set PGPERF_TMPDIR to a folder with room, or lower --scale",
        placement::gib(.0.needed_bytes),
        .0.describe_candidates()
    )]
    NoRoom(placement::NoRoom),
    #[error("setting up the embedded cluster failed: {}", crate::pg::describe(.0))]
    Setup(#[from] postgres::Error),
}

/// How to start a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Folder holding `initdb` and `postgres`; found automatically when `None`.
    pub bin_dir: Option<PathBuf>,
    /// Folder to create the cluster directory in; when `None`, the first of `/dev/shm`, the
    /// temp dir and the working directory with room for [`Self::expected_bytes`] (or
    /// `$PGPERF_TMPDIR` if set), see [`placement`].
    pub parent_dir: Option<PathBuf>,
    /// Bytes the data directory is expected to grow to (a seeded database's estimate); 0 for
    /// a small one.
    pub expected_bytes: u64,
    /// Keep the server running and the directory on disk when the [`Cluster`] is dropped.
    pub keep: bool,
    /// Extra `postgresql.conf` settings, applied after pgperf's own (so they win).
    pub settings: Vec<(String, String)>,
    /// Start the server's wall clock at this instant (libfaketime) instead of the real time.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    /// Libraries preloaded before `pg_stat_statements` (Citus must come first).
    pub preload_libraries: Vec<String>,
    /// Also listen on 127.0.0.1 at this port, for servers that must reach each other (Citus
    /// nodes connect over TCP); the Unix socket stays. `None`: socket only.
    pub tcp_port: Option<u16>,
}

/// A running private PostgreSQL server. Dropping it stops the server and deletes its directory
/// (unless [`ClusterOptions::keep`]).
pub struct Cluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    server: Option<Child>,
    watchdog: Option<Child>,
    keep: bool,
    hypopg: bool,
    startup: Duration,
    port: u16,
}

/// Clusters alive in this process, for [`cleanup_all`] on a signal: (server pid, directory).
static LIVE: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

impl Cluster {
    /// initdb into a new temporary directory, start the server, wait until it accepts
    /// connections, and create `pg_stat_statements` (and `hypopg` when installed) in
    /// `template1` and `postgres`, so every database created later has them.
    pub fn start(options: &ClusterOptions) -> Result<Cluster, EmbeddedError> {
        let began = Instant::now();
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir()?,
        };
        let owner = server_owner()?;
        let pinned_clock = options
            .clock
            .map(|instant| {
                clock::find_libfaketime()
                    .map(|library| (library, instant))
                    .ok_or(EmbeddedError::FaketimeNotFound)
            })
            .transpose()?;
        let parent = match &options.parent_dir {
            Some(parent) => parent.clone(),
            None => placement::choose(&placement::candidates(), options.expected_bytes)
                .map_err(EmbeddedError::NoRoom)?,
        };
        let dir = make_cluster_dir(&parent, owner)?;
        let mut cluster = Cluster {
            dir,
            bin_dir,
            server: None,
            watchdog: None,
            keep: options.keep,
            hypopg: false,
            startup: Duration::ZERO,
            port: options.tcp_port.unwrap_or(PORT),
        };
        // From here on, Drop removes the directory if a step fails.
        cluster.initdb(owner)?;
        cluster.write_config(options)?;
        cluster.spawn_server(owner, pinned_clock.as_ref())?;
        cluster.wait_ready()?;
        if let Some((library, instant)) = &pinned_clock {
            cluster.confirm_clock(library, *instant)?;
        }
        cluster.hypopg = cluster.create_extensions()?;
        cluster.startup = began.elapsed();
        Ok(cluster)
    }

    /// Time from `start` being called to the cluster being ready for use (initdb included).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The cluster's own directory (data directory in `data/`, socket and `server.log` here).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Folder of the server binaries the cluster runs (for `pgbench`, `psql`, `pg_prove`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Whether the HypoPG extension is installed in the cluster's databases.
    pub fn has_hypopg(&self) -> bool {
        self.hypopg
    }

    /// Connection settings for `database` as the superuser, over the Unix socket.
    pub fn config(&self, database: &str) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname(database)
            .application_name("pgperf")
            .connect_timeout(Duration::from_secs(10));
        config
    }

    /// A URL for `database` that psql, libpq and the `postgres` crate all accept.
    pub fn url(&self, database: &str) -> String {
        let host: String = self
            .dir
            .to_string_lossy()
            .bytes()
            .map(|b| match b {
                b'/' => "%2F".to_string(),
                b' ' => "%20".to_string(),
                other => (other as char).to_string(),
            })
            .collect();
        format!("postgresql://{SUPERUSER}@{host}:{}/{database}", self.port)
    }

    /// Connects to `database` as the superuser.
    pub fn connect(&self, database: &str) -> Result<postgres::Client, postgres::Error> {
        self.config(database).connect(postgres::NoTls)
    }

    /// Creates a fresh database (from `template1`, so it has the extensions).
    pub fn create_database(&self, name: &str) -> Result<(), postgres::Error> {
        let mut client = self.connect("postgres")?;
        client.batch_execute(&format!("CREATE DATABASE {}", crate::pg::quote_ident(name)))
    }

    /// The last lines of the server log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir)
    }

    fn initdb(&self, owner: Option<(u32, u32)>) -> Result<(), EmbeddedError> {
        let program = self.bin_dir.join("initdb");
        let mut command = Command::new(&program);
        command
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "--no-instructions"])
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        as_owner(&mut command, owner);
        let output = command
            .output()
            .map_err(|source| EmbeddedError::Spawn { program, source })?;
        if output.status.success() {
            return Ok(());
        }
        Err(EmbeddedError::Initdb {
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }

    /// The port the server listens on (its socket is `.s.PGSQL.<port>` in [`Cluster::dir`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn write_config(&self, options: &ClusterOptions) -> Result<(), EmbeddedError> {
        let socket_dir = self.dir.to_string_lossy().replace('\'', "''");
        let listen = match options.tcp_port {
            Some(_) => "'127.0.0.1'",
            None => "''",
        };
        let preload: Vec<&str> = options
            .preload_libraries
            .iter()
            .map(String::as_str)
            .chain(["pg_stat_statements"])
            .collect();
        let mut settings: Vec<(String, String)> = [
            ("listen_addresses", listen.to_string()),
            ("unix_socket_directories", format!("'{socket_dir}'")),
            ("port", self.port.to_string()),
            ("fsync", "off".into()),
            ("synchronous_commit", "off".into()),
            ("full_page_writes", "off".into()),
            (
                "shared_preload_libraries",
                format!("'{}'", preload.join(",")),
            ),
            ("pg_stat_statements.track", "all".into()),
            ("pg_stat_statements.max", "10000".into()),
            ("track_io_timing", "on".into()),
            ("shared_buffers", "256MB".into()),
            ("max_connections", "100".into()),
            ("max_wal_size", "4GB".into()),
            ("logging_collector", "off".into()),
            ("log_min_messages", "warning".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        settings.extend(options.settings.iter().cloned());
        let text: String = settings
            .iter()
            .map(|(key, value)| format!("{key} = {value}\n"))
            .collect();
        let path = self.dir.join("data/postgresql.auto.conf");
        fs::write(&path, text).map_err(|source| EmbeddedError::Directory { path, source })
    }

    fn spawn_server(
        &mut self,
        owner: Option<(u32, u32)>,
        pinned_clock: Option<&(PathBuf, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<(), EmbeddedError> {
        let log_path = self.dir.join("server.log");
        let log = fs::File::create(&log_path).map_err(|source| EmbeddedError::Directory {
            path: log_path.clone(),
            source,
        })?;
        let log_err = log.try_clone().map_err(|source| EmbeddedError::Directory {
            path: log_path,
            source,
        })?;
        let program = self.bin_dir.join("postgres");
        let mut command = Command::new(&program);
        command
            .arg("-D")
            .arg(self.dir.join("data"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        as_owner(&mut command, owner);
        if let Some((library, instant)) = pinned_clock {
            clock::pin(&mut command, library, *instant);
        }
        if !self.keep {
            die_with_parent(&mut command);
        }
        let server = spawn_from_long_lived_thread(command)
            .map_err(|source| EmbeddedError::Spawn { program, source })?;
        register(server.id(), &self.dir);
        self.server = Some(server);
        if !self.keep {
            self.watchdog = spawn_watchdog(&self.dir);
        }
        Ok(())
    }

    fn wait_ready(&mut self) -> Result<(), EmbeddedError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let config = {
            let mut config = self.config("postgres");
            config.connect_timeout(Duration::from_secs(1));
            config
        };
        loop {
            if config.connect(postgres::NoTls).is_ok() {
                return Ok(());
            }
            if let Some(server) = self.server.as_mut()
                && let Ok(Some(status)) = server.try_wait()
            {
                return Err(EmbeddedError::StartFailed {
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            if Instant::now() > deadline {
                return Err(EmbeddedError::StartTimeout {
                    secs: READY_TIMEOUT.as_secs(),
                    log_tail: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Fails unless the server's `now()` is the pinned instant, since a preload the loader
    /// skipped leaves the real clock running with only a line in the server's log.
    fn confirm_clock(
        &self,
        library: &Path,
        instant: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), EmbeddedError> {
        let server_now: chrono::DateTime<chrono::Utc> = self
            .connect("postgres")?
            .query_one("SELECT now()", &[])?
            .get(0);
        if (server_now - instant).abs() > clock::TOLERANCE {
            return Err(EmbeddedError::ClockNotPinned {
                clock: instant,
                server_now,
                library: library.display().to_string(),
            });
        }
        Ok(())
    }

    /// Returns whether HypoPG could be created.
    fn create_extensions(&self) -> Result<bool, EmbeddedError> {
        let mut client = self.connect("postgres")?;
        let hypopg = client
            .query_opt(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'",
                &[],
            )?
            .is_some();
        let mut sql = String::from("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;");
        if hypopg {
            sql.push_str("CREATE EXTENSION IF NOT EXISTS hypopg;");
        }
        client.batch_execute(&sql)?;
        self.connect("template1")?.batch_execute(&sql)?;
        Ok(hypopg)
    }

    /// Stops the server (fast shutdown) and waits for it.
    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT is PostgreSQL's fast shutdown: active transactions are rolled back.
            signal(server.id(), libc::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(server.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if matches!(server.try_wait(), Ok(None)) {
                let _ = server.kill();
            }
            let _ = server.wait();
            unregister(server.id());
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.keep && self.server.is_some() {
            // Detach: the server goes on; the caller printed its URL.
            if let Some(server) = self.server.take() {
                unregister(server.id());
            }
            return;
        }
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Stops every embedded cluster of this process and removes its directory. Called from the
/// signal handler, where destructors will not run.
pub fn cleanup_all() {
    let live = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for (pid, dir) in live {
        // Immediate shutdown: we are about to exit and the data is throwaway.
        signal(pid, libc::SIGQUIT);
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = fs::remove_dir_all(dir);
    }
}

fn register(pid: u32, dir: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.push((pid, dir.to_path_buf()));
    }
}

fn unregister(pid: u32) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|(p, _)| *p != pid);
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

fn process_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// The uid/gid to run the server as: the `postgres` user when we are root, else ourselves.
fn server_owner() -> Result<Option<(u32, u32)>, EmbeddedError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new(SUPERUSER).expect("constant has no NUL byte");
    // SAFETY: getpwnam returns NULL or a pointer to a static passwd entry, read immediately.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(EmbeddedError::NoPostgresUser);
    }
    // SAFETY: entry is non-null and points to a valid passwd struct.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some((uid, gid)))
}

fn as_owner(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        command
            .uid(uid)
            .gid(gid)
            .env("HOME", "/tmp")
            .env_remove("PGDATA");
    }
}

/// Asks the kernel to send the server SIGQUIT (immediate shutdown) when pgperf dies, so a
/// SIGKILLed pgperf does not leave a server running.
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure calls only async-signal-safe functions (prctl, getppid, _exit).
    // std runs it after setuid, which would otherwise clear the death signal.
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Spawns `command` from a thread that lives as long as the process. The kernel sends the
/// death signal when the *thread* that forked the child exits, not the process: a server
/// spawned from a short-lived thread (a test, a worker) would be shut down with it.
fn spawn_from_long_lived_thread(command: Command) -> std::io::Result<Child> {
    type Request = (Command, std::sync::mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<std::sync::mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("pgperf-spawner".into())
            .spawn(move || {
                for (mut command, reply) in receiver {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("the spawner thread starts");
        Mutex::new(sender)
    });
    let (reply, answer) = std::sync::mpsc::channel();
    let sent = spawner
        .lock()
        .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
        .send((command, reply));
    sent.map_err(|_| std::io::Error::other("spawner thread is gone"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("spawner thread is gone"))?
}

/// A tiny shell that removes the directory once pgperf is gone, for the SIGKILL case; killed
/// in `Drop` on every other path.
fn spawn_watchdog(dir: &Path) -> Option<Child> {
    // A dead pgperf whose parent never reaps it stays a zombie, which `kill -0` still finds
    // (PID 1 in some containers reaps nothing): read its state from /proc instead.
    let script = "while state=$(sed 's/.*) //' /proc/$0/stat 2>/dev/null | cut -c1) \
                  && [ -n \"$state\" ] && [ \"$state\" != Z ]; do sleep 1; done; \
                  sleep 1; rm -rf -- \"$1\"";
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

fn make_cluster_dir(parent: &Path, owner: Option<(u32, u32)>) -> Result<PathBuf, EmbeddedError> {
    let dir = tempfile::Builder::new()
        .prefix("pgperf-")
        .tempdir_in(parent)
        .map_err(|source| EmbeddedError::Directory {
            path: parent.to_path_buf(),
            source,
        })?
        .keep();
    // The longest port a node may get (`tcp_port`), so every node's socket fits.
    let socket = dir.join(format!(".s.PGSQL.{}.lock", u16::MAX));
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        let _ = fs::remove_dir_all(&dir);
        return Err(EmbeddedError::SocketPathTooLong { path: dir });
    }
    let prepare = || -> std::io::Result<()> {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        Ok(())
    };
    prepare().map_err(|source| {
        let _ = fs::remove_dir_all(&dir);
        EmbeddedError::Directory {
            path: dir.clone(),
            source,
        }
    })?;
    Ok(dir)
}

fn log_tail(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
