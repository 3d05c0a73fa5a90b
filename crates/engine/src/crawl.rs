//! The crawl loop: leases due hosts from the frontier, keeps per-host politeness, runs
//! workers within the global and per-host limits, and ends when nothing is left (or a
//! limit or a signal says stop).

use crate::config::CrawlConfig;
use crate::politeness::{Signal, Throttle};
use crate::stats::Stats;
use crate::store::{StoreFailure, StoreHandle};
use crate::worker::{self, HostSlot, Job, Shared, Verdict};
use gannet_fetch::{Fetcher, Robots, robots_from_response};
use gannet_frontier::{Claimed, HostKey, HostLease, NewUrl, Scope, canonicalize, origin_key};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use url::Url;

/// How long a robots.txt is trusted (RFC 9309 §2.4: at most 24 hours).
const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Robots files kept in memory.
const ROBOTS_CACHE_MAX: usize = 10_000;
/// How often the frontier is asked for due hosts while others are active.
const DUE_POLL: Duration = Duration::from_millis(100);
/// How often an idle worker of a shared frontier looks for due hosts (others release
/// hosts and find links at any time).
const SHARED_POLL: Duration = Duration::from_millis(250);

/// Why a crawl stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Nothing left to fetch.
    Finished,
    /// `--max-pages` reached.
    MaxPages,
    /// `--max-time` passed.
    MaxTime,
    /// Interrupted (SIGINT/SIGTERM); resume with `--resume`.
    Interrupted,
}

enum Event {
    Taken {
        host: HostKey,
        result: Result<Vec<Claimed>, StoreFailure>,
    },
    Robots {
        host: HostKey,
        robots: Arc<Robots>,
        /// The body to share with the crawl's other workers (see
        /// [`gannet_fetch::RobotsOutcome::shareable_body`]).
        share: Option<String>,
    },
    Done {
        host: HostKey,
        started: Instant,
        verdict: Verdict,
        /// The job's per-host slot was freed before (by [`Event::HostFreed`]).
        freed: bool,
    },
    /// A page is fetched and extracted, and waits for the LLM only: its host may fetch
    /// the next one (see [`HostSlot`]).
    HostFreed { host: HostKey, started: Instant },
    /// A job whose retry delay passed.
    Retry { host: HostKey, job: Job },
}

struct Host {
    /// The frontier's lease on the host (its origin, its fencing token).
    lease: HostLease,
    queue: VecDeque<Job>,
    /// The last take found the host's queue empty (reset when one of its pages finishes).
    exhausted: bool,
    taking: bool,
    in_flight: usize,
    next_at: Instant,
    throttle: Throttle,
    robots: Option<Arc<Robots>>,
    robots_loading: bool,
    /// Jobs sleeping before a retry: the host is kept until they are back.
    retrying: usize,
    /// Pages that freed their per-host slot and wait for the LLM: the host (its lease,
    /// which fences their completions) is kept until they are handed to the store.
    waiting_llm: usize,
}

pub(crate) struct Scheduler {
    config: CrawlConfig,
    shared: Arc<Shared>,
    store: StoreHandle,
    hosts: HashMap<HostKey, Host>,
    robots_cache: HashMap<String, (Arc<Robots>, Instant)>,
    /// Bodies of robots.txt files the sitemap pass fetched, until shared (a lease is needed
    /// to share one: see [`Frontier::share_robots`](gannet_frontier::Frontier::share_robots)).
    robots_unshared: HashMap<String, String>,
    /// Failed robots.txt fetches per origin in this run.
    robots_failures: HashMap<String, u32>,
    events_tx: mpsc::UnboundedSender<Event>,
    events: mpsc::UnboundedReceiver<Event>,
    in_flight: usize,
    pending: usize,
    started_pages: u64,
    next_due_poll: Instant,
    /// How often held hosts' leases are renewed (a third of the frontier's lease length),
    /// when leases expire.
    renew_every: Option<Duration>,
    next_renew: Instant,
    fatal: Option<StoreFailure>,
}

