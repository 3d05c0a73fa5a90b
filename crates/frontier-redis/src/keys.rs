//! Key names, shards, fingerprints and records.
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `gf:{C}:meta` | hash | the crawl's settings and config blob |
//! | `gf:{C}:lim` | hash | page limit: `r` reserved, `a` admitted |
//! | `gf:{C}:resv` | hash | outstanding reservations: request id → granted |
//! | `gf:{C}:idx`, `gf:{C}:lidx` | zset | shard → earliest ready time / lease expiry (hints) |
//! | `gf:{C}:hv` | hash | shard → version of its last applied hint |
//! | `gf:{C}:workers` | zset | worker → heartbeat expiry |
//! | `gf:{C:S}:ready` | zset | host → next allowed fetch time (ms, server clock) |
//! | `gf:{C:S}:lease` | zset | leased host → lease expiry |
//! | `gf:{C:S}:q:<host>` | list | the host's queue of records |
//! | `gf:{C:S}:f:<host>` | hash | URLs in flight under the host's lease: url → record |
//! | `gf:{C:S}:h:<host>` | hash | host state: `t` token, `w` worker, `e` expiry, `nx` next fetch, `b` block, `n` admitted, `r`/`ra` robots.txt + time, `th` throttle |
//! | `gf:{C:S}:pp` | hash | prepared completions: url → worker, batch, outcome, record |
//! | `gf:{C:S}:s:<b>` | hash | seen-set bucket: 7-byte fingerprint suffix → "" |
//! | `gf:{C:S}:st` | hash | shard counters |
//! | `gf:{C:S}:rs` | hash | failure/skip reasons → count |
//! | `gf:{C:S}:dead` | list | dead letters |
//! | `gf:{C:S}:tok`, `gf:{C:S}:ver` | string | fencing-token and hint-version counters |
//! | `gf:{C:w:W}:ck` | hash | worker W: committed batch + checkpoint, pending batch + shards, aborted batch |
//! | `gf:{C:w:W}:hb` | string | worker W's heartbeat (TTL) |

use crate::error::FrontierError;
use xxhash_rust::xxh3::xxh3_64;

/// Virtual shards per crawl. Fixed: hosts map to shards by hash, shards to cluster slots
/// by their hash tag, so Redis Cluster moves slots without any remapping here.
pub const SHARDS: u16 = 4096;

/// Seen-set fields per bucket we aim for: below `hash-max-listpack-entries` (128) so
/// buckets stay listpack-encoded (~11 bytes per field) with room for uneven filling.
const FIELDS_PER_BUCKET: u64 = 96;

/// Checks a crawl or worker id: it becomes part of key names and hash tags.
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<(), FrontierError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(FrontierError::invalid(
            what,
            format!("`{id}`: use 1-64 letters, digits, `-`, `_` or `.`"),
        ))
    }
}

/// The shard of a host.
pub(crate) fn shard_of(host: &str) -> u16 {
    (xxh3_64(host.as_bytes()) % u64::from(SHARDS)) as u16
}

/// Key prefix of a shard: every key of the shard starts with it and shares its slot.
pub(crate) fn shard_prefix(crawl: &str, shard: u16) -> String {
    format!("gf:{{{crawl}:{shard}}}:")
}

/// Key prefix of the crawl's own slot.
pub(crate) fn crawl_prefix(crawl: &str) -> String {
    format!("gf:{{{crawl}}}:")
}

/// Key prefix of a worker's slot.
pub(crate) fn worker_prefix(crawl: &str, worker: &str) -> String {
    format!("gf:{{{crawl}:w:{worker}}}:")
}

/// Seen-set buckets per shard for a crawl of `expected` URLs: a power of two, 1..=256.
pub(crate) fn buckets_for(expected: u64) -> u16 {
    let per_shard = expected.div_ceil(u64::from(SHARDS));
    let want = per_shard.div_ceil(FIELDS_PER_BUCKET).clamp(1, 256);
    want.next_power_of_two().min(256) as u16
}

/// The 64-bit fingerprint of a canonical URL (xxh3, as the embedded frontier).
pub(crate) fn fingerprint(url: &str) -> u64 {
    xxh3_64(url.as_bytes())
}

/// Where a fingerprint lives in its shard's seen-set: the bucket (from the top byte) and
/// the field (the other 7 bytes, binary). Together with the bucket, every fingerprint bit
/// that the bucket count does not use stays in the field.
pub(crate) fn seen_slot(fp: u64, buckets: u16) -> (u16, [u8; 7]) {
    let bytes = fp.to_be_bytes();
    let bucket = u16::from(bytes[0]) & (buckets.max(1) - 1);
    let mut field = [0u8; 7];
    field.copy_from_slice(&bytes[1..]);
    (bucket, field)
}

/// Makes a string safe inside a tab-separated record (errors, reasons).
pub(crate) fn clean(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == '\t' || c.is_control() { ' ' } else { c })
        .collect();
    if s.len() > 500 {
        let mut end = 500;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    } else {
        s
    }
}

/// A new URL's queue record.
pub(crate) fn record(url: &str, depth: u32, referrer: Option<&str>) -> String {
    format!("0\t{depth}\t{url}\t{}", referrer.unwrap_or(""))
}

/// Parses a queue record.
pub(crate) fn parse_record(rec: &str) -> Option<crate::ClaimedUrl> {
    let mut it = rec.splitn(5, '\t');
    let attempts = it.next()?.parse().ok()?;
    let depth = it.next()?.parse().ok()?;
    let url = it.next()?.to_string();
    let referrer = it.next().filter(|r| !r.is_empty()).map(str::to_string);
    let last_error = it.next().filter(|e| !e.is_empty()).map(str::to_string);
    Some(crate::ClaimedUrl {
        url,
        depth,
        referrer,
        attempts,
        last_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_grow_with_the_crawl() {
        assert_eq!(buckets_for(1), 1);
        assert_eq!(buckets_for(100_000), 1);
        assert_eq!(buckets_for(1_000_000), 4);
        assert_eq!(buckets_for(10_000_000), 32);
        assert_eq!(buckets_for(u64::MAX), 256);
    }

    #[test]
    fn seen_slot_keeps_the_fingerprint() {
        let fp = 0xAB12_3456_789A_BCDE;
        let (b, f) = seen_slot(fp, 32);
        assert_eq!(b, 0xAB & 31);
        assert_eq!(f, [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE]);
    }

    #[test]
    fn records_round_trip() {
        let r = record("http://a/x", 3, Some("http://a/"));
        let c = parse_record(&r).expect("parses");
        assert_eq!((c.url.as_str(), c.depth, c.attempts), ("http://a/x", 3, 0));
        assert_eq!(c.referrer.as_deref(), Some("http://a/"));
        let c = parse_record("2\t0\thttp://b/\t\tlease expired").expect("parses");
        assert_eq!(
            (c.attempts, c.referrer, c.last_error.as_deref()),
            (2, None, Some("lease expired"))
        );
        assert!(parse_record("x\t0\thttp://b/").is_none());
    }

    #[test]
    fn ids_are_checked() {
        assert!(check_id("crawl id", "docs-2026.12").is_ok());
        assert!(check_id("crawl id", "a{b}").is_err());
        assert!(check_id("crawl id", "").is_err());
    }
}
