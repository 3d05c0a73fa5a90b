//! The crawl engine of gannet.