impl Scheduler {
    pub(crate) fn new(
        config: CrawlConfig,
        shared: Arc<Shared>,
        lease_length: Option<Duration>,
    ) -> Scheduler {
        let renew_every = lease_length.map(|l| (l / 3).max(Duration::from_millis(5)));
        let (events_tx, events) = mpsc::unbounded_channel();
        Scheduler {
            store: shared.store.clone(),
            config,
            shared,
            hosts: HashMap::new(),
            robots_cache: HashMap::new(),
            robots_unshared: HashMap::new(),
            robots_failures: HashMap::new(),
            events_tx,
            events,
            in_flight: 0,
            pending: 0,
            started_pages: 0,
            next_due_poll: Instant::now(),
            renew_every,
            next_renew: Instant::now() + renew_every.unwrap_or(Duration::from_secs(3600)),
            fatal: None,
        }
    }

    /// Takes robots.txt files fetched before the crawl (by the sitemap pass) into the cache;
    /// each is shared with the crawl's other workers when its host is first leased here.
    pub(crate) fn prime_robots(&mut self, fetched: FetchedRobots) {
        let now = Instant::now();
        for (origin, robots, share) in fetched {
            // An unreachable robots.txt is not cached: the scheduler tries it again.
            if !robots.is_disallow_all() {
                if let Some(body) = share {
                    self.robots_unshared.insert(origin.clone(), body);
                }
                self.robots_cache.insert(origin, (robots, now));
            }
        }
    }

