//! Allocator tuning: the one `unsafe` call of the project.
//!
//! glibc's malloc raises its mmap threshold each time a large mmapped block is freed (up
//! to 32 MiB). After the first multi-megabyte page, the arrays of every later big page
//! come from the arenas instead of fresh mappings, and freed arena memory mostly stays
//! with the process. A fixed threshold turns the dynamic behaviour off: blocks of 4 MiB
//! and more (the arrays of multi-megabyte pages) are mapped on demand and returned on
//! free, while the arrays of ordinary pages are reused from the arenas. Measured on the
//! rustdoc crawl (31,774 pages, some of 8 MB; BENCHMARKS.md): dynamic 212 MB peak RSS;
//! 256 KiB 137 MB but 20% more CPU (the kernel zeroing fresh pages); 4 MiB 114 MB.
//! (Setting `MALLOC_MMAP_THRESHOLD_` in the environment overrides this.)

/// Fixes glibc's mmap threshold at 4 MiB. Call once, first thing in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn tune() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return; // the user chose
    }
    // SAFETY: mallopt only changes malloc's tuning parameters; it is called before any
    // other thread exists, and M_MMAP_THRESHOLD with a value below the 32 MiB maximum is
    // always accepted. The return value (success) needs no handling.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn tune() {}
