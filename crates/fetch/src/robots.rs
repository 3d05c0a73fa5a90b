//! robots.txt per RFC 9309: the rules for gannet's product token, and what to do when the
//! file cannot be had.
//!
//! Parsing and matching are `texting_robots`'s: groups are chosen by a case-insensitive match
//! of the product token [`PRODUCT_TOKEN`] (`gannet`), repeated groups for it are merged, and
//! the `*` group is the fallback; the longest matching rule wins and `Allow` wins ties; `*`
//! and `$` work as in §2.2.3. This module adds the status rules of §2.3.1:
//!
//! | outcome of `GET /robots.txt` | rules |
//! | --- | --- |
//! | 2xx | the body's rules (only its first [`MAX_ROBOTS_BYTES`] are parsed, cut at a line end) |
//! | 3xx | followed, up to [`ROBOTS_MAX_REDIRECTS`], even to another host; a longer chain or a loop is "unavailable": allow all (§2.3.1.2) |
//! | 4xx except 429 | "unavailable": allow all (§2.3.1.3) |
//! | 429, 5xx | "unreachable": disallow all (§2.3.1.4; 429 as Google and Nutch do) |
//! | network error, timeout | "unreachable": disallow all |
//! | refused by the address guard (the origin or a redirect hop) | disallow all, as unreachable |
//!
//! Caching (at most 24 h, §2.4) is the engine's job: it keys a [`Robots`] by scheme and
//! authority and stamps it with the time it called [`Fetcher::fetch_robots`].

use crate::config::ContentGate;
use crate::error::FetchError;
use crate::error::FetchErrorKind;
use crate::fetcher::{FetchedPage, Fetcher, RequestOptions};
use bytes::Bytes;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The product token gannet looks for in `User-agent` lines.
pub const PRODUCT_TOKEN: &str = "gannet";

/// How much of a robots.txt body is parsed: 500 KiB, the minimum RFC 9309 §2.5 asks for.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// How many redirects a robots.txt fetch follows (RFC 9309 §2.3.1.2 asks for at least five).
pub const ROBOTS_MAX_REDIRECTS: usize = 5;

/// The parsed robots.txt rules of one origin, for gannet.
///
/// Cheap to clone (the rules are shared).
#[derive(Clone)]
pub struct Robots {
    rules: Rules,
    crawl_delay: Option<Duration>,
    sitemaps: Vec<Url>,
}

#[derive(Clone)]
enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Arc<texting_robots::Robot>),
}

impl fmt::Debug for Robots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules = match &self.rules {
            Rules::AllowAll => "allow all",
            Rules::DisallowAll => "disallow all",
            Rules::Parsed(_) => "parsed",
        };
        f.debug_struct("Robots")
            .field("rules", &rules)
            .field("crawl_delay", &self.crawl_delay)
            .field("sitemaps", &self.sitemaps)
            .finish()
    }
}

impl Robots {
    /// No restrictions (robots.txt unavailable: 4xx).
    pub fn allow_all() -> Robots {
        Robots {
            rules: Rules::AllowAll,
            crawl_delay: None,
            sitemaps: Vec::new(),
        }
    }

    /// Nothing but `/robots.txt` may be fetched (robots.txt unreachable: 5xx, 429, network
    /// errors).
    pub fn disallow_all() -> Robots {
        Robots {
            rules: Rules::DisallowAll,
            crawl_delay: None,
            sitemaps: Vec::new(),
        }
    }

