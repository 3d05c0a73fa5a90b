//! Which discovered URLs a crawl follows: the scope around its seeds, `--include` /
//! `--exclude` patterns, depth, and guards against spider traps (endless calendars,
//! session ids in paths, relative-link loops like `/a/b/a/b/...`, query explosions).

use regex::RegexSet;
use std::fmt;
use url::Url;

/// How far from its seeds a crawl may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeKind {
    /// The seeds' hosts (a leading `www.` ignored).
    #[default]
    Host,
    /// The seeds' registrable domains (`docs.example.co.uk` → `example.co.uk`), public
    /// suffix list compiled in.
    Domain,
    /// URLs that start with a seed's directory (`https://h/docs/intro.html` → `https://h/docs/`).
    Prefix,
    /// Anything reachable.
    Any,
}

/// Limits that stop a crawl from following spider traps. Defaults are generous for real
/// sites and stop generated URL spaces long before they hurt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapLimits {
    /// Longest URL followed, in bytes (default 2048).
    pub max_url_len: usize,
    /// Most path segments (default 32).
    pub max_path_segments: usize,
    /// A path where one segment occurs this many times is a loop (default 3: `/a/b/a/b/a`).
    pub max_segment_repeats: usize,
    /// Most query parameters (default 24).
    pub max_query_params: usize,
}

impl Default for TrapLimits {
    fn default() -> Self {
        TrapLimits {
            max_url_len: 2048,
            max_path_segments: 32,
            max_segment_repeats: 3,
            max_query_params: 24,
        }
    }
}

/// Scope settings, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ScopeConfig {
    /// Scope around the seeds.
    pub kind: ScopeKind,
    /// Regexes a discovered URL must match one of (none: all).
    pub include: Vec<String>,
    /// Regexes a discovered URL must match none of.
    pub exclude: Vec<String>,
    /// Deepest link depth followed (seeds are depth 0); `None`: unbounded.
    pub max_depth: Option<u32>,
    /// Trap guards.
    pub traps: TrapLimits,
}

/// Why a URL is not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// Outside the scope of the seeds.
    OutOfScope,
    /// Matches an `--exclude` pattern.
    Excluded,
    /// Matches no `--include` pattern.
    NotIncluded,
    /// Deeper than `--max-depth`.
    TooDeep,
    /// A likely spider trap (which guard, in the message).
    Trap(&'static str),
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::OutOfScope => f.write_str("out of scope"),
            Reject::Excluded => f.write_str("excluded by --exclude"),
            Reject::NotIncluded => f.write_str("not matched by --include"),
            Reject::TooDeep => f.write_str("deeper than --max-depth"),
            Reject::Trap(what) => write!(f, "spider trap guard: {what}"),
        }
    }
}

/// A bad `--include`/`--exclude` pattern. Its message is one line (`invalid --include
/// pattern '(': unclosed group`), fit for a command-line error.
#[derive(Debug, thiserror::Error)]
#[error("invalid {flag} pattern{}", one_line(.source))]
pub struct ScopeError {
    flag: &'static str,
    #[source]
    source: regex::Error,
}

/// A regex error on one line: its syntax errors draw the pattern and a caret over several
/// lines (`regex parse error:\n    (\n    ^\nerror: unclosed group`); keep the pattern's
/// first line and what is wrong.
fn one_line(error: &regex::Error) -> String {
    let text = error.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let what = lines.iter().rev().find_map(|l| l.strip_prefix("error: "));
    match (lines.get(1), what) {
        (Some(pattern), Some(what)) if lines.len() > 2 => format!(" '{pattern}': {what}"),
        _ => format!(": {}", lines.join(" ")),
    }
}

/// The compiled scope of one crawl.
#[derive(Debug, Clone)]
pub struct Scope {
    kind: ScopeKind,
    /// Host (without `www.`), registrable domain or prefix of each seed, per `kind`.
    anchors: Vec<String>,
    include: Option<RegexSet>,
    exclude: Option<RegexSet>,
    max_depth: Option<u32>,
    traps: TrapLimits,
}

impl Scope {
    /// Compiles the scope of a crawl from its seeds (canonical URLs) and settings.
    pub fn new(seeds: &[Url], config: &ScopeConfig) -> Result<Scope, ScopeError> {
        let set = |flag, patterns: &[String]| {
            if patterns.is_empty() {
                return Ok(None);
            }
            RegexSet::new(patterns)
                .map(Some)
                .map_err(|source| ScopeError { flag, source })
        };
        let mut anchors: Vec<String> = seeds
            .iter()
            .filter_map(|seed| anchor(config.kind, seed))
            .collect();
        anchors.sort();
        anchors.dedup();
        Ok(Scope {
            kind: config.kind,
            anchors,
            include: set("--include", &config.include)?,
            exclude: set("--exclude", &config.exclude)?,
            max_depth: config.max_depth,
            traps: config.traps,
        })
    }

    /// Whether a URL discovered at link depth `depth` is followed.
    pub fn check(&self, url: &Url, depth: u32) -> Result<(), Reject> {
        if self.max_depth.is_some_and(|max| depth > max) {
            return Err(Reject::TooDeep);
        }
        if self.kind != ScopeKind::Any {
            let Some(mine) = anchor(self.kind, url) else {
                return Err(Reject::OutOfScope);
            };
            let inside = match self.kind {
                ScopeKind::Prefix => self
                    .anchors
                    .iter()
                    .any(|prefix| url.as_str().starts_with(prefix.as_str())),
                _ => self.anchors.binary_search(&mine).is_ok(),
            };
            if !inside {
                return Err(Reject::OutOfScope);
            }
        }
        self.check_traps(url)?;
        if self
            .exclude
            .as_ref()
            .is_some_and(|set| set.is_match(url.as_str()))
        {
            return Err(Reject::Excluded);
        }
        if self
            .include
            .as_ref()
            .is_some_and(|set| !set.is_match(url.as_str()))
        {
            return Err(Reject::NotIncluded);
        }
        Ok(())
    }