    /// Runs until the frontier is drained, a limit is reached, or `stop` fires.
    pub(crate) async fn run(
        &mut self,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<StopReason, StoreFailure> {
        let deadline = self.config.max_time.map(|t| Instant::now() + t);
        let mut reason = None;
        loop {
            if let Some(fatal) = self.fatal.take() {
                self.drain().await;
                return Err(fatal);
            }
            let now = Instant::now();
            if reason.is_none() {
                if *stop.borrow() {
                    reason = Some(StopReason::Interrupted);
                } else if deadline.is_some_and(|d| now >= d) {
                    reason = Some(StopReason::MaxTime);
                } else if self
                    .config
                    .max_pages
                    .is_some_and(|max| Stats::get(&self.shared.stats.written) >= max)
                {
                    reason = Some(StopReason::MaxPages);
                }
            }
            if let Some(reason) = reason {
                self.drain().await;
                if let Some(fatal) = self.fatal.take() {
                    return Err(fatal);
                }
                return Ok(reason);
            }
            if let Some(every) = self.renew_every
                && now >= self.next_renew
            {
                self.next_renew = now + every;
                if !self.hosts.is_empty() {
                    let leases = self.hosts.values().map(|h| h.lease.clone()).collect();
                    self.store.renew(leases);
                }
            }
            if now >= self.next_due_poll {
                self.admit_hosts().await?;
            }
            self.dispatch();
            if self.hosts.is_empty() && self.in_flight == 0 && self.pending == 0 {
                match self.store.next_ready().await? {
                    None if self.store.finished().await? => return Ok(StopReason::Finished),
                    // Other workers of a shared frontier still hold URLs: look again soon.
                    None => self.next_due_poll = Instant::now() + SHARED_POLL,
                    // A shared frontier's hosts are released by other workers at any time.
                    Some(wait) if self.renew_every.is_some() => {
                        self.next_due_poll = Instant::now() + wait.min(SHARED_POLL);
                    }
                    Some(wait) => self.next_due_poll = Instant::now() + wait,
                }
            }
            let wake = self.next_wake(deadline);
            tokio::select! {
                event = self.events.recv() => {
                    if let Some(event) = event {
                        self.handle(event);
                        // Take every event that is already there before the next round.
                        while let Ok(event) = self.events.try_recv() {
                            self.handle(event);
                        }
                    }
                }
                () = sleep_until(wake) => {}
                () = stop_changed(stop) => {}
            }
        }
    }

    /// The earliest moment something may become possible.
    fn next_wake(&self, deadline: Option<Instant>) -> Instant {
        let mut wake = self.next_due_poll;
        if self.renew_every.is_some() {
            wake = wake.min(self.next_renew);
        }
        for host in self.hosts.values() {
            if !host.queue.is_empty()
                && host.in_flight < self.config.per_host
                && host.robots.is_some()
            {
                wake = wake.min(host.next_at);
            }
        }
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        wake.max(Instant::now())
    }

    /// Leases due hosts from the frontier while there is room for more.
    async fn admit_hosts(&mut self) -> Result<(), StoreFailure> {
        // A shared frontier (leases that expire) is shared with other workers: hold only
        // the hosts this worker's concurrency can keep busy, so that the others find work.
        let hold = if self.renew_every.is_some() {
            self.config
                .concurrency
                .div_ceil(self.config.per_host.max(1))
                .max(1)
                + 1
        } else {
            (self.config.concurrency * 2).max(16)
        };
        let room = hold.saturating_sub(self.hosts.len());
        self.next_due_poll = Instant::now() + DUE_POLL;
        if room == 0 {
            return Ok(());
        }
        let due = self.store.due_hosts(room).await?;
        for lease in due {
            let id = lease.host;
            tracing::debug!(origin = %lease.origin, token = lease.lease.token, "host leased");
            let mut host = Host {
                lease,
                queue: VecDeque::new(),
                exhausted: false,
                taking: false,
                in_flight: 0,
                next_at: Instant::now(),
                throttle: Throttle::new(
                    self.config.min_delay,
                    self.config.max_delay,
                    self.config.per_host,
                    self.config.auto_throttle,
                ),
                robots: None,
                robots_loading: false,
                retrying: 0,
                waiting_llm: 0,
            };
            let shared = host
                .lease
                .shared_robots
                .take()
                .filter(|r| r.age < ROBOTS_TTL);
            if self.config.ignore_robots {
                host.robots = Some(Arc::new(Robots::allow_all()));
            } else if let Some(shared) = shared {
                // Another worker fetched it: the origin is not asked again.
                let robots = Arc::new(Robots::parse(shared.body.as_bytes()));
                apply_crawl_delay(&mut host, &robots, &self.config);
                let fetched = Instant::now()
                    .checked_sub(shared.age)
                    .unwrap_or_else(Instant::now);
                self.remember_robots(&host.lease.origin, &robots, fetched);
                host.robots = Some(robots);
            } else if let Some((robots, at)) = self.robots_cache.get(&host.lease.origin)
                && at.elapsed() < ROBOTS_TTL
            {
                host.robots = Some(Arc::clone(robots));
                apply_crawl_delay(&mut host, robots, &self.config);
                if let Some(body) = self.robots_unshared.remove(&host.lease.origin) {
                    self.store.share_robots(host.lease.clone(), body);
                }
                // A robots.txt fetched a moment ago (by the sitemap pass) counts against
                // the host's politeness, as the scheduler's own fetch does.
                host.next_at = *at + host.throttle.delay();
            }
            self.hosts.insert(id, host);
        }
        Ok(())
    }

    /// Starts what the limits allow: robots.txt fetches, queue refills, page fetches.
    fn dispatch(&mut self) {
        let now = Instant::now();
        let max_pages = self.config.max_pages;
        let written = Stats::get(&self.shared.stats.written);
        let mut release = Vec::new();
        for (&id, host) in &mut self.hosts {
            if host.robots.is_none() {
                if !host.robots_loading {
                    host.robots_loading = true;
                    self.pending += 1;
                    spawn_robots(
                        &self.shared.fetcher,
                        id,
                        &host.lease.origin,
                        &self.events_tx,
                    );
                }
                continue;
            }
            while self.in_flight < self.config.concurrency
                && host.in_flight < self.config.per_host
                && host.next_at <= now
                && max_pages.is_none_or(|max| written + self.started_pages < max)
            {
                let Some(job) = host.queue.pop_front() else {
                    break;
                };
                let robots = host
                    .robots
                    .clone()
                    .unwrap_or_else(|| Arc::new(Robots::allow_all()));
                host.in_flight += 1;
                host.next_at = now + host.throttle.delay();
                self.in_flight += 1;
                self.started_pages += 1;
                Stats::add(&self.shared.stats.in_flight, 1);
                let shared = Arc::clone(&self.shared);
                let events = self.events_tx.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let mut slot = {
                        let events = events.clone();
                        HostSlot::new(move || {
                            let _ = events.send(Event::HostFreed { host: id, started });
                        })
                    };
                    let verdict = worker::run(shared, robots, job, &mut slot).await;
                    let _ = events.send(Event::Done {
                        host: id,
                        started,
                        verdict,
                        freed: slot.freed(),
                    });
                });
            }
            let low = host.queue.len() < self.config.per_host.max(8);
            if low && !host.exhausted && !host.taking {
                host.taking = true;
                self.pending += 1;
                let store = self.store.clone();
                let events = self.events_tx.clone();
                let limit = (self.config.per_host * 8).clamp(64, 1024);
                let lease = host.lease.clone();
                tokio::spawn(async move {
                    let result = store.take(lease, limit).await;
                    let _ = events.send(Event::Taken { host: id, result });
                });
            }
            if host.queue.is_empty()
                && host.exhausted
                && !host.taking
                && host.in_flight == 0
                && host.retrying == 0
                && host.waiting_llm == 0
            {
                release.push(id);
            }
        }
        for id in release {
            if let Some(host) = self.hosts.remove(&id) {
                let after = host.next_at.saturating_duration_since(Instant::now());
                tracing::debug!(origin = %host.lease.origin, after_ms = after.as_millis() as u64, "host released");
                self.store.release(host.lease, after);
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Taken { host, result } => {
                self.pending -= 1;
                let Some(h) = self.hosts.get_mut(&host) else {
                    return;
                };
                h.taking = false;
                match result {
                    Ok(claimed) => {
                        h.exhausted = claimed.is_empty();
                        h.queue.extend(claimed.into_iter().map(|claimed| Job {
                            claimed,
                            attempt: 0,
                        }));
                    }
                    Err(StoreFailure::LeaseLost(e)) => {
                        // The lease expired and another worker holds the host: what is
                        // queued here is fenced, so drop it; pages in flight finish and
                        // their completions are refused.
                        tracing::warn!(origin = %h.lease.origin, token = h.lease.lease.token, error = %e, "lease lost: host dropped");
                        let h = self.hosts.remove(&host);
                        self.forget(h);
                    }
                    Err(e) => {
                        tracing::error!(origin = %h.lease.origin, error = %e, "take failed: stopping");
                        self.fatal = Some(e);
                    }
                }
            }
            Event::Robots {
                host,
                robots,
                share,
            } => {
                self.pending -= 1;
                if robots.is_disallow_all() && self.retry_robots_later(host) {
                    return;
                }
                if let Some(h) = self.hosts.get_mut(&host) {
                    h.robots_loading = false;
                    apply_crawl_delay(h, &robots, &self.config);
                    // The robots.txt request counts against the host's politeness.
                    h.next_at = Instant::now() + h.throttle.delay();
                    if let Some(body) = share {
                        self.store.share_robots(h.lease.clone(), body);
                    }
                    let origin = h.lease.origin.clone();
                    self.remember_robots(&origin, &robots, Instant::now());
                    if let Some(h) = self.hosts.get_mut(&host) {
                        h.robots = Some(robots);
                    }
                }
            }
            Event::HostFreed { host, started } => {
                if let Some(h) = self.hosts.get_mut(&host) {
                    h.in_flight = h.in_flight.saturating_sub(1);
                    h.waiting_llm += 1;
                    h.throttle.observe(started.elapsed(), Signal::Ok);
                }
            }
            Event::Done {
                host,
                started,
                verdict,
                freed,
            } => {
                self.in_flight -= 1;
                self.started_pages = self.started_pages.saturating_sub(1);
                self.shared
                    .stats
                    .in_flight
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                let latency = started.elapsed();
                let Some(h) = self.hosts.get_mut(&host) else {
                    return;
                };
                if freed {
                    // Its slot and its latency were accounted for at HostFreed.
                    h.waiting_llm = h.waiting_llm.saturating_sub(1);
                } else {
                    h.in_flight -= 1;
                }
                // Its links may have refilled the host's queue.
                h.exhausted = false;
                match verdict {
                    Verdict::Finished { signal, contacted } => {
                        if contacted && !freed {
                            h.throttle.observe(latency, signal);
                        }
                    }
                    Verdict::Retry { job, after, signal } => {
                        let backoff = h.throttle.observe(latency, signal);
                        // Retry-After is honoured up to max_delay, the longest a host waits
                        // (an hour-long Retry-After would otherwise stall the crawl).
                        let after = after.min(self.config.max_delay);
                        tracing::debug!(
                            url = %job.claimed.url,
                            attempt = job.attempt,
                            after_ms = after.as_millis() as u64,
                            host_waits = signal == Signal::Overloaded,
                            "retry later"
                        );
                        if signal == Signal::Overloaded {
                            // The whole host waits: Retry-After or the backoff, whichever is
                            // longer; for every holder (the frontier keeps the block).
                            h.next_at = h.next_at.max(Instant::now() + after.max(backoff));
                            self.store.block(h.lease.clone(), after.max(backoff));
                            h.queue.push_front(job);
                        } else {
                            let events = self.events_tx.clone();
                            h.retrying += 1;
                            let id = host;
                            tokio::spawn(async move {
                                tokio::time::sleep(after).await;
                                let _ = events.send(Event::Retry { host: id, job });
                            });
                        }
                    }
                    Verdict::Fatal(e) => {
                        tracing::error!(error = %e, "crawl store failed: stopping");
                        self.fatal = Some(e);
                    }
                }
            }
            Event::Retry { host, job } => {
                if let Some(h) = self.hosts.get_mut(&host) {
                    h.retrying -= 1;
                    h.queue.push_front(job);
                }
            }
        }
    }

