//! Compressed fragments and the documents assembled from them: each fragment is raw deflate
//! flushed to a byte boundary, so fragments concatenate under one gzip header and trailer
//! into a valid member, with literal bytes (heads, separators, tails) as stored blocks
//! between them. Fragments keep no plain copy: most clients ask for gzip, and the plain
//! document is inflated from the gzip one for those that do not.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use eureka_model::{Codec, DocumentFrame};
use flate2::write::GzEncoder;
use flate2::{Compress, Compression, FlushCompress};

/// `plain` as one gzip member, at the level the cache uses for its size: for answers that
/// are built per request (the console's JSON), so they share the registry documents' code.
pub fn gzip(plain: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(plain.len() / 8 + 64), level(plain.len()));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(plain);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// One application (or, in a delta, one instance) encoded with one codec, kept only as raw
/// deflate flushed to a byte boundary (not final).
#[derive(Debug)]
pub(super) struct Fragment {
    /// The application's name (empty for an instance's fragment).
    pub(super) name: String,
    /// What identifies the content encoded (its source stamps): same name and key, same bytes.
    pub(super) key: Box<[u64]>,
    plain_len: u64,
    deflated: Bytes,
    crc: crc32fast::Hasher,
}

impl Fragment {
    /// `app` as an entry of an `applications` document.
    pub(super) fn encode(codec: Codec, app: &eureka_model::Application, key: &[u64]) -> Self {
        Fragment::of(app.name.clone(), key, &codec.encode_application_entry(app))
    }

    /// `plain`, compressed.
    pub(super) fn of(name: String, key: &[u64], plain: &[u8]) -> Self {
        let deflated = deflate_flushed(plain, level(plain.len()));
        let mut crc = crc32fast::Hasher::new();
        crc.update(plain);
        Fragment {
            name,
            key: key.into(),
            plain_len: plain.len() as u64,
            deflated: deflated.into(),
            crc,
        }
    }
}

/// Inflates a gzip member built here (it cannot fail; an empty body is answered if it did).
pub(super) fn inflate(gzip: &[u8], size_hint: usize) -> Bytes {
    let mut out = Vec::with_capacity(size_hint);
    match std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzip), &mut out) {
        Ok(_) => out.into(),
        Err(_) => Bytes::new(),
    }
}

/// A listing's fragments, in application order.
pub(super) type FragmentList = Arc<[Arc<Fragment>]>;

/// A piece of a document assembled from fragments.
#[derive(Debug)]
pub(super) enum Piece {
    /// Bytes between fragments (document and application heads, separators, tails).
    Literal(Vec<u8>),
    /// A fragment encoded and compressed earlier, shared with other versions.
    Deflated(Arc<Fragment>),
}

/// A document as literal bytes around compressed fragments.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pieces: Vec<Piece>,
}

impl Parts {
    /// `frame` around `fragments`, the frame's separator between two of them.
    pub(super) fn framed(frame: &DocumentFrame, fragments: &[Arc<Fragment>]) -> Parts {
        let mut parts = Parts::default();
        parts.literal(&frame.head);
        for (i, f) in fragments.iter().enumerate() {
            if i > 0 {
                parts.literal(frame.separator);
            }
            parts.fragment(f.clone());
        }
        parts.literal(&frame.tail);
        parts
    }

    /// Appends literal bytes, joining them to a literal just before.
    pub(super) fn literal(&mut self, bytes: &[u8]) {
        match self.pieces.last_mut() {
            Some(Piece::Literal(last)) => last.extend_from_slice(bytes),
            _ => self.pieces.push(Piece::Literal(bytes.to_vec())),
        }
    }

    /// Appends a compressed fragment.
    pub(super) fn fragment(&mut self, fragment: Arc<Fragment>) {
        self.pieces.push(Piece::Deflated(fragment));
    }

    /// The fragments, in order.
    #[cfg(test)]
    pub(super) fn fragments(&self) -> impl Iterator<Item = &Arc<Fragment>> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Deflated(f) => Some(f),
            Piece::Literal(_) => None,
        })
    }

    /// Length of the plain document.
    pub(super) fn plain_len(&self) -> usize {
        let len: u64 = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(bytes) => bytes.len() as u64,
                Piece::Deflated(f) => f.plain_len,
            })
            .sum();
        len as usize
    }

    /// One gzip member: literals as stored blocks, each fragment's deflate as is, an empty
    /// final block, and the CRC combined from the fragments' own.
    pub(super) fn gzip(&self) -> Bytes {
        let compressed: usize = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(bytes) => bytes.len() + 5,
                Piece::Deflated(f) => f.deflated.len(),
            })
            .sum();
        let mut out = Vec::with_capacity(compressed + 32);
        out.extend_from_slice(&GZIP_HEADER);
        let mut crc = crc32fast::Hasher::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => {
                    write_stored(&mut out, bytes);
                    crc.update(bytes);
                }
                Piece::Deflated(f) => {
                    out.extend_from_slice(&f.deflated);
                    crc.combine(&f.crc);
                }
            }
        }
        // The final block: stored, empty.
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32 by definition (RFC 1952).
        out.extend_from_slice(&(self.plain_len() as u32).to_le_bytes());
        out.into()
    }
}

/// gzip member header: deflate, no flags, no mtime, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];

/// Writes `bytes` as non-final stored deflate blocks; the stream must be at a byte boundary
/// (it is: after the header, a flushed fragment or another stored block).
fn write_stored(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Raw deflate of `data` ending with a sync flush: byte-aligned and not final, so the
/// output can be followed by more blocks.
fn deflate_flushed(data: &[u8], level: Compression) -> Vec<u8> {
    let mut z = Compress::new(level, false);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(data.len()).min(data.len());
        // Only a stream used after its end fails, and this one is never finished.
        let _ = z.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
        // Done once all input is in and the flush left output space unused.
        if z.total_in() >= data.len() as u64 && out.len() < out.capacity() {
            // Kept for as long as the fragment lives: no spare capacity (it was a quarter of
            // the plain size, ten times what compressed registries need).
            out.shrink_to_fit();
            return out;
        }
        out.reserve(out.capacity().max(1024));
    }
}

/// Large registries are compressed at a faster level: the cost is paid on every change.
fn level(len: usize) -> Compression {
    if len > 1 << 20 {
        Compression::fast()
    } else {
        Compression::default()
    }
}
