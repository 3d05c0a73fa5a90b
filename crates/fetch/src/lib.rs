//! HTTP fetcher (filled in by the fetch work).
