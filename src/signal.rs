//! Ctrl-C and SIGTERM handling. The first signal sets a flag that long-running loops poll so
//! they can stop, write partial results and drop their resources (clusters, transactions) in
//! order; if the process has not finished 5 s later, or on a second signal, the handler removes
//! every live embedded cluster itself and exits with 130.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicU32 = AtomicU32::new(0);
static INSTALL: Once = Once::new();

/// Exit code after an interrupt, as shells report death by SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Installs the handler once per process; later calls do nothing.
pub fn install() {
    INSTALL.call_once(|| {
        // A failure here only means another handler exists (embedding in a larger program).
        let _ = ctrlc::set_handler(on_signal);
    });
}

/// True once Ctrl-C or SIGTERM arrived; loops should stop and return what they have.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn on_signal() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let count = SIGNALS.fetch_add(1, Ordering::SeqCst) + 1;
    if count == 1 {
        eprintln!(
            "pgperf: interrupted; stopping and writing partial results (Ctrl-C again to quit now)"
        );
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(5));
            force_exit();
        });
    } else {
        force_exit();
    }
}

fn force_exit() -> ! {
    crate::embedded::cleanup_all();
    std::process::exit(EXIT_INTERRUPTED);
}
