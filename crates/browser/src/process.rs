//! Chromium processes: finding the binary, launching it with a fresh profile, killing its
//! whole process tree, and cleaning up after a crashed gannet.
//!
//! Every Chromium runs in its own process group (so one signal reaches the renderers, the
//! zygote and the GPU process) and dies with gannet: it is spawned from one long-lived
//! keeper thread with `PR_SET_PDEATHSIG = SIGKILL`, so even a `kill -9` of gannet takes the
//! browser down. The profile directories a killed gannet left behind are removed by the
//! next pool that starts ([`cleanup_stale`]).

use std::fs;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::Error;

/// Prefix of every profile directory gannet creates: `gannet-chromium-<pid>-<n>`.
const PROFILE_PREFIX: &str = "gannet-chromium-";

/// The flags every browser gets. Background networking, component updates, sync and the
/// like are off: they phone home, and on a closed network they fail in bursts.
const BASE_FLAGS: &[&str] = &[
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    // BackForwardCache: a tab that navigates page after page would keep the last few pages
    // alive in its renderer (hundreds of MB on big documents); a crawler never goes back.
    // IsolateOrigins/site-per-process: one renderer per tab is enough isolation for a
    // crawler, and fewer processes are less memory.
    // WebUIOmnibox*: headless Chromium 156 preloads the omnibox popup
    // (chrome://omnibox-popup.top-chrome) in a renderer of its own, ~190 MB RSS for a UI
    // nobody sees; that renderer also counted against --renderer-process-limit.
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider,InterestFeedContentSuggestions,CalculateNativeWinOcclusion,BackForwardCache,IsolateOrigins,site-per-process,WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup",
    // The network service in the browser process (as on low-memory Android): one process
    // less (~110 MB RSS). A network-service crash then takes the browser down, which the
    // pool already handles like any browser crash (replace, retry once).
    "--enable-features=NetworkServiceInProcess2",
    "--disable-site-isolation-trials",
    // Renderers are the bulk of a browser's memory: one content renderer shared by the
    // tabs. (Before the omnibox popup was turned off, a limit of 2 meant the same: the
    // popup took one of the two.) A hung renderer retires its browser (see pool.rs).
    "--renderer-process-limit=1",
    // V8 (and the DOM's garbage-collected heap, which V8 schedules) grows the heap by 20%
    // before the next full collection instead of its default of up to 2–4×: the documents
    // a reused tab left behind are collected sooner. 500 rustdoc pages: peak tree RSS
    // 1.24 → 0.97 GB for ~6% more CPU per page; `--optimize-for-size` or
    // `--enable-low-end-device-mode` save a little more but cost 25–40% more CPU.
    // It only changes when GC runs, not how much a page may use: JS-heavy pages render
    // as before (no heap limit that could kill a renderer).
    "--js-flags=--heap-growing-percent=20",
    // No component-extension background pages.
    "--disable-component-extensions-with-background-pages",
    // No GPU here: compositing in the browser process saves a process.
    "--in-process-gpu",
    "--disable-hang-monitor",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-ipc-flooding-protection",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
];

/// Headless-shell binaries, tried before the full browser. Debian's package installs the
/// binary here behind a `/usr/bin` wrapper script; the binary itself is launched, so the
/// browser's main process is the one gannet spawned (no shell in between).
const SHELL_BINARIES: &[&str] = &["/usr/lib/chromium/chromium-headless-shell"];