    /// A host whose lease was lost: its in-flight pages still report `Done` (counted by
    /// the scheduler, refused by the frontier); nothing of it is released.
    fn forget(&mut self, host: Option<Host>) {
        if let Some(h) = host {
            tracing::debug!(origin = %h.lease.origin, queued = h.queue.len(), in_flight = h.in_flight, "host forgotten");
        }
    }

    /// robots.txt was unreachable (5xx, 429, network error): RFC 9309 says disallow all,
    /// but a transient failure must not end a site's crawl. The host goes back to the
    /// frontier until the next attempt (`robots_retry`, doubling), and only after
    /// `robots_attempts` failures its URLs are skipped. Returns whether it was put back.
    /// Keeps a robots.txt in the in-memory cache (bounded: cleared when full).
    fn remember_robots(&mut self, origin: &str, robots: &Arc<Robots>, fetched: Instant) {
        if self.robots_cache.len() >= ROBOTS_CACHE_MAX {
            self.robots_cache.clear();
        }
        self.robots_cache
            .insert(origin.to_owned(), (Arc::clone(robots), fetched));
    }

    fn retry_robots_later(&mut self, host: HostKey) -> bool {
        let Some(h) = self.hosts.get(&host) else {
            return false;
        };
        let failures = self
            .robots_failures
            .entry(h.lease.origin.clone())
            .or_insert(0);
        *failures += 1;
        let failures = *failures;
        if failures >= self.config.robots_attempts.max(1) {
            return false;
        }
        let wait = self.config.robots_retry * 2u32.saturating_pow(failures - 1);
        if let Some(h) = self.hosts.remove(&host) {
            let at = h.next_at.max(Instant::now() + wait);
            let after = at.saturating_duration_since(Instant::now());
            tracing::info!(origin = %h.lease.origin, failures, after_s = after.as_secs(), "robots.txt unreachable: host put back");
            self.store.release(h.lease, after);
        }
        true
    }

