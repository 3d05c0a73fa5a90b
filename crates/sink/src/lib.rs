//! Output sinks of gannet crawls.

pub mod warc;

pub use warc::{Exchange, NotModified, WarcConfig, WarcPosition, WarcWriter};
