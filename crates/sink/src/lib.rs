//! Output sinks of gannet crawls.