    fn check_traps(&self, url: &Url) -> Result<(), Reject> {
        let t = &self.traps;
        if url.as_str().len() > t.max_url_len {
            return Err(Reject::Trap("URL too long"));
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if segments.len() > t.max_path_segments {
            return Err(Reject::Trap("path too deep"));
        }
        if segments.len() >= t.max_segment_repeats {
            let mut sorted = segments.clone();
            sorted.sort_unstable();
            let repeats = sorted
                .chunk_by(|a, b| a == b)
                .map(<[&str]>::len)
                .max()
                .unwrap_or(0);
            if repeats >= t.max_segment_repeats {
                return Err(Reject::Trap("repeated path segments"));
            }
        }
        if let Some(query) = url.query()
            && query.split('&').filter(|p| !p.is_empty()).count() > t.max_query_params
        {
            return Err(Reject::Trap("too many query parameters"));
        }
        Ok(())
    }
}

/// What a URL is compared by under `kind`.
fn anchor(kind: ScopeKind, url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    match kind {
        ScopeKind::Host => Some(host.to_owned()),
        ScopeKind::Domain => Some(
            psl::domain_str(host)
                .map(str::to_owned)
                // IP addresses and single-label hosts are their own domain.
                .unwrap_or_else(|| host.to_owned()),
        ),
        ScopeKind::Prefix => {
            let s = url.as_str();
            let path_start = s.len() - url[url::Position::BeforePath..].len();
            let dir_end = url.path().rfind('/').map_or(0, |i| i + 1);
            Some(s[..path_start + dir_end].to_owned())
        }
        ScopeKind::Any => Some(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn scope(kind: ScopeKind, seeds: &[&str]) -> Scope {
        let seeds: Vec<Url> = seeds.iter().map(|s| u(s)).collect();
        Scope::new(
            &seeds,
            &ScopeConfig {
                kind,
                ..ScopeConfig::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn host_scope_ignores_www_and_port_is_part_of_nothing_else() {
        let s = scope(ScopeKind::Host, &["https://www.example.com/start"]);
        assert_eq!(s.check(&u("http://example.com/x"), 1), Ok(()));
        assert_eq!(
            s.check(&u("https://docs.example.com/x"), 1),
            Err(Reject::OutOfScope)
        );
    }

    #[test]
    fn domain_scope_uses_the_public_suffix_list() {
        let s = scope(ScopeKind::Domain, &["https://docs.example.co.uk/"]);
        assert_eq!(s.check(&u("https://shop.example.co.uk/"), 1), Ok(()));
        assert_eq!(
            s.check(&u("https://other.co.uk/"), 1),
            Err(Reject::OutOfScope)
        );
        let ip = scope(ScopeKind::Domain, &["http://127.0.0.1:8080/"]);
        assert_eq!(ip.check(&u("http://127.0.0.1:8080/a"), 1), Ok(()));
    }

    #[test]
    fn prefix_scope_is_the_seed_directory() {
        let s = scope(ScopeKind::Prefix, &["https://h/docs/intro.html"]);
        assert_eq!(s.check(&u("https://h/docs/a/b.html"), 1), Ok(()));
        assert_eq!(s.check(&u("https://h/blog/"), 1), Err(Reject::OutOfScope));
    }

    #[test]
    fn include_exclude_and_depth() {
        let seeds = [u("https://h/")];
        let s = Scope::new(
            &seeds,
            &ScopeConfig {
                include: vec!["/docs/".into()],
                exclude: vec![r"\.pdf$".into()],
                max_depth: Some(2),
                ..ScopeConfig::default()
            },
        )
        .unwrap();
        assert_eq!(s.check(&u("https://h/docs/a"), 1), Ok(()));
        assert_eq!(
            s.check(&u("https://h/docs/a.pdf"), 1),
            Err(Reject::Excluded)
        );
        assert_eq!(s.check(&u("https://h/blog"), 1), Err(Reject::NotIncluded));
        assert_eq!(s.check(&u("https://h/docs/a"), 3), Err(Reject::TooDeep));
        let bad = ScopeConfig {
            include: vec!["(".into()],
            ..ScopeConfig::default()
        };
        let err = Scope::new(&seeds, &bad).unwrap_err().to_string();
        assert_eq!(err, "invalid --include pattern '(': unclosed group");
    }

    #[test]
    fn trap_guards() {
        let s = scope(ScopeKind::Any, &["https://h/"]);
        let long = format!("https://h/{}", "a".repeat(3000));
        assert!(matches!(s.check(&u(&long), 1), Err(Reject::Trap(_))));
        assert!(matches!(
            s.check(&u("https://h/a/b/a/b/a/b"), 1),
            Err(Reject::Trap("repeated path segments"))
        ));
        let deep = format!(
            "https://h/{}",
            (0..40).map(|i| format!("s{i}/")).collect::<String>()
        );
        assert!(matches!(s.check(&u(&deep), 1), Err(Reject::Trap(_))));
        let query = format!(
            "https://h/?{}",
            (0..30).map(|i| format!("p{i}=1&")).collect::<String>()
        );
        assert!(matches!(s.check(&u(&query), 1), Err(Reject::Trap(_))));
        assert_eq!(s.check(&u("https://h/2024/01/01/post"), 1), Ok(()));
    }
}