    /// Waits for the requests in flight to finish (stop, limits, errors). Jobs waiting for
    /// a retry are left: they are still "in flight" in the frontier, and a resume fetches
    /// them again.
    async fn drain(&mut self) {
        while self.in_flight > 0 || self.pending > 0 {
            match self.events.recv().await {
                Some(Event::Retry { .. }) => {}
                Some(event) => self.handle(event),
                None => break,
            }
        }
    }
}

/// Resolves when `stop` changes. A dropped sender can no longer stop the crawl: then this
/// never resolves (instead of at once, which would spin the loop and skip the sitemaps).
pub(crate) async fn stop_changed(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn apply_crawl_delay(host: &mut Host, robots: &Robots, config: &CrawlConfig) {
    if let Some(delay) = robots.crawl_delay() {
        host.throttle.set_crawl_delay(delay, config.max_crawl_delay);
    }
}

fn spawn_robots(
    fetcher: &Fetcher,
    host: HostKey,
    origin: &str,
    events: &mpsc::UnboundedSender<Event>,
) {
    let fetcher = fetcher.clone();
    let events = events.clone();
    let origin = Url::parse(origin).ok();
    tokio::spawn(async move {
        let (robots, share) = match origin {
            Some(origin) => {
                let outcome = fetcher.fetch_robots_outcome(&origin).await;
                let share = outcome.shareable_body();
                (robots_from_response(outcome), share)
            }
            None => (Robots::allow_all(), None),
        };
        let _ = events.send(Event::Robots {
            host,
            robots: Arc::new(robots),
            share,
        });
    });
}

/// The robots.txt files fetched while looking for sitemaps, by origin: the scheduler
/// reuses them, so that a host's robots.txt is asked for once.
/// Each with the body to share with the crawl's other workers, if it may be shared.
pub(crate) type FetchedRobots = Vec<(String, Arc<Robots>, Option<String>)>;

/// Sitemap URLs of the seeds' hosts, in scope, as new frontier entries, and the robots.txt
/// files read to find them. `/sitemap.xml` is only asked for where robots.txt allows it, and
/// a host's sitemap requests are spaced by its politeness delay (`min_delay`, raised to its
/// capped `Crawl-delay`), the robots.txt request included.
pub(crate) async fn sitemap_urls(
    fetcher: &Fetcher,
    seeds: &[Url],
    scope: &Scope,
    config: &CrawlConfig,
) -> (Vec<NewUrl>, FetchedRobots) {
    let mut fetched: FetchedRobots = Vec::new();
    let mut urls: Vec<NewUrl> = Vec::new();
    let mut origins: Vec<Url> = seeds
        .iter()
        .filter_map(|s| Url::parse(&s.origin().ascii_serialization()).ok())
        .collect();
    origins.sort();
    origins.dedup();
    for origin in &origins {
        let default = origin.join("/sitemap.xml").ok();
        let mut roots: Vec<Url> = Vec::new();
        let mut pace = config.min_delay;
        if config.ignore_robots {
            roots.extend(default);
        } else {
            let outcome = fetcher.fetch_robots_outcome(origin).await;
            let share = outcome.shareable_body();
            let robots = robots_from_response(outcome);
            if let Some(delay) = robots.crawl_delay() {
                pace = pace.max(delay.min(config.max_crawl_delay));
            }
            roots.extend(robots.sitemaps().iter().cloned());
            roots.extend(default.filter(|url| robots.allowed(url)));
            fetched.push((origin_key(origin), Arc::new(robots), share));
            if !roots.is_empty() {
                tokio::time::sleep(pace).await;
            }
        }
        roots.sort();
        roots.dedup();
        let room = config.max_sitemap_urls.saturating_sub(urls.len());
        let found = fetcher.fetch_sitemaps_paced(&roots, room, pace).await;
        urls.extend(
            found
                .urls
                .into_iter()
                .filter_map(|entry| canonicalize(entry.loc))
                .filter(|u| scope.check(u, 1).is_ok())
                .map(|url| NewUrl {
                    url,
                    depth: 1,
                    referrer: Some("sitemap".into()),
                }),
        );
    }
    (urls, fetched)
}