    /// Parses a robots.txt body for [`PRODUCT_TOKEN`]. Only the first [`MAX_ROBOTS_BYTES`]
    /// are read, cut back to the last line end so that no rule is cut short. Lines that cannot
    /// be parsed are skipped; this never fails.
    pub fn parse(body: &[u8]) -> Robots {
        let body = truncate_at_line(body, MAX_ROBOTS_BYTES);
        let robot = match texting_robots::Robot::new(PRODUCT_TOKEN, body) {
            Ok(robot) => robot,
            // A rule the matcher refuses (a pattern too complex for its regex limits) fails
            // the whole file: drop such lines and use the rest (RFC 9309 §2.2: use what
            // can be parsed).
            Err(_) => match texting_robots::Robot::new(PRODUCT_TOKEN, &drop_bad_rules(body)) {
                Ok(robot) => robot,
                Err(_) => return Robots::allow_all(),
            },
        };
        let crawl_delay = robot
            .delay
            .and_then(|secs| Duration::try_from_secs_f32(secs).ok());
        let sitemaps = robot
            .sitemaps
            .iter()
            .filter_map(|s| Url::parse(s.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .collect();
        Robots {
            rules: Rules::Parsed(Arc::new(robot)),
            crawl_delay,
            sitemaps,
        }
    }

    /// True when gannet may fetch `url`: its path and query are matched against the rules
    /// (the fragment is ignored). `/robots.txt` itself is always allowed.
    pub fn allowed(&self, url: &Url) -> bool {
        if url.path() == "/robots.txt" {
            return true;
        }
        match &self.rules {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => {
                let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
                robot.allowed(if target.is_empty() { "/" } else { target })
            }
        }
    }

    /// The `Crawl-delay` of gannet's group (or the `*` group), if any. Not part of RFC 9309;
    /// the caller clamps it.
    pub fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }

    /// The `Sitemap:` URLs of the file (they belong to no group), absolute http/https only.
    pub fn sitemaps(&self) -> &[Url] {
        &self.sitemaps
    }

    /// True when every path but `/robots.txt` is disallowed because the file was unreachable.
    pub fn is_disallow_all(&self) -> bool {
        matches!(self.rules, Rules::DisallowAll)
    }
}

/// What fetching a robots.txt came to, for [`robots_from_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RobotsOutcome {
    /// A 2xx response with this body (after redirects and decompression).
    Body(Bytes),
    /// The final response had this non-2xx status.
    Status(u16),
    /// The redirect chain was too long, looped, or led somewhere unusable.
    RedirectFailure,
    /// No response: DNS, connection, TLS or I/O failure, or a timeout.
    Unreachable,
}

impl RobotsOutcome {
    /// Sorts the result of a fetch of robots.txt into an outcome.
    pub fn from_fetch(result: Result<FetchedPage, FetchError>) -> RobotsOutcome {
        let error = match result {
            Ok(page) => return RobotsOutcome::Body(page.body),
            Err(error) => error,
        };
        match error.kind() {
            FetchErrorKind::HttpStatus(code) => RobotsOutcome::Status(*code),
            // The address guard refused the origin or a hop: the rules cannot be read, so
            // nothing is allowed (and the origin's pages would be refused anyway).
            FetchErrorKind::ForbiddenAddress(_) => RobotsOutcome::Unreachable,
            FetchErrorKind::TooManyRedirects(_)
            | FetchErrorKind::RedirectLoop(_)
            | FetchErrorKind::InvalidUrl(_)
            | FetchErrorKind::UnsupportedScheme(_) => RobotsOutcome::RedirectFailure,
            // A refused type or an oversized body cannot happen with the robots limits (any
            // type, truncation); count them with the network failures, to be safe.
            _ => RobotsOutcome::Unreachable,
        }
    }
}

impl RobotsOutcome {
    /// The outcome as a robots.txt body that parses to the same rules, for a cache shared
    /// between workers: a 2xx body as it is (lossily UTF-8: the rules are ASCII), and the
    /// "unavailable" outcomes (4xx, a failed redirect chain), which allow everything, as an
    /// empty body. `None` for the "unreachable" outcomes (429, 5xx, no response): they
    /// disallow everything only until the origin is asked again, so they are not shared.
    pub fn shareable_body(&self) -> Option<String> {
        match self {
            RobotsOutcome::Body(body) => Some(String::from_utf8_lossy(body).into_owned()),
            RobotsOutcome::Status(429) => None,
            RobotsOutcome::Status(code) if *code >= 500 => None,
            RobotsOutcome::Status(_) | RobotsOutcome::RedirectFailure => Some(String::new()),
            RobotsOutcome::Unreachable => None,
        }
    }
}

