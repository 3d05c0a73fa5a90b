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

mod config;
mod error;
mod exchange;
mod fetcher;

pub use config::{ContentGate, FetchConfig, default_user_agent};
pub use error::{FetchError, FetchErrorKind, TimeoutPhase};
pub use exchange::{Conditional, Exchange, parse_retry_after};
pub use fetcher::{ACCEPT, FetchedPage, Fetcher};
