//! The routes of the fixture site (the table is in the crate documentation).

use crate::bomb;
use crate::content::{self, CHARSET_PAGES};
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

/// How long `/slow-headers` waits before it sends its headers.
pub const SLOW_HEADERS_DELAY: Duration = Duration::from_secs(30);
/// How many chunks `/slow-body` sends, one per [`SLOW_BODY_INTERVAL`].
pub const SLOW_BODY_CHUNKS: u32 = 5;
/// The pause before each chunk of `/slow-body`.
pub const SLOW_BODY_INTERVAL: Duration = Duration::from_millis(200);
/// The size of `/huge` (20 MiB, sent with a `Content-Length`).
pub const HUGE_BYTES: u64 = 20 * 1024 * 1024;
/// Longest chain `/redirect/{n}` serves; larger `n` are clamped to it.
pub const MAX_REDIRECT_CHAIN: u32 = 100;

const HTML: &str = "text/html; charset=utf-8";

/// The router of the site.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/", get(home))
        .route("/article/{n}", get(article))
        .route("/charset/{slug}/{variant}", get(charset))
        .route("/compressed/{coding}", get(compressed))
        .route("/redirect/{n}", get(redirect))
        .route("/redirect-to-ftp", get(redirect_to_ftp))
        .route("/loop/{side}", get(redirect_loop))
        .route("/rel/start", get(relative_redirect))
        .route("/rel/target", get(relative_target))
        .route("/slow-headers", get(slow_headers))
        .route("/stall", get(stall))
        .route("/slow-body", get(slow_body))
        .route("/huge", get(huge))
        .route("/endless", get(endless))
        .route("/gzip-bomb", get(gzip_bomb))
        .route("/image.png", get(image))
        .route("/data.json", get(json))
        .route("/file.pdf", get(pdf))
        .route("/text.txt", get(plain_text))
        .route("/page.xhtml", get(xhtml))
        .route("/no-content-type", get(no_content_type))
        .route("/no-content-type-binary", get(no_content_type_binary))
        .route("/status/{code}", get(status))
        .route("/echo-headers", get(echo_headers))
        .fallback(not_found)
}

/// A response with `status`, an optional `Content-Type` and `body`.
fn respond(status: StatusCode, content_type: Option<&str>, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    if let Some(value) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn html(body: String) -> Response {
    respond(StatusCode::OK, Some(HTML), body)
}

fn redirect_to(location: &str) -> Response {
    let mut response = respond(StatusCode::FOUND, Some(HTML), "<p>Moved.</p>");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn stream_body<S>(stream: S) -> Body
where
    S: futures_util::Stream<Item = Bytes> + Send + 'static,
{
    Body::from_stream(stream.map(Ok::<_, Infallible>))
}

async fn home() -> Response {
    html(content::phrase_page(
        content::HOME_TITLE,
        content::HOME_PHRASE,
    ))
}

async fn article(Path(n): Path<u32>) -> Response {
    match n {
        1 => html(content::phrase_page(
            content::ARTICLE_TITLE,
            content::ARTICLE_PHRASE,
        )),
        2 => html(content::phrase_page(
            content::SECOND_ARTICLE_TITLE,
            content::SECOND_ARTICLE_PHRASE,
        )),
        _ => not_found().await,
    }
}

async fn charset(Path((slug, variant)): Path<(String, String)>) -> Response {
    let Some(page) = CHARSET_PAGES.iter().find(|p| p.slug == slug) else {
        return not_found().await;
    };
    let with_meta = match variant.as_str() {
        "header" => false,
        "meta" => true,
        _ => return not_found().await,
    };
    let html = content::charset_html(page, with_meta);
    let (bytes, _, _) = page.encoding().encode(&html);
    let content_type = if with_meta {
        "text/html".to_owned()
    } else {
        format!("text/html; charset={}", page.label)
    };
    respond(StatusCode::OK, Some(&content_type), bytes.into_owned())
}

async fn compressed(Path(coding): Path<String>) -> Response {
    let page = content::phrase_page("Compressed page", content::COMPRESSED_PHRASE);
    let Some((encoding, body)) = compress(&coding, page.as_bytes()) else {
        return not_found().await;
    };
    let mut response = respond(StatusCode::OK, Some(HTML), body);
    response
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    response
}

/// Compresses `data` with the coding named in the path; `None` for an unknown one.
fn compress(coding: &str, data: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    use flate2::Compression;
    let body = match coding {
        "gzip" => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(data).ok()?;
            ("gzip", encoder.finish().ok()?)
        }
        // HTTP "deflate" is the zlib format (RFC 9110 §8.4.1.2).
        "deflate" => {
            let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(data).ok()?;
            ("deflate", encoder.finish().ok()?)
        }
        "br" | "brotli" => {
            let mut out = Vec::new();
            {
                let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                writer.write_all(data).ok()?;
            }
            ("br", out)
        }
        "zstd" => ("zstd", zstd::stream::encode_all(data, 3).ok()?),
        _ => return None,
    };
    Some(body)
}

async fn redirect(Path(n): Path<u32>) -> Response {
    let n = n.min(MAX_REDIRECT_CHAIN);
    if n == 0 {
        html(content::phrase_page(
            "Redirect target",
            content::REDIRECT_TARGET_PHRASE,
        ))
    } else {
        redirect_to(&format!("/redirect/{}", n - 1))
    }
}

async fn redirect_to_ftp() -> Response {
    redirect_to("ftp://ftp.invalid/file.txt")
}

async fn redirect_loop(Path(side): Path<String>) -> Response {
    match side.as_str() {
        "a" => redirect_to("/loop/b"),
        "b" => redirect_to("/loop/a"),
        _ => not_found().await,
    }
}

async fn relative_redirect() -> Response {
    // Relative to /rel/start, so it resolves to /rel/target.
    redirect_to("target")
}

async fn relative_target() -> Response {
    html(content::phrase_page(
        "Relative redirect target",
        content::REDIRECT_TARGET_PHRASE,
    ))
}

async fn slow_headers() -> Response {
    tokio::time::sleep(SLOW_HEADERS_DELAY).await;
    html(content::phrase_page("Slow headers", content::HOME_PHRASE))
}

async fn stall() -> Response {
    let first =
        Bytes::from_static(b"<!DOCTYPE html><html><head><title>Stall</title></head><body><p>");
    let body = stream_body(stream::iter([first]).chain(stream::pending()));
    respond(StatusCode::OK, Some(HTML), body)
}

async fn slow_body() -> Response {
    let page = content::phrase_page("Slow body", content::SLOW_BODY_PHRASE);
    let page = Bytes::from(page);
    let size = page.len().div_ceil(SLOW_BODY_CHUNKS as usize);
    let body = stream::unfold(0usize, move |offset| {
        let page = page.clone();
        async move {
            if offset >= page.len() {
                return None;
            }
            tokio::time::sleep(SLOW_BODY_INTERVAL).await;
            let end = (offset + size).min(page.len());
            Some((page.slice(offset..end), end))
        }
    });
    respond(StatusCode::OK, Some(HTML), stream_body(body))
}

/// 64 KiB of paragraphs, shared by `/huge` and `/endless`.
fn filler_chunk() -> Bytes {
    static CHUNK: OnceLock<Bytes> = OnceLock::new();
    CHUNK
        .get_or_init(|| {
            let paragraph = "<p>Gannets are large seabirds; this paragraph pads a huge page.</p>\n";
            let mut chunk = paragraph.repeat(64 * 1024 / paragraph.len() + 1);
            chunk.truncate(64 * 1024 - 1);
            chunk.push('\n');
            Bytes::from(chunk)
        })
        .clone()
}

async fn huge() -> Response {
    let chunk = filler_chunk();
    let count = HUGE_BYTES / chunk.len() as u64;
    let body = stream::iter((0..count).map(move |_| chunk.clone()));
    let mut response = respond(StatusCode::OK, Some(HTML), stream_body(body));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(HUGE_BYTES));
    response
}