/// The rules RFC 9309 §2.3.1 assigns to an outcome (see the table in the module docs).
pub fn robots_from_response(outcome: RobotsOutcome) -> Robots {
    match outcome {
        RobotsOutcome::Body(body) => Robots::parse(&body),
        RobotsOutcome::Status(429) => Robots::disallow_all(),
        RobotsOutcome::Status(code) if code >= 500 => Robots::disallow_all(),
        // 4xx: unavailable. 3xx here had no usable Location, and 1xx/2xx cannot reach this
        // variant through a fetch; all count as unavailable.
        RobotsOutcome::Status(_) => Robots::allow_all(),
        RobotsOutcome::RedirectFailure => Robots::allow_all(),
        RobotsOutcome::Unreachable => Robots::disallow_all(),
    }
}

/// The URL of the robots.txt that governs `url`: `{scheme}://{authority}/robots.txt`
/// (user info, path, query and fragment dropped). `None` for a URL that is not http(s).
pub fn robots_url(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let mut robots = url.clone();
    robots.set_username("").ok()?;
    robots.set_password(None).ok()?;
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    Some(robots)
}

impl Fetcher {
    /// Fetches and parses the robots.txt of `origin`'s scheme and authority (any URL of the
    /// origin will do), applying the status rules of RFC 9309.
    ///
    /// Any content type is accepted (robots.txt served as `text/html` is still parsed), at
    /// most [`MAX_ROBOTS_BYTES`] are read, and up to [`ROBOTS_MAX_REDIRECTS`] redirects are
    /// followed to any host. This never fails: a URL that is not http(s) gets
    /// [`Robots::disallow_all`]. Nothing is cached here.
    pub async fn fetch_robots(&self, origin: &Url) -> Robots {
        robots_from_response(self.fetch_robots_outcome(origin).await)
    }

    /// Fetches the robots.txt of `origin` as [`Fetcher::fetch_robots`] does, returning what
    /// the fetch came to rather than the rules, for a caller that shares the result (a
    /// distributed crawl stores the body for the other workers). A URL that is not http(s)
    /// is [`RobotsOutcome::Unreachable`].
    pub async fn fetch_robots_outcome(&self, origin: &Url) -> RobotsOutcome {
        let Some(url) = robots_url(origin) else {
            return RobotsOutcome::Unreachable;
        };
        let options = RequestOptions {
            gate: &ContentGate::Any,
            max_body_bytes: MAX_ROBOTS_BYTES as u64,
            truncate_body: true,
            max_redirects: ROBOTS_MAX_REDIRECTS,
        };
        let result = self.fetch_with(&url, &options).await;
        RobotsOutcome::from_fetch(result)
    }
}

/// The first `max` bytes of `body`, cut back to just after the last line end within them
/// (all of `body` when it is shorter).
fn truncate_at_line(body: &[u8], max: usize) -> &[u8] {
    if body.len() <= max {
        return body;
    }
    let head = body.get(..max).unwrap_or(body);
    match head.iter().rposition(|&b| b == b'\n' || b == b'\r') {
        Some(end) => head.get(..=end).unwrap_or(head),
        None => head,
    }
}

