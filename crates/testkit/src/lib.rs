//! Fixture web site on loopback (filled in by the fetch work).
