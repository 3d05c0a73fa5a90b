//! A real nginx (Debian's; scripts/test installs it) on a free loopback port in front of
//! given upstream addresses, configured by the shipped `deploy/nginx.conf`, rendered by
//! the same rules as `deploy/local-cluster.sh`: each `@NAME@` is replaced, and a line
//! holding `@SERVER@` is repeated once per upstream. nginx runs in the foreground
//! (`daemon off`) with its own prefix directory (pid, logs, temp files); on drop it gets
//! SIGTERM (its workers go with it), then SIGKILL after 5 s, and the directory is removed.
//! [`http`] is a small blocking HTTP/1.1 client for talking through it.
//! Test setup only: the waits block the calling thread.
#![allow(clippy::disallowed_methods)]

pub mod http;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The values of `deploy/nginx.conf`'s placeholders other than addresses and paths.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `@MAX_BODY@`: the largest request body, in bytes (the replicas' `max_body_bytes`).
    pub max_body: usize,
    /// `@RATE_PER_MINUTE@`: requests a minute per client IP.
    pub rate_per_minute: u32,
    /// `@RATE_BURST@`: requests at once above the rate.
    pub rate_burst: u32,
}

impl Default for Settings {
    /// The replicas' defaults (1 MiB, 600 a minute, bursts of 100), as local-cluster.sh.
    fn default() -> Self {
        Settings {
            max_body: 1 << 20,
            rate_per_minute: 600,
            rate_burst: 100,
        }
    }
}

/// The path of the shipped template, `deploy/nginx.conf`.
pub fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx.conf")
}

/// The shipped template's text.
///
/// # Panics
///
/// If `deploy/nginx.conf` cannot be read.
pub fn template() -> String {
    std::fs::read_to_string(template_path()).expect("read deploy/nginx.conf")
}

/// `template` with its placeholders filled: `@PREFIX@` (nginx's directory), `@LISTEN@`,
/// the [`Settings`], and every line holding `@SERVER@` once per address of `servers`
/// (none: the line is dropped, and nginx refuses the empty upstream).
pub fn render(
    template: &str,
    prefix: &Path,
    listen: SocketAddr,
    servers: &[SocketAddr],
    settings: &Settings,
) -> String {
    let prefix = prefix.display().to_string();
    let listen = listen.to_string();
    let max_body = settings.max_body.to_string();
    let rate = settings.rate_per_minute.to_string();
    let burst = settings.rate_burst.to_string();
    let fill = |line: &str| {
        line.replace("@PREFIX@", &prefix)
            .replace("@LISTEN@", &listen)
            .replace("@MAX_BODY@", &max_body)
            .replace("@RATE_PER_MINUTE@", &rate)
            .replace("@RATE_BURST@", &burst)
    };
    let mut out = String::with_capacity(template.len() + 256);
    for line in template.lines() {
        if line.contains("@SERVER@") {
            for server in servers {
                out.push_str(&fill(&line.replace("@SERVER@", &server.to_string())));
                out.push('\n');
            }
        } else {
            out.push_str(&fill(line));
            out.push('\n');
        }
    }
    out
}

/// The nginx binary: `$NGINX_BIN`, else `nginx` on `PATH`, else `/usr/sbin/nginx` (Debian
/// puts it in sbin, often not on a user's `PATH`).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NGINX_BIN") {
        return PathBuf::from(path);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("nginx");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from("/usr/sbin/nginx")
}

/// A fresh directory for nginx's prefix, enterable by its workers (mode 755: nginx
/// started as root runs them as `nobody`).
///
/// # Panics
///
/// If the directory cannot be made.
pub fn scratch_prefix() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("gannet-nginx-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("tmp")).expect("nginx prefix dir");
    set_mode_755(&dir);
    set_mode_755(&dir.join("tmp"));
    dir
}

fn set_mode_755(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

/// `nginx -t` on a rendered `config` with `prefix` as its prefix: its output (the verdict
/// is on stderr).
///
/// # Panics
///
/// If nginx cannot be started (`apt-get install nginx`).
pub fn check(config: &Path, prefix: &Path) -> Output {
    Command::new(binary())
        .arg("-t")
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(config)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .env_remove("NGINX")
        .stdin(Stdio::null())
        .output()
        .expect("run nginx -t (scripts/test installs it: apt-get install nginx)")
}

/// nginx on 127.0.0.1 in front of some upstreams, until dropped.
pub struct Nginx {
    addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nginx {
    /// nginx with the replicas' default [`Settings`] in front of `servers`.
    pub fn start(servers: &[SocketAddr]) -> Nginx {
        Nginx::with_settings(servers, &Settings::default())
    }

    /// nginx in front of `servers`; waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// If `nginx -t` refuses the rendered config, or nginx exits or does not listen
    /// within 10 s (the panic shows its error log).
    pub fn with_settings(servers: &[SocketAddr], settings: &Settings) -> Nginx {
        let dir = scratch_prefix();
        let port = crate::redis::free_port(false);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = dir.join("nginx.conf");
        std::fs::write(&config, render(&template(), &dir, addr, servers, settings))
            .expect("write nginx.conf");
        let checked = check(&config, &dir);
        assert!(
            checked.status.success(),
            "nginx -t refused {}: {}",
            config.display(),
            String::from_utf8_lossy(&checked.stderr)
        );
        let child = Command::new(binary())
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&config)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            // nginx reads $NGINX itself (listening sockets inherited on an upgrade).
            .env_remove("NGINX")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx (scripts/test installs it: apt-get install nginx)");
        let mut nginx = Nginx {
            addr,
            dir,
            child: Some(child),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            let exited = nginx
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && start.elapsed() < Duration::from_secs(10),
                "nginx did not start ({exited:?}): {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// The address nginx listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The rendered config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("nginx.conf")
    }

    /// The access log so far (format `gannet` of the template: it names the upstream
    /// address of each request, all of them when nginx tried several).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }

    /// The error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM: the master stops its workers. (SIGKILL would leave them listening.)
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while !matches!(child.try_wait(), Ok(Some(_))) {
                if start.elapsed() > Duration::from_secs(5) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder_and_repeats_server_lines() {
        let servers: Vec<SocketAddr> = (0..3)
            .map(|i| SocketAddr::from(([127, 0, 0, 1], 4000 + i)))
            .collect();
        let listen = SocketAddr::from(([127, 0, 0, 1], 8080));
        let text = render(
            &template(),
            Path::new("/tmp/prefix"),
            listen,
            &servers,
            &Settings::default(),
        );
        let left: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && l.contains('@'))
            .filter(|l| {
                l.split('@').skip(1).any(|w| {
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                })
            })
            .collect();
        assert!(left.is_empty(), "placeholders left: {left:?}");
        for s in &servers {
            // One line in each upstream: the round-robin one and the sticky one.
            let lines = text
                .lines()
                .filter(|l| l.trim_start().starts_with(&format!("server {s} ")))
                .count();
            assert_eq!(lines, 2, "{s}");
        }
        assert!(text.contains("listen 127.0.0.1:8080;"));
        assert!(text.contains("client_max_body_size 1048576;"));
        assert!(text.contains("pid /tmp/prefix/nginx.pid;"));
    }
}