async fn endless() -> Response {
    let start =
        Bytes::from_static(b"<!DOCTYPE html><html><head><title>Endless</title></head><body>");
    let chunk = filler_chunk();
    let body = stream::iter([start]).chain(stream::repeat_with(move || chunk.clone()));
    respond(StatusCode::OK, Some(HTML), stream_body(body))
}

async fn gzip_bomb() -> Response {
    // Building the pieces the first time compresses 2 MiB: keep it off the runtime.
    let chunks = tokio::task::spawn_blocking(|| bomb::chunks().collect::<Vec<_>>()).await;
    let Ok(chunks) = chunks else {
        return respond(StatusCode::INTERNAL_SERVER_ERROR, None, "bomb failed");
    };
    let mut response = respond(
        StatusCode::OK,
        Some(HTML),
        stream_body(stream::iter(chunks)),
    );
    response
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    response
}

/// A 1×1 transparent PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn image() -> Response {
    respond(StatusCode::OK, Some("image/png"), Bytes::from_static(PNG))
}

async fn json() -> Response {
    respond(
        StatusCode::OK,
        Some("application/json"),
        r#"{"bird":"gannet"}"#,
    )
}

async fn pdf() -> Response {
    let body = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    respond(StatusCode::OK, Some("application/pdf"), body)
}

async fn plain_text() -> Response {
    respond(
        StatusCode::OK,
        Some("text/plain; charset=utf-8"),
        content::PLAIN_TEXT,
    )
}

async fn xhtml() -> Response {
    let page = content::phrase_page("XHTML page", content::HOME_PHRASE);
    let page = page.replacen(
        "<!DOCTYPE html>\n<html",
        "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"",
        1,
    );
    respond(StatusCode::OK, Some("application/xhtml+xml"), page)
}

async fn no_content_type() -> Response {
    let page = content::phrase_page("No content type", content::NO_CONTENT_TYPE_PHRASE);
    respond(StatusCode::OK, None, format!("\n  {page}"))
}

async fn no_content_type_binary() -> Response {
    respond(StatusCode::OK, None, Bytes::from_static(PNG))
}

async fn status(Path(code): Path<u16>) -> Response {
    let Ok(status) = StatusCode::from_u16(code) else {
        return respond(StatusCode::BAD_REQUEST, Some(HTML), "bad status code");
    };
    let mut response = respond(status, Some(HTML), format!("<p>Status {code}</p>"));
    if code == 503 || code == 429 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn echo_headers(headers: axum::http::HeaderMap) -> Response {
    let mut body = String::new();
    for (name, value) in &headers {
        body.push_str(name.as_str());
        body.push_str(": ");
        body.push_str(&String::from_utf8_lossy(value.as_bytes()));
        body.push('\n');
    }
    respond(StatusCode::OK, Some("text/plain; charset=utf-8"), body)
}

async fn not_found() -> Response {
    respond(StatusCode::NOT_FOUND, Some(HTML), "<p>Not found</p>")
}