/// `body` without the `Allow`/`Disallow` lines the matcher cannot compile on their own.
fn drop_bad_rules(body: &[u8]) -> Vec<u8> {
    let mut kept = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|&b| b == b'\n') {
        let rule = texting_robots::Robot::new(PRODUCT_TOKEN, line);
        if rule.is_ok() {
            kept.extend_from_slice(line);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &str) -> Url {
        Url::parse(&format!("http://example.com{path}")).unwrap()
    }

    fn allowed(robots: &Robots, path: &str) -> bool {
        robots.allowed(&url(path))
    }

    #[test]
    fn longest_match_wins() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n");
        assert!(allowed(&r, "/"));
        assert!(!allowed(&r, "/a"));
        assert!(allowed(&r, "/a/b"));
        assert!(allowed(&r, "/a/bx"));
        assert!(!allowed(&r, "/a/b/c"));
        assert!(!allowed(&r, "/a/b/c/d"));
    }

    #[test]
    fn allow_wins_ties() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /page\nAllow: /page\n");
        assert!(allowed(&r, "/page"));
        let r = Robots::parse(b"User-agent: *\nAllow: /page\nDisallow: /page\n");
        assert!(allowed(&r, "/page"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /*.pdf$\nDisallow: /private*/x\n");
        assert!(!allowed(&r, "/docs/a.pdf"));
        assert!(allowed(&r, "/docs/a.pdf?download=1"));
        assert!(allowed(&r, "/docs/a.pdfx"));
        assert!(!allowed(&r, "/private-stuff/x"));
        assert!(!allowed(&r, "/private/y/x"));
        assert!(allowed(&r, "/privat/x"));
        let r = Robots::parse(b"User-agent: *\nDisallow: /\nAllow: /$\n");
        assert!(allowed(&r, "/"));
        assert!(!allowed(&r, "/a"));
    }

    #[test]
    fn query_is_matched() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /search?q=\nDisallow: /*?sessionid\n");
        assert!(allowed(&r, "/search"));
        assert!(!allowed(&r, "/search?q=birds"));
        assert!(!allowed(&r, "/x?sessionid=1"));
        assert!(allowed(&r, "/x#sessionid"));
    }

    #[test]
    fn groups_for_gannet_are_merged() {
        let text = b"User-agent: gannet\nDisallow: /a\n\nUser-agent: other\nDisallow: /b\n\n\
User-agent: gannet\nDisallow: /c\n\nUser-agent: *\nDisallow: /d\n";
        let r = Robots::parse(text);
        assert!(!allowed(&r, "/a"));
        assert!(allowed(&r, "/b"));
        assert!(!allowed(&r, "/c"));
        // A gannet group exists, so the `*` group does not apply.
        assert!(allowed(&r, "/d"));
    }

    #[test]
    fn agent_match_is_case_insensitive_and_groups_share_rules() {
        let r = Robots::parse(b"User-agent: other\nUser-agent: GANNET\nDisallow: /x\n");
        assert!(!allowed(&r, "/x"));
        let r = Robots::parse(b"User-Agent: Gannet\nDisallow: /y\n");
        assert!(!allowed(&r, "/y"));
    }

    #[test]
    fn falls_back_to_star() {
        let r =
            Robots::parse(b"User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n");
        assert!(allowed(&r, "/"));
        assert!(!allowed(&r, "/tmp/a"));
        let r = Robots::parse(b"User-agent: googlebot\nDisallow: /\n");
        assert!(allowed(&r, "/anything"));
    }

    #[test]
    fn percent_encoding_equivalence() {
        // A UTF-8 rule matches the percent-encoded form the URL parser produces, and an
        // encoded rule matches the same path.
        let r = Robots::parse("User-agent: *\nDisallow: /café\n".as_bytes());
        assert!(!allowed(&r, "/café"));
        assert!(!allowed(&r, "/caf%C3%A9"));
        let r = Robots::parse(b"User-agent: *\nDisallow: /caf%C3%A9\n");
        assert!(!allowed(&r, "/café"));
        assert!(allowed(&r, "/cafe"));
    }

    #[test]
    fn robots_txt_is_always_allowed() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /\n");
        assert!(!allowed(&r, "/"));
        assert!(allowed(&r, "/robots.txt"));
        assert!(Robots::disallow_all().allowed(&url("/robots.txt")));
        assert!(!Robots::disallow_all().allowed(&url("/")));
    }

    #[test]
    fn empty_disallow_and_empty_file_allow_all() {
        assert!(allowed(&Robots::parse(b"User-agent: *\nDisallow:\n"), "/x"));
        assert!(allowed(&Robots::parse(b""), "/x"));
        assert!(allowed(&Robots::parse(b"\xFF\xFE garbage \x00\x01"), "/x"));
    }

    #[test]
    fn crawl_delay_and_sitemaps() {
        let text = b"Sitemap: https://example.com/s.xml\nSitemap: /relative.xml\n\
Sitemap: ftp://example.com/s.xml\nUser-agent: gannet\nCrawl-delay: 2.5\nDisallow:\n";
        let r = Robots::parse(text);
        assert_eq!(r.crawl_delay(), Some(Duration::from_millis(2500)));
        assert_eq!(
            r.sitemaps(),
            &[Url::parse("https://example.com/s.xml").unwrap()]
        );
        assert_eq!(
            Robots::parse(b"User-agent: *\nDisallow: /\n").crawl_delay(),
            None
        );
    }

    #[test]
    fn only_the_first_500_kib_are_parsed_cut_at_a_line() {
        let mut text = b"User-agent: *\n".to_vec();
        while text.len() < MAX_ROBOTS_BYTES - 20 {
            text.extend_from_slice(b"# filler filler filler filler\n");
        }
        // This rule straddles the cap: it must be dropped, not cut to `Allow: /`.
        text.extend_from_slice(b"Disallow: /private/deep/path/beyond/the/cap\n");
        text.extend_from_slice(b"Disallow: /later\n");
        let r = Robots::parse(&text);
        assert!(allowed(&r, "/private/deep/path/beyond/the/cap"));
        assert!(allowed(&r, "/later"));
        let cut = truncate_at_line(&text, MAX_ROBOTS_BYTES);
        assert!(cut.len() <= MAX_ROBOTS_BYTES && cut.ends_with(b"\n"));
    }

    #[test]
    fn status_rules() {
        let body = |t: &'static str| RobotsOutcome::Body(Bytes::from_static(t.as_bytes()));
        let r = robots_from_response(body("User-agent: *\nDisallow: /x\n"));
        assert!(!allowed(&r, "/x") && allowed(&r, "/y"));
        for code in [400, 401, 403, 404, 410, 451] {
            let r = robots_from_response(RobotsOutcome::Status(code));
            assert!(allowed(&r, "/x"), "{code}");
        }
        for code in [429, 500, 502, 503, 504, 599] {
            let r = robots_from_response(RobotsOutcome::Status(code));
            assert!(!allowed(&r, "/x"), "{code}");
            assert!(r.is_disallow_all());
        }
        assert!(!allowed(
            &robots_from_response(RobotsOutcome::Unreachable),
            "/x"
        ));
        assert!(allowed(
            &robots_from_response(RobotsOutcome::RedirectFailure),
            "/x"
        ));
    }

    #[test]
    fn a_shared_body_parses_to_the_same_rules_and_unreachable_is_not_shared() {
        let outcomes = [
            RobotsOutcome::Body(Bytes::from_static(b"User-agent: *\nDisallow: /x\n")),
            RobotsOutcome::Body(Bytes::from_static(b"User-agent: *\nDisallow: /\n")),
            RobotsOutcome::Status(404),
            RobotsOutcome::Status(403),
            RobotsOutcome::RedirectFailure,
        ];
        for outcome in outcomes {
            let shared = outcome.shareable_body().expect("shareable");
            let direct = robots_from_response(outcome.clone());
            let again = Robots::parse(shared.as_bytes());
            for path in ["/x", "/y", "/"] {
                assert_eq!(
                    allowed(&direct, path),
                    allowed(&again, path),
                    "{outcome:?} {path}"
                );
            }
        }
        for outcome in [
            RobotsOutcome::Status(429),
            RobotsOutcome::Status(503),
            RobotsOutcome::Unreachable,
        ] {
            assert_eq!(outcome.shareable_body(), None, "{outcome:?}");
        }
    }

    #[test]
    fn outcome_of_fetch_errors() {
        let u = url("/robots.txt");
        let err = |kind| Err(FetchError::new(u.clone(), kind));
        assert_eq!(
            RobotsOutcome::from_fetch(err(FetchErrorKind::HttpStatus(404))),
            RobotsOutcome::Status(404)
        );
        assert_eq!(
            RobotsOutcome::from_fetch(err(FetchErrorKind::TooManyRedirects(5))),
            RobotsOutcome::RedirectFailure
        );
        assert_eq!(
            RobotsOutcome::from_fetch(err(FetchErrorKind::Timeout(crate::TimeoutPhase::Headers))),
            RobotsOutcome::Unreachable
        );
        assert_eq!(
            RobotsOutcome::from_fetch(err(FetchErrorKind::Dns("nx".into()))),
            RobotsOutcome::Unreachable
        );
    }

    #[test]
    fn robots_url_of_an_origin() {
        let u = Url::parse("https://user:pw@example.com:8443/a/b?c#d").unwrap();
        assert_eq!(
            robots_url(&u).unwrap().as_str(),
            "https://example.com:8443/robots.txt"
        );
        assert_eq!(robots_url(&Url::parse("ftp://example.com/").unwrap()), None);
    }
}
