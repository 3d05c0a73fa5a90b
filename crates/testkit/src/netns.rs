//! Tests that name addresses outside loopback (10.0.0.1, 169.254.169.254, …) run in a fresh
//! network namespace that has only loopback, so a regression in the address guard can
//! never send a packet off the machine.
//!
//! A test opts in with one line, first in its body:
//!
//! ```ignore
//! #[tokio::test]
//! async fn refuses_private_addresses() {
//!     gannet_testkit::isolated!(refuses_private_addresses);
//!     // ... the test, run only inside the namespace
//! }
//! ```
//!
//! Outside a namespace, the line re-runs the test binary for this one test under
//! `unshare -n` (loopback brought up with `ip link set lo up`), asserts that it passed and
//! returns; inside, it checks that loopback really is the only interface and lets the test
//! body run. `isolated!(name, hosts = "10.0.0.7 intranet.test")` also gives the test its
//! own `/etc/hosts` (a mount namespace, `unshare -m`, with the file bind-mounted), so names
//! that resolve to refused addresses can be tested without a DNS server. Without `unshare` (util-linux) or `ip` (iproute2), or without the right to
//! make a namespace (root, or unprivileged user namespaces), the test fails, loudly:
//! it never runs unisolated.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Set in the re-run child: the test is (supposed to be) inside its namespace.
const MARKER: &str = "GANNET_TEST_NETNS";

/// Longest a re-run test may take.
const LIMIT: Duration = Duration::from_secs(300);

/// Runs the calling test isolated; see the [module docs](self). `module_path` is the
/// caller's `module_path!()` and `test` its function name (the [`isolated!`](crate::isolated)
/// macro passes both). Returns `true` when the caller is inside its namespace and should
/// run its body, `false` when this call has run it in one (and it passed).
///
/// # Panics
///
/// If the isolated run fails, or cannot be made; or, inside, if the namespace has an
/// interface other than loopback.
pub fn isolated(module_path: &str, test: &str) -> bool {
    isolated_with_hosts(module_path, test, None)
}

/// [`isolated`], and with `hosts` as the contents of `/etc/hosts` inside the namespace
/// (`localhost` is added).
///
/// # Panics
///
/// As [`isolated`].
pub fn isolated_with_hosts(module_path: &str, test: &str, hosts: Option<&str>) -> bool {
    if std::env::var_os(MARKER).is_some() {
        let interfaces = interfaces();
        assert!(
            interfaces.iter().all(|i| i == "lo"),
            "{MARKER} is set but this process sees interfaces {interfaces:?}: not an isolated \
             network namespace"
        );
        return true;
    }
    // The harness names a test by its path below the crate root.
    let path: Vec<&str> = module_path
        .split("::")
        .skip(1)
        .chain(std::iter::once(test))
        .collect();
    let name = path.join("::");
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new("unshare");
    command.args(unshare_flags());
    let mut script = String::from("ip link set lo up && exec \"$0\" \"$@\"");
    let hosts_file = hosts.map(|hosts| {
        let file = std::env::temp_dir().join(format!(
            "gannet-netns-hosts-{}-{}",
            std::process::id(),
            name.replace("::", "-")
        ));
        std::fs::write(
            &file,
            format!("127.0.0.1 localhost\n::1 localhost\n{hosts}\n"),
        )
        .expect("write the namespace's hosts file");
        file
    });
    if let Some(file) = &hosts_file {
        command.arg("-m").env("GANNET_TEST_HOSTS", file);
        script = format!("mount --bind \"$GANNET_TEST_HOSTS\" /etc/hosts && {script}");
    }
    command
        .args(["--", "sh", "-c", &script])
        .arg(&exe)
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(MARKER, "1");
    let output = crate::output_within(&mut command, LIMIT);
    if let Some(file) = hosts_file {
        let _ = std::fs::remove_file(file);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in a fresh network namespace ({}):\n{stdout}\n{stderr}",
        output.status
    );
    false
}

/// `-n` as root; `-rn` (a user namespace mapping us to root in it) otherwise. Probed once.
fn unshare_flags() -> &'static [&'static str] {
    static FLAGS: OnceLock<&'static [&'static str]> = OnceLock::new();
    FLAGS.get_or_init(|| {
        for flags in [&["-n"][..], &["-r", "-n"][..]] {
            let works = Command::new("unshare")
                .args(flags)
                .args(["--", "sh", "-c", "ip link set lo up"])
                .output()
                .is_ok_and(|o| o.status.success());
            if works {
                return flags;
            }
        }
        panic!(
            "cannot run this test in a fresh network namespace: `unshare -n` (util-linux) and \
             `ip` (iproute2) are needed, as root or with unprivileged user namespaces. Tests \
             naming addresses outside loopback never run unisolated."
        )
    })
}

/// The network interfaces this process sees (`/proc/self/net/dev`).
fn interfaces() -> Vec<String> {
    let table = std::fs::read_to_string("/proc/self/net/dev").expect("read /proc/self/net/dev");
    table
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Runs the enclosing test in a fresh network namespace (see [`netns`](crate::netns)):
/// `isolated!(test_fn_name);` first in the test body, or
/// `isolated!(test_fn_name, hosts = "10.0.0.7 intranet.test");` for an `/etc/hosts` of
/// its own too.
#[macro_export]
macro_rules! isolated {
    ($test:ident) => {
        if !$crate::netns::isolated(module_path!(), stringify!($test)) {
            return;
        }
    };
    ($test:ident, hosts = $hosts:expr) => {
        if !$crate::netns::isolated_with_hosts(module_path!(), stringify!($test), Some($hosts)) {
            return;
        }
    };
}
