//! How full memory is: the cgroup first (a container's limit is what the kernel enforces),
//! the host only when no cgroup limit applies.
//!
//! - cgroup v2: `memory.current` / `memory.max` of this process's cgroup (`max` = none);
//! - cgroup v1: `memory.usage_in_bytes` / `memory.limit_in_bytes` under the memory
//!   controller (a limit near `u64::MAX` = none);
//! - host: `MemTotal - MemAvailable` / `MemTotal` from `/proc/meminfo`.
//!
//! Every path is relative to a root directory so tests can point it at fixture files.

use std::fs;
use std::path::{Path, PathBuf};

/// Where a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemorySource {
    CgroupV2,
    CgroupV1,
    Host,
}

/// Used and available bytes at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryReading {
    pub used: u64,
    pub limit: u64,
    pub source: MemorySource,
}

impl MemoryReading {
    /// Fraction of the limit in use, 0.0–1.0 (clamped).
    pub fn pressure(&self) -> f64 {
        if self.limit == 0 {
            return 0.0;
        }
        (self.used as f64 / self.limit as f64).clamp(0.0, 1.0)
    }
}

/// Reads memory use from a filesystem root (`/` in production).
#[derive(Debug, Clone)]
pub struct MemoryProbe {
    root: PathBuf,
}

impl Default for MemoryProbe {
    fn default() -> Self {
        Self::new("/")
    }
}

/// Limits at or above this are "no limit" (cgroup v1 writes PAGE_COUNTER_MAX * page size).
const UNLIMITED: u64 = 1 << 60;

impl MemoryProbe {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    /// The tightest applicable reading: a limited cgroup, else the host. `None` only when
    /// not even `/proc/meminfo` can be read.
    pub fn read(&self) -> Option<MemoryReading> {
        self.cgroup_v2()
            .or_else(|| self.cgroup_v1())
            .or_else(|| self.host())
    }

