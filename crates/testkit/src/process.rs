//! Running the real `gannet` binary from tests, with a time limit.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `command` (stdin closed, stdout and stderr captured) and returns its output. A run
/// longer than `limit` is killed (SIGKILL) and fails the test, so a hang cannot stall the
/// suite.
///
/// # Panics
///
/// If the program cannot be started or runs past `limit`.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program under test");
    let pid = child.id();
    let (done, output) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match output.recv_timeout(limit) {
        Ok(output) => output.expect("wait for the program under test"),
        Err(_) => {
            // The child moved to the waiting thread: end it by its id.
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{command:?} ran for over {limit:?}");
        }
    }
}