/// Names looked up on `PATH`, in order: the headless shells first, then full browsers.
const PATH_NAMES: &[&str] = &[
    "chromium-headless-shell",
    "chrome-headless-shell",
    "headless_shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Finds the Chromium binary: `CHROME_PATH` first, then Chromium's headless shell, then a
/// full Chromium or Chrome on `PATH`.
///
/// The headless shell (Debian's `chromium-headless-shell`, the "old headless" build of the
/// same Chromium source; also what Playwright launches for headless Chromium) is preferred:
/// it renders with the same Blink and V8, but has no browser UI layer, so it runs as two
/// processes (browser, renderer) instead of three (no storage service) and maps less of
/// its binary into each. On 500 rustdoc pages
/// it rendered ~1.5x the pages per second at ~0.75x the peak memory of the full browser
/// (BENCHMARKS.md, "Browser, ninth session"). `CHROME_PATH=/usr/bin/chromium` picks the
/// full browser, for sites that treat the shell differently.
pub fn find_chromium() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os("CHROME_PATH") {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(Error::NoChromium(format!(
                "CHROME_PATH={} is not an executable file",
                path.display()
            )))
        };
    }
    if let Some(path) = SHELL_BINARIES
        .iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))
    {
        return Ok(path);
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    for name in PATH_NAMES {
        for dir in std::env::split_paths(&dirs) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(Error::NoChromium(
        "no chromium on PATH; install it (Debian/Ubuntu: `apt-get install chromium-headless-shell`, or `chromium`) or set CHROME_PATH".into(),
    ))
}

/// Whether `path` names a Chromium headless shell (Debian's `chromium-headless-shell`,
/// Chrome for Testing's `chrome-headless-shell`, a source build's `headless_shell`) rather
/// than a full browser: the pool's memory defaults differ ([`crate::MemoryTuning`]).
pub fn is_headless_shell(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("headless-shell") || n.contains("headless_shell"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A running Chromium: its main process (leader of its own process group), its profile
/// directory and the DevTools WebSocket address.
#[derive(Debug)]
pub(crate) struct ChromeProcess {
    child: Option<Child>,
    pid: u32,
    profile: PathBuf,
    pub(crate) ws_url: String,
}

impl ChromeProcess {
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the main process has exited (a crash, or a kill from outside).
    pub(crate) fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Kills the whole process group, reaps the main process and removes the profile.
    /// Blocking (a few milliseconds): call it from a blocking context.
    pub(crate) fn kill_and_clean(mut self) {
        self.kill_now();
    }

    #[allow(clippy::disallowed_methods)] // runs on a blocking thread (see kill_and_clean)
    fn kill_now(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pgid) = Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process_group(pgid, Signal::KILL);
        }
        let _ = child.kill();
        let _ = child.wait();
        // The group's other members die with the signal; wait (briefly) until they are gone
        // so that the profile is not written to while it is removed.
        if let Some(pgid) = Pid::from_raw(self.pid as i32) {
            let deadline = Instant::now() + Duration::from_secs(2);
            while rustix::process::test_kill_process_group(pgid).is_ok()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        remove_profile(&self.profile);
    }
}

/// Removes a profile and the directory Chromium made in the system temp dir for its
/// singleton socket (the profile's `SingletonSocket` symlink points into it; it lives
/// outside the profile because a socket path must be short).
fn remove_profile(profile: &Path) {
    if let Ok(target) = fs::read_link(profile.join("SingletonSocket"))
        && let Some(dir) = target.parent()
        && dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".org.chromium.") || n.starts_with("org.chromium."))
    {
        let _ = fs::remove_dir_all(dir);
    }
    let _ = fs::remove_dir_all(profile);
}

impl Drop for ChromeProcess {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_now();
        }
    }
}

/// Options a browser is launched with.
#[derive(Debug, Clone)]
pub(crate) struct LaunchSpec {
    pub(crate) executable: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) temp_root: PathBuf,
    pub(crate) timeout: Duration,
}

