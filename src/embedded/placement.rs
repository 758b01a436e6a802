//! Where the cluster's directory goes: the first candidate folder with room for the database
//! the caller expects (a scale-10 seed is several GiB), so a run without room fails before
//! initdb with the sizes it saw, not minutes later with "No space left on device".
//!
//! Candidates, in order: `$PGPERF_TMPDIR` alone when set (the user chose it); else `/dev/shm`
//! (memory: creating the ~1000 files of a data directory costs ~0.9 ms each on the disk here),
//! the temp dir, and the working directory. `/dev/shm` takes RAM: its room is the smaller of
//! its own free space and the memory available now (a tmpfs's size is only a limit), and it
//! must leave [`MEMORY_HEADROOM_BYTES`] for the server and everyone else on the machine.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// RAM a memory-backed folder must keep free besides the cluster.
pub const MEMORY_HEADROOM_BYTES: u64 = 4 << 30;

/// A folder the cluster directory could go in.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub path: PathBuf,
    /// Bytes available to this process there; `None` when it cannot be read (not chosen).
    pub free_bytes: Option<u64>,
    /// Backed by RAM (tmpfs), so it must leave [`MEMORY_HEADROOM_BYTES`].
    pub memory_backed: bool,
}

/// No candidate has room: what was needed and what each candidate had.
#[derive(Debug, Clone, PartialEq)]
pub struct NoRoom {
    pub needed_bytes: u64,
    pub candidates: Vec<Candidate>,
}

impl NoRoom {
    /// "/dev/shm 2.0 GiB free (memory, keeps 4.0 GiB), /tmp 1.5 GiB free"
    pub fn describe_candidates(&self) -> String {
        let mut text = String::new();
        for (index, candidate) in self.candidates.iter().enumerate() {
            if index > 0 {
                text.push_str(", ");
            }
            let free = candidate
                .free_bytes
                .map_or_else(|| "unreadable".to_string(), |b| format!("{} free", gib(b)));
            let _ = write!(text, "{} {free}", candidate.path.display());
            if candidate.memory_backed {
                let _ = write!(text, " (memory, keeps {})", gib(MEMORY_HEADROOM_BYTES));
            }
        }
        text
    }
}

/// Bytes as GiB with one decimal, for messages.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// The first candidate with room for `needed_bytes`.
pub fn choose(candidates: &[Candidate], needed_bytes: u64) -> Result<PathBuf, NoRoom> {
    candidates
        .iter()
        .find(|candidate| {
            let headroom = if candidate.memory_backed {
                MEMORY_HEADROOM_BYTES
            } else {
                0
            };
            candidate
                .free_bytes
                .is_some_and(|free| free >= needed_bytes.saturating_add(headroom))
        })
        .map(|candidate| candidate.path.clone())
        .ok_or_else(|| NoRoom {
            needed_bytes,
            candidates: candidates.to_vec(),
        })
}

/// This machine's candidates, with their free space now.
pub fn candidates() -> Vec<Candidate> {
    let on_disk = |path: PathBuf| Candidate {
        free_bytes: free_bytes(&path),
        path,
        memory_backed: false,
    };
    if let Some(dir) = std::env::var_os("PGPERF_TMPDIR") {
        return vec![on_disk(PathBuf::from(dir))];
    }
    let shm = PathBuf::from("/dev/shm");
    let shm_free = match (free_bytes(&shm), available_memory_bytes()) {
        (Some(free), Some(memory)) => Some(free.min(memory)),
        (free, _) => free,
    };
    let mut list = vec![Candidate {
        free_bytes: shm_free,
        path: shm,
        memory_backed: true,
    }];
    list.push(on_disk(std::env::temp_dir()));
    if let Ok(cwd) = std::env::current_dir() {
        list.push(on_disk(cwd));
    }
    list
}

/// `MemAvailable` of /proc/meminfo.
fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    mem_available(&text)
}

fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; c_path is a valid C string.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn candidate(path: &str, free_gib: Option<u64>, memory_backed: bool) -> Candidate {
        Candidate {
            path: PathBuf::from(path),
            free_bytes: free_gib.map(|g| g * GIB),
            memory_backed,
        }
    }

    fn machine(shm_gib: u64, tmp_gib: u64, cwd_gib: u64) -> Vec<Candidate> {
        vec![
            candidate("/dev/shm", Some(shm_gib), true),
            candidate("/tmp", Some(tmp_gib), false),
            candidate("/work", Some(cwd_gib), false),
        ]
    }

    #[test]
    fn memory_is_preferred_when_it_keeps_its_headroom() {
        assert_eq!(
            choose(&machine(23, 74, 74), 2 * GIB),
            Ok(PathBuf::from("/dev/shm"))
        );
    }

    #[test]
    fn a_database_that_would_eat_the_headroom_goes_to_disk() {
        // 20 GiB fits in 23 GiB of tmpfs, but would leave 3 GiB of RAM.
        assert_eq!(
            choose(&machine(23, 74, 74), 20 * GIB),
            Ok(PathBuf::from("/tmp"))
        );
    }

    #[test]
    fn the_working_directory_is_the_last_resort() {
        assert_eq!(
            choose(&machine(2, 3, 74), 10 * GIB),
            Ok(PathBuf::from("/work"))
        );
    }

    #[test]
    fn unreadable_folders_are_never_chosen() {
        let list = vec![
            candidate("/dev/shm", None, true),
            candidate("/tmp", None, false),
        ];
        assert!(choose(&list, 0).is_err());
    }

    #[test]
    fn available_memory_is_read_in_bytes() {
        let meminfo =
            "MemTotal:       24576000 kB\nMemFree:         1000 kB\nMemAvailable:   20971520 kB\n";
        assert_eq!(mem_available(meminfo), Some(20 * GIB));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn no_room_anywhere_names_every_candidate_and_its_space() {
        let error = choose(&machine(6, 3, 5), 8 * GIB).unwrap_err();
        assert_eq!(error.needed_bytes, 8 * GIB);
        assert_eq!(
            error.describe_candidates(),
            "/dev/shm 6.0 GiB free (memory, keeps 4.0 GiB), /tmp 3.0 GiB free, /work 5.0 GiB free"
        );
    }
}