    /// The cgroup path of this process for a controller ("" for v2's unified line).
    fn own_cgroup(&self, v1_controller: Option<&str>) -> Option<String> {
        let text = fs::read_to_string(self.path("proc/self/cgroup")).ok()?;
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            match v1_controller {
                None if controllers.is_empty() => return Some(path.to_string()),
                Some(c) if controllers.split(',').any(|x| x == c) => {
                    return Some(path.to_string());
                }
                _ => {}
            }
        }
        None
    }

    fn cgroup_v2(&self) -> Option<MemoryReading> {
        let rel = self.own_cgroup(None).unwrap_or_else(|| "/".into());
        // Walk up from our cgroup: a limit may be set on an ancestor (e.g. the container's
        // root) while our leaf says `max`.
        let base = self.path("sys/fs/cgroup");
        let mut dir = base.join(rel.trim_start_matches('/'));
        loop {
            if let (Some(current), Some(max)) = (
                read_u64(&dir.join("memory.current")),
                read_limit(&dir.join("memory.max")),
            ) && max < UNLIMITED
            {
                return Some(MemoryReading {
                    used: current,
                    limit: max,
                    source: MemorySource::CgroupV2,
                });
            }
            if dir == base || !dir.pop() || !dir.starts_with(&base) {
                return None;
            }
        }
    }

    fn cgroup_v1(&self) -> Option<MemoryReading> {
        let rel = self
            .own_cgroup(Some("memory"))
            .unwrap_or_else(|| "/".into());
        let base = self.path("sys/fs/cgroup/memory");
        for dir in [base.join(rel.trim_start_matches('/')), base.clone()] {
            if let (Some(used), Some(limit)) = (
                read_u64(&dir.join("memory.usage_in_bytes")),
                read_limit(&dir.join("memory.limit_in_bytes")),
            ) && limit < UNLIMITED
            {
                return Some(MemoryReading {
                    used,
                    limit,
                    source: MemorySource::CgroupV1,
                });
            }
        }
        None
    }

    fn host(&self) -> Option<MemoryReading> {
        let text = fs::read_to_string(self.path("proc/meminfo")).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = text.lines().find(|l| l.starts_with(name))?;
            Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
        };
        let total = field("MemTotal:")?;
        let available = field("MemAvailable:")?;
        Some(MemoryReading {
            used: total.saturating_sub(available),
            limit: total,
            source: MemorySource::Host,
        })
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_limit(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    match text.trim() {
        "max" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str) -> Self {
            let root =
                std::env::temp_dir().join(format!("gannet-mem-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(&root).unwrap();
            Self(root)
        }
        fn file(&self, rel: &str, text: &str) -> &Self {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
            self
        }
        fn probe(&self) -> MemoryProbe {
            MemoryProbe::new(&self.0)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const MEMINFO: &str =
        "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   18000000 kB\n";

    #[test]
    fn cgroup_v2_limit_of_own_group() {
        let f = Fixture::new("v2");
        f.file("proc/self/cgroup", "0::/system.slice/gannet.service\n")
            .file(
                "sys/fs/cgroup/system.slice/gannet.service/memory.current",
                "536870912\n",
            )
            .file(
                "sys/fs/cgroup/system.slice/gannet.service/memory.max",
                "2147483648\n",
            )
            .file("proc/meminfo", MEMINFO);
        let r = f.probe().read().unwrap();
        assert_eq!(r.source, MemorySource::CgroupV2);
        assert_eq!((r.used, r.limit), (536_870_912, 2_147_483_648));
        assert!((r.pressure() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn cgroup_v2_limit_set_on_an_ancestor() {
        let f = Fixture::new("v2-ancestor");
        f.file("proc/self/cgroup", "0::/pod/leaf\n")
            .file("sys/fs/cgroup/pod/leaf/memory.current", "100\n")
            .file("sys/fs/cgroup/pod/leaf/memory.max", "max\n")
            .file("sys/fs/cgroup/pod/memory.current", "300\n")
            .file("sys/fs/cgroup/pod/memory.max", "1000\n");
        let r = f.probe().read().unwrap();
        assert_eq!(
            (r.used, r.limit, r.source),
            (300, 1000, MemorySource::CgroupV2)
        );
    }

    #[test]
    fn cgroup_v2_unlimited_falls_back_to_the_host() {
        let f = Fixture::new("v2-max");
        f.file("proc/self/cgroup", "0::/\n")
            .file("sys/fs/cgroup/memory.current", "123\n")
            .file("sys/fs/cgroup/memory.max", "max\n")
            .file("proc/meminfo", MEMINFO);
        let r = f.probe().read().unwrap();
        assert_eq!(r.source, MemorySource::Host);
        assert_eq!(r.limit, 24_000_000 * 1024);
        assert_eq!(r.used, 6_000_000 * 1024);
    }

    #[test]
    fn cgroup_v1_limit() {
        let f = Fixture::new("v1");
        f.file(
            "proc/self/cgroup",
            "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n",
        )
        .file(
            "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes",
            "750\n",
        )
        .file(
            "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
            "1000\n",
        )
        .file("proc/meminfo", MEMINFO);
        let r = f.probe().read().unwrap();
        assert_eq!(
            (r.used, r.limit, r.source),
            (750, 1000, MemorySource::CgroupV1)
        );
        assert!((r.pressure() - 0.75).abs() < 1e-9);
    }

    #[test]
    fn cgroup_v1_unlimited_falls_back_to_the_host() {
        let f = Fixture::new("v1-unlimited");
        f.file("proc/self/cgroup", "4:memory:/\n")
            .file("sys/fs/cgroup/memory/memory.usage_in_bytes", "750\n")
            .file(
                "sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            )
            .file("proc/meminfo", MEMINFO);
        assert_eq!(f.probe().read().unwrap().source, MemorySource::Host);
    }

    #[test]
    fn missing_cgroup_files_use_the_host_and_nothing_gives_none() {
        let f = Fixture::new("missing");
        assert_eq!(f.probe().read(), None);
        f.file("proc/meminfo", MEMINFO);
        assert_eq!(f.probe().read().unwrap().source, MemorySource::Host);
        // Garbage in the files is ignored, not a panic.
        f.file("proc/self/cgroup", "nonsense")
            .file("sys/fs/cgroup/memory.current", "lots\n")
            .file("sys/fs/cgroup/memory.max", "-1\n");
        assert_eq!(f.probe().read().unwrap().source, MemorySource::Host);
    }

    #[test]
    fn this_machine_gives_a_reading() {
        let r = MemoryProbe::default().read().unwrap();
        assert!(r.limit > 0 && r.pressure() <= 1.0);
    }
}