/// Starts Chromium and waits until its DevTools endpoint is up. Blocking: run it from a
/// blocking context.
#[allow(clippy::disallowed_methods)] // blocking by contract: callers use spawn_blocking
pub(crate) fn launch(spec: &LaunchSpec) -> Result<ChromeProcess, Error> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let profile = spec.temp_root.join(format!(
        "{PROFILE_PREFIX}{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&profile)
        .map_err(|e| Error::Launch(format!("cannot create {}: {e}", profile.display())))?;
    let log = fs::File::create(profile.join("chrome-stderr.log"))
        .map_err(|e| Error::Launch(format!("cannot create the browser log: {e}")))?;

    let mut cmd = Command::new(&spec.executable);
    cmd.args(launch_args(
        rustix::process::geteuid().is_root(),
        &spec.args,
    ))
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("about:blank")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(log)
    .process_group(0);
    let child = spawn_from_keeper(cmd).map_err(|e| {
        let _ = fs::remove_dir_all(&profile);
        Error::Launch(format!("cannot start {}: {e}", spec.executable.display()))
    })?;
    let pid = child.id();
    let mut process = ChromeProcess {
        child: Some(child),
        pid,
        profile,
        ws_url: String::new(),
    };

    // Chromium writes "<port>\n<path>" to DevToolsActivePort once the endpoint listens.
    let deadline = Instant::now() + spec.timeout;
    let port_file = process.profile.join("DevToolsActivePort");
    loop {
        if let Ok(text) = fs::read_to_string(&port_file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next())
                && port.parse::<u16>().is_ok()
                && path.starts_with("/devtools/browser/")
            {
                process.ws_url = format!("ws://127.0.0.1:{port}{path}");
                return Ok(process);
            }
        }
        if process.has_exited() {
            let tail = log_tail(&process.profile.join("chrome-stderr.log"));
            return Err(Error::Launch(format!("chromium exited at start: {tail}")));
        }
        if Instant::now() >= deadline {
            return Err(Error::Launch(format!(
                "chromium did not open its DevTools endpoint within {:?}",
                spec.timeout
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The command line of a browser: [`BASE_FLAGS`], the root-only flags, then `extra`.
/// Chromium keeps only the last value of a repeated switch, so an extra
/// `--enable-features=`/`--disable-features=`/`--js-flags=` is merged into the base list
/// (otherwise it would silently drop every feature the base list turns off), and an extra
/// `--name=value` replaces the base flag of the same name.
pub(crate) fn launch_args(root: bool, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = BASE_FLAGS.iter().map(|s| s.to_string()).collect();
    if root {
        // Without the sandbox the zygote processes have nothing to do: two fewer processes.
        args.extend(["--no-sandbox".to_string(), "--no-zygote".to_string()]);
    }
    let name_of = |a: &str| a.split('=').next().unwrap_or(a).to_string();
    for arg in extra {
        let name = name_of(arg);
        let value = arg.split_once('=').map(|(_, v)| v);
        if let ("--enable-features" | "--disable-features", Some(value)) = (name.as_str(), value)
            && let Some(base) = args.iter_mut().find(|a| name_of(a) == name)
        {
            for feature in value.split(',').filter(|f| !f.is_empty()) {
                if !base
                    .split_once('=')
                    .is_some_and(|(_, list)| list.split(',').any(|f| f == feature))
                {
                    base.push(',');
                    base.push_str(feature);
                }
            }
            continue;
        }
        if let ("--js-flags", Some(value)) = (name.as_str(), value)
            && let Some(base) = args.iter_mut().find(|a| name_of(a) == name)
        {
            // V8 flags are one space-separated list; a later one of the same name wins.
            base.push(' ');
            base.push_str(value);
            continue;
        }
        args.retain(|a| name_of(a) != name);
        args.push(arg.clone());
    }
    args
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    if tail.is_empty() {
        "(no output)".into()
    } else {
        tail
    }
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` from the keeper thread, which lives as long as the process: the parent-death
/// signal fires when the *thread* that forked the child ends, so it must not be a worker
/// thread that a runtime may retire.
fn spawn_from_keeper(cmd: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<std::sync::Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("gannet-chromium-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(spawn_with_death_signal(&mut cmd));
                }
            })
            .expect("spawning the chromium keeper thread");
        std::sync::Mutex::new(tx)
    });
    let (tx, rx) = mpsc::channel();
    keeper
        .lock()
        .map_err(|_| io::Error::other("chromium keeper poisoned"))?
        .send((cmd, tx))
        .map_err(|_| io::Error::other("chromium keeper thread is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("chromium keeper thread is gone"))?
}

#[allow(unsafe_code)]
fn spawn_with_death_signal(cmd: &mut Command) -> io::Result<Child> {
    // SAFETY: the closure runs in the forked child before exec and only makes one
    // async-signal-safe system call (prctl); it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
                .map_err(io::Error::from)
        });
    }
    cmd.spawn()
}

/// Removes profile directories (and kills their browsers) left by gannet processes that
/// are no longer running, e.g. after a `kill -9`. Returns how many were cleaned.
pub fn cleanup_stale(temp_root: &Path) -> usize {
    let Ok(entries) = fs::read_dir(temp_root) else {
        return 0;
    };
    let mut cleaned = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PROFILE_PREFIX)) else {
            continue;
        };
        let Some(owner) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let dir = entry.path();
        kill_processes_using(&dir);
        remove_profile(&dir);
        if !dir.exists() {
            cleaned += 1;
        }
    }
    cleaned
}

/// Kills every process whose command line names `profile` as its user-data-dir.
fn kill_processes_using(profile: &Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    for pid in all_pids() {
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == needle.as_bytes())
            && let Some(pid) = Pid::from_raw(pid as i32)
        {
            let _ = rustix::process::kill_process(pid, Signal::KILL);
        }
    }
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The process tree under `root` (including it): pids found by walking parent links.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for pid in all_pids() {
        if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some(ppid) = stat_ppid(&stat)
        {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}

fn stat_ppid(stat: &str) -> Option<u32> {
    // "pid (comm) state ppid ..." — comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Memory of a process tree in bytes: the sum of each process's proportional set size
/// (PSS: shared pages split between the processes sharing them), so the browser's shared
/// libraries count once; VmRSS where smaps_rollup is unavailable.
pub fn tree_memory_bytes(root: u32) -> u64 {
    process_tree(root)
        .into_iter()
        .filter_map(process_memory_bytes)
        .sum()
}

fn process_memory_bytes(pid: u32) -> Option<u64> {
    let field = |file: &str, name: &str| -> Option<u64> {
        let text = fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
        let line = text.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    field("smaps_rollup", "Pss:").or_else(|| field("status", "VmRSS:"))
}

/// The content renderer of the browser whose main process is `root` (the first process
/// of its tree started with `--type=renderer`).
pub(crate) fn renderer_of(root: u32) -> Option<u32> {
    process_tree(root).into_iter().find(|pid| {
        fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.windows(15).any(|w| w == b"--type=renderer"))
    })
}

/// Resident memory of one process in bytes (`/proc/PID/statm`: one small read, cheap
/// enough to do after every page); `None` once it is gone.
pub(crate) fn rss_bytes(pid: u32) -> Option<u64> {
    let statm = fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Processes (anywhere on the machine) whose command line mentions a gannet profile
/// directory under `temp_root`: what a leak check counts.
pub fn count_browser_processes(temp_root: &Path) -> usize {
    let needle = format!(
        "--user-data-dir={}",
        temp_root.join(PROFILE_PREFIX).display()
    );
    all_pids()
        .into_iter()
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                c.split(|&b| b == 0)
                    .any(|arg| arg.starts_with(needle.as_bytes()))
            })
        })
        .count()
}

/// Profile directories of this pool root that exist right now.
pub fn count_profile_dirs(temp_root: &Path) -> usize {
    fs::read_dir(temp_root)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.starts_with(PROFILE_PREFIX))
                })
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_flags_merge_features_and_replace_values() {
        let args = launch_args(
            true,
            &[
                "--disable-features=Foo,Translate".into(),
                "--enable-features=Bar".into(),
                "--renderer-process-limit=3".into(),
                "--js-flags=--max-old-space-size=512".into(),
                "--lang=de".into(),
            ],
        );
        let disabled: Vec<_> = args
            .iter()
            .filter(|a| a.starts_with("--disable-features="))
            .collect();
        assert_eq!(disabled.len(), 1);
        assert!(disabled[0].contains(",BackForwardCache,") && disabled[0].ends_with(",Foo"));
        assert_eq!(disabled[0].matches("Translate").count(), 1);
        assert!(args.contains(&"--enable-features=NetworkServiceInProcess2,Bar".to_string()));
        assert!(args.contains(
            &"--js-flags=--heap-growing-percent=20 --max-old-space-size=512".to_string()
        ));
        let limits: Vec<_> = args
            .iter()
            .filter(|a| a.starts_with("--renderer-process-limit"))
            .collect();
        assert_eq!(limits, ["--renderer-process-limit=3"]);
        assert!(args.contains(&"--no-zygote".to_string()) && args.ends_with(&["--lang=de".into()]));
        assert!(!launch_args(false, &[]).contains(&"--no-sandbox".to_string()));
    }

    #[test]
    fn ppid_parses_names_with_spaces_and_parens() {
        assert_eq!(stat_ppid("42 (a b) c) S 7 42 42 0"), Some(7));
        assert_eq!(stat_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(stat_ppid("garbage"), None);
    }

    #[test]
    fn tree_of_this_process_contains_it() {
        let me = std::process::id();
        assert_eq!(process_tree(me)[0], me);
        assert!(tree_memory_bytes(me) > 0);
    }

    #[test]
    fn stale_profiles_of_dead_owners_are_removed() {
        let root = std::env::temp_dir().join(format!("gannet-stale-test-{}", std::process::id()));
        fs::create_dir_all(&root).unwrap();
        // pid 0x7ffffffe is never a live process; our own pid is.
        let dead = root.join(format!("{PROFILE_PREFIX}2147483646-0"));
        let mine = root.join(format!("{PROFILE_PREFIX}{}-9", std::process::id()));
        let other = root.join("unrelated-dir");
        for d in [&dead, &mine, &other] {
            fs::create_dir_all(d).unwrap();
        }
        assert_eq!(cleanup_stale(&root), 1);
        assert!(!dead.exists());
        assert!(mine.exists() && other.exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
