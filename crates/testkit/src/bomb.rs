//! The gzip bomb: about 1 MiB on the wire that inflates to [`GZIP_BOMB_DECODED_BYTES`] of spaces.
//!
//! Compressing 1 GiB would take seconds (minutes in a debug build), so the stream is assembled
//! from pieces compressed once: a deflate segment that inflates 1 MiB of spaces is valid after
//! any window of spaces, so the second segment is repeated. The CRC-32 trailer is computed by
//! combining the checksum of one MiB with itself. Nothing of 1 GiB is ever held in memory.

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};
use std::sync::OnceLock;

/// How many bytes `/gzip-bomb` inflates to (1 GiB of spaces).
pub const GZIP_BOMB_DECODED_BYTES: u64 = 1 << 30;

const SEGMENT: usize = 1 << 20;
const SEGMENTS: usize = (GZIP_BOMB_DECODED_BYTES / SEGMENT as u64) as usize;

/// The pieces of the bomb, built on first use.
struct Pieces {
    /// gzip header followed by the first deflate segment.
    head: Bytes,
    /// A deflate segment inflating `SEGMENT` spaces after a window of spaces.
    middle: Bytes,
    /// The final deflate block and the gzip trailer.
    tail: Bytes,
}

fn pieces() -> &'static Pieces {
    static PIECES: OnceLock<Pieces> = OnceLock::new();
    PIECES.get_or_init(|| {
        let spaces = vec![b' '; SEGMENT];
        let mut deflate = Compress::new(Compression::best(), false);
        let mut head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
        head.extend(compress(&mut deflate, &spaces, FlushCompress::Sync));
        let middle = compress(&mut deflate, &spaces, FlushCompress::Sync);
        let mut tail = compress(&mut deflate, &[], FlushCompress::Finish);

        let mut one = crc32fast::Hasher::new();
        one.update(&spaces);
        let mut total = crc32fast::Hasher::new();
        for _ in 0..SEGMENTS {
            total.combine(&one);
        }
        tail.extend_from_slice(&total.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32.
        tail.extend_from_slice(&((GZIP_BOMB_DECODED_BYTES & 0xffff_ffff) as u32).to_le_bytes());
        Pieces {
            head: head.into(),
            middle: middle.into(),
            tail: tail.into(),
        }
    })
}

/// Runs `deflate` over all of `input` with `flush`, returning what it wrote.
fn compress(deflate: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::new();
    let mut consumed = 0;
    loop {
        out.reserve(64 * 1024);
        let before = deflate.total_in();
        // Compressing into a Vec cannot fail: the stream is ours and well formed.
        let status = deflate
            .compress_vec(input.get(consumed..).unwrap_or_default(), &mut out, flush)
            .unwrap_or(flate2::Status::StreamEnd);
        consumed += (deflate.total_in() - before) as usize;
        // Done when the stream ended, or all input is in and the output was not filled up.
        if status == flate2::Status::StreamEnd
            || (consumed >= input.len() && out.len() < out.capacity())
        {
            return out;
        }
    }
}

/// The bomb as a lazy sequence of chunks (about 1 MiB in all).
pub(crate) fn chunks() -> impl Iterator<Item = Bytes> {
    let pieces = pieces();
    std::iter::once(pieces.head.clone())
        .chain(std::iter::repeat_n(pieces.middle.clone(), SEGMENTS - 1))
        .chain(std::iter::once(pieces.tail.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn bomb_is_valid_gzip_of_spaces() {
        let compressed: Vec<u8> = chunks().flat_map(|b| b.to_vec()).collect();
        assert!(
            compressed.len() < 2 << 20,
            "compressed size {}",
            compressed.len()
        );
        let mut decoder = flate2::read::GzDecoder::new(compressed.as_slice());
        let mut buf = vec![0; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = decoder.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            assert!(buf[..n].iter().all(|&b| b == b' '));
            total += n as u64;
        }
        assert_eq!(total, GZIP_BOMB_DECODED_BYTES);
    }
}
