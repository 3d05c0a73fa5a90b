//! `gannet scrape`: the step from a URL typed by a person to a URL we can fetch. Parsing
//! gives errors that say how to fix it.

use anyhow::{Context as _, bail};
use url::Url;

/// Parses a URL given on the command line: absolute, http or https.
pub(crate) fn parse_url(input: &str) -> anyhow::Result<Url> {
    let text = input.trim();
    if text.is_empty() {
        bail!("invalid URL '{input}': empty; give an absolute http:// or https:// URL");
    }
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {
            if url.host_str().is_none_or(str::is_empty) {
                bail!("invalid URL '{input}': no host");
            }
            Ok(url)
        }
        // `localhost:8080/x` parses with the scheme `localhost`.
        Ok(_) if looks_like_host_and_port(text) => bail!("{}", missing_scheme(input, text)),
        Ok(url) => bail!(
            "invalid URL '{input}': unsupported scheme '{}'; only http and https URLs can be \
             scraped",
            url.scheme()
        ),
        Err(url::ParseError::RelativeUrlWithoutBase) if looks_like_host(text) => {
            bail!("{}", missing_scheme(input, text))
        }
        Err(error) => Err(error).with_context(|| format!("invalid URL '{input}'")),
    }
}

fn missing_scheme(input: &str, text: &str) -> String {
    format!(
        "invalid URL '{input}': relative URL without a base; add http:// or https://, \
         e.g. 'https://{text}'"
    )
}

/// `example.com`, `example.com/x`, `localhost/x`, `127.0.0.1:8080`: a host name first.
fn looks_like_host(text: &str) -> bool {
    let host = text.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    !host.is_empty()
        && !host.starts_with('.')
        && (host.contains('.') || host.eq_ignore_ascii_case("localhost"))
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `localhost:8080/x`: a name, a colon and a port, without `//`.
fn looks_like_host_and_port(text: &str) -> bool {
    let Some((host, rest)) = text.split_once(':') else {
        return false;
    };
    !rest.starts_with("//")
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(input: &str) -> String {
        format!("{:#}", parse_url(input).unwrap_err())
    }

    #[test]
    fn accepts_http_and_https() {
        assert_eq!(
            parse_url(" https://example.com/x ").unwrap().as_str(),
            "https://example.com/x"
        );
        assert_eq!(
            parse_url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn explains_bad_urls() {
        assert_eq!(
            error("foo"),
            "invalid URL 'foo': relative URL without a base"
        );
        assert_eq!(
            error("example.com/x"),
            "invalid URL 'example.com/x': relative URL without a base; add http:// or \
             https://, e.g. 'https://example.com/x'"
        );
        assert!(error("localhost:8080/x").contains("add http:// or https://"));
        assert!(error("ftp://example.com/").contains("unsupported scheme 'ftp'"));
        assert!(error("").contains("empty"));
        assert!(error("http://[::1").starts_with("invalid URL 'http://[::1': "));
    }
}
