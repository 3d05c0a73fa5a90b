//! The HTTP fetcher of gannet: reqwest on rustls (`ring`), HTTP/1.1 and HTTP/2, with
//! redirects followed by hand (loop detection, a cap, http/https targets only), one deadline
//! over the whole fetch (every hop and the body), a running cap on the **decoded** body (a
//! gzip bomb stops at the cap), content-type gating, and typed errors.
//!
//! ```no_run
//! use gannet_fetch::{FetchConfig, Fetcher};
//!
//! # async fn demo() -> Result<(), gannet_fetch::FetchError> {
//! let fetcher = Fetcher::new(FetchConfig::default())?;
//! let url = url::Url::parse("https://example.com/").expect("valid URL");
//! let page = fetcher.fetch(&url).await?;
//! println!("{} {} bytes", page.url, page.body.len());
//! # Ok(())
//! # }
//! ```
//!
//! Charset decoding is not done here: the body is handed to
//! `gannet_extract::decode::decode_html` with [`FetchedPage::charset`].
//!
//! robots.txt ([`Fetcher::fetch_robots`], [`Robots`]) follows RFC 9309, status rules
//! included; sitemaps ([`parse_sitemap`], [`Fetcher::fetch_sitemaps`]) are parsed as a stream
//! with the protocol's size and entry caps. Both fetch with their own limits (content types,
//! body cap, redirects) on the same client; page fetches keep the configured ones.
//!
//! **Safe as a service.** With [`FetchConfig::allow_private`] off (the HTTP server's setting;
//! the default is on, for the CLI), the fetcher refuses to connect to addresses that are not
//! publicly reachable: loopback, private, link-local, cloud metadata, CGNAT, multicast,
//! reserved, documentation and the like, and IPv6 forms that carry such an IPv4 address
//! ([`guard`] has the policy). Host names are resolved once by a guarded resolver and only
//! the checked addresses are dialled, so DNS rebinding cannot slip past; IP-literal hosts
//! (`http://2130706433/` is 127.0.0.1) are checked before each request; every redirect hop,
//! [`Fetcher::exchange`], robots.txt and sitemap fetch goes through the same checks; proxies
//! from the environment are ignored. A refusal is [`FetchErrorKind::ForbiddenAddress`], before
//! any connection. [`FetchConfig::exempt_addresses`] lets chosen addresses through (tests);
//! [`AddressGuard`] applies the same checks to a client of one's own.

mod config;
mod error;
mod exchange;
mod fetcher;
pub mod guard;

pub use config::{ContentGate, FetchConfig, default_user_agent};
pub use error::{FetchError, FetchErrorKind, TimeoutPhase};
pub use exchange::{Conditional, Exchange, ExchangeHead, parse_retry_after};
pub use fetcher::{ACCEPT, FetchedPage, Fetcher};
pub use guard::{
    AddressClass, AddressGuard, Blocked, Embedding, ExemptAddress, GuardedResolver, Refusal,
    classify,
};
mod robots;
mod sitemap;

pub use robots::{
    MAX_ROBOTS_BYTES, PRODUCT_TOKEN, ROBOTS_MAX_REDIRECTS, Robots, RobotsOutcome,
    robots_from_response, robots_url,
};
pub use sitemap::{
    MAX_SITEMAP_BYTES, MAX_SITEMAP_DEPTH, MAX_SITEMAP_ENTRIES, MAX_SITEMAP_FETCHES, ParsedSitemap,
    SITEMAP_CONTENT_TYPES, Sitemap, SitemapError, SitemapFetchError, SitemapUrl, SitemapUrls,
    parse_sitemap,
};
