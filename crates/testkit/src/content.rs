//! The texts the fixture site serves, as constants tests assert on, and the HTML built from them.

use encoding_rs::Encoding;

/// Title of the home page `/`.
pub const HOME_TITLE: &str = "Gannet Fixture Site";
/// A sentence found in the article of the home page `/`.
pub const HOME_PHRASE: &str = "Gannets are seabirds that plunge into the sea from great heights";

/// Title of `/article/1`.
pub const ARTICLE_TITLE: &str = "How Gannets Dive";
/// A sentence found in the article of `/article/1`.
pub const ARTICLE_PHRASE: &str =
    "A diving gannet folds its wings back just before it hits the water at sixty miles an hour";

/// Title of `/article/2`.
pub const SECOND_ARTICLE_TITLE: &str = "Where Gannets Nest";
/// A sentence found in the article of `/article/2`.
pub const SECOND_ARTICLE_PHRASE: &str =
    "The largest northern gannet colony is on Bass Rock in the Firth of Forth";

/// A sentence found in the page at the end of every redirect chain (`/redirect/0`, `/rel/target`).
pub const REDIRECT_TARGET_PHRASE: &str = "You have reached the end of the redirect chain";

/// A sentence found in every compressed page (`/compressed/*`).
pub const COMPRESSED_PHRASE: &str = "This page travelled compressed and arrived intact";

/// A sentence found in `/slow-body` once all of its chunks arrived.
pub const SLOW_BODY_PHRASE: &str = "The last chunk of the slow body has arrived";

/// A sentence found in `/no-content-type` (HTML served without a `Content-Type`).
pub const NO_CONTENT_TYPE_PHRASE: &str = "This page was served without a content type";

/// The text of `/text.txt` (served as `text/plain`).
pub const PLAIN_TEXT: &str = "Plain text is accepted by the fetcher.\n";

/// Japanese text of the Shift_JIS pages.
pub const JAPANESE_TEXT: &str =
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。";
/// Chinese text of the GBK pages.
pub const CHINESE_TEXT: &str = "中华人民共和国的首都是北京，这是一座历史悠久的美丽城市。";
/// Korean text of the EUC-KR pages.
pub const KOREAN_TEXT: &str = "대한민국의 수도는 서울입니다. 서울은 아름다운 도시입니다.";
/// Czech text of the windows-1250 pages.
pub const CZECH_TEXT: &str = "Příliš žluťoučký kůň úpěl ďábelské ódy.";
/// Russian text of the windows-1251 and KOI8-R pages.
pub const RUSSIAN_TEXT: &str = "Съешь же ещё этих мягких французских булок, да выпей чаю.";
/// Text with non-ASCII characters of the UTF-8 pages.
pub const UTF8_TEXT: &str = "Ça va? Grüße aus Köln, naïve café crème — ½ € ✓.";

/// One page in a legacy (or UTF-8) encoding, served twice: at `/charset/{slug}/header` with
/// the charset only in the HTTP `Content-Type`, and at `/charset/{slug}/meta` with it only in a
/// `<meta charset>` placed after more than 1024 bytes of head.
#[derive(Debug, Clone, Copy)]
pub struct CharsetPage {
    /// Path segment: `/charset/{slug}/header` and `/charset/{slug}/meta`.
    pub slug: &'static str,
    /// The label written in the header or the meta, as a server would.
    pub label: &'static str,
    /// The text the page carries; decoding must give back exactly this.
    pub text: &'static str,
}

impl CharsetPage {
    /// Path of the variant with the charset only in the HTTP header.
    pub fn header_path(&self) -> String {
        format!("/charset/{}/header", self.slug)
    }

    /// Path of the variant with the charset only in a late `<meta>`.
    pub fn meta_path(&self) -> String {
        format!("/charset/{}/meta", self.slug)
    }

    pub(crate) fn encoding(&self) -> &'static Encoding {
        Encoding::for_label(self.label.as_bytes()).unwrap_or(encoding_rs::UTF_8)
    }
}

/// Every charset page of the site.
pub const CHARSET_PAGES: &[CharsetPage] = &[
    CharsetPage {
        slug: "utf-8",
        label: "utf-8",
        text: UTF8_TEXT,
    },
    CharsetPage {
        slug: "shift_jis",
        label: "Shift_JIS",
        text: JAPANESE_TEXT,
    },
    CharsetPage {
        slug: "gbk",
        label: "GBK",
        text: CHINESE_TEXT,
    },
    CharsetPage {
        slug: "euc-kr",
        label: "EUC-KR",
        text: KOREAN_TEXT,
    },
    CharsetPage {
        slug: "windows-1250",
        label: "windows-1250",
        text: CZECH_TEXT,
    },
    CharsetPage {
        slug: "windows-1251",
        label: "windows-1251",
        text: RUSSIAN_TEXT,
    },
    CharsetPage {
        slug: "koi8-r",
        label: "KOI8-R",
        text: RUSSIAN_TEXT,
    },
];

/// An article page: navigation, a header, an `<article>` with `paragraphs`, a footer.
pub(crate) fn article_html(title: &str, head_extra: &str, paragraphs: &[&str]) -> String {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str("      <p>");
        body.push_str(p);
        body.push_str("</p>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n{head_extra}  <title>{title}</title>\n\
         </head>\n<body>\n  <nav><a href=\"/\">Home</a> | <a href=\"/article/1\">Diving</a> | \
         <a href=\"/article/2\">Nesting</a></nav>\n  <main>\n    <article>\n      \
         <h1>{title}</h1>\n{body}    </article>\n  </main>\n  \
         <footer>Fixture site footer</footer>\n</body>\n</html>\n"
    )
}

/// Filler that pads a head past 1024 bytes before a late `<meta charset>`.
pub(crate) fn head_padding() -> String {
    let line = "  <meta name=\"keywords\" content=\"gannet, fixture, charset, padding, test\">\n";
    line.repeat(1200 / line.len() + 1)
}

/// English sentences that make an article long enough for main-content extraction.
pub(crate) const FILLER: &[&str] = &[
    "Northern gannets breed in large colonies on cliffs and islands of the North Atlantic.",
    "They feed on fish such as mackerel and herring, which they catch by diving from the air.",
    "Their eyes face forward, which gives them the binocular vision they need to judge a dive.",
    "Air sacs under the skin of the face and chest cushion the impact when they hit the water.",
];

/// The HTML of a charset page (as text; the route encodes it).
pub(crate) fn charset_html(page: &CharsetPage, with_meta: bool) -> String {
    let head = if with_meta {
        format!("{}  <meta charset=\"{}\">\n", head_padding(), page.label)
    } else {
        String::new()
    };
    let title = format!("Charset test {}", page.slug);
    let paragraphs = [page.text; 6];
    article_html(&title, &head, &paragraphs)
}

/// The HTML of a page whose article holds `phrase` and the filler sentences.
pub(crate) fn phrase_page(title: &str, phrase: &str) -> String {
    let sentence = format!("{phrase}.");
    let mut paragraphs = vec![sentence.as_str()];
    paragraphs.extend_from_slice(FILLER);
    article_html(title, "", &paragraphs)
}
