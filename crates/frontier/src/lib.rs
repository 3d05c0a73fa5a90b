//! The embedded crawl frontier of gannet.
