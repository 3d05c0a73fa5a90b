//! Boilerplate lines inside an article's body: the site talking, not the story.
//!
//! Appeals ("Support our journalism", "Gefällt dir unser Magazin?"), newsletter and app
//! prompts, author bios, disclaimers ("This post contains affiliate links"), licence and
//! reprint notes, "write to the editor" lines. They are written as sentences, so the
//! prose measures keep them; what gives them away is their *shape*, not their words:
//!
//! - **where** they stand: after the story's last paragraph (or before its first), with
//!   little or no prose following;
//! - **how** they are set: a short block, the whole of it in bold or italics, often with a
//!   link (a button drawn as a link, an address);
//! - **who** speaks: the site to the reader: second person ("you", "Sie", "du", "vous",
//!   "tú") or the site's "we"/"our", with an e-mail address or a handle;
//! - **what** about (support only, in several languages): subscribing, following,
//!   donating, sharing, contacting, advertising, copyright;
//! - the **markup** around it, as support: a class or id naming a box, a promo, a bio.
//!
//! The features feed a logistic model ([`WEIGHTS`]); a block scoring above [`THRESHOLD`] goes.
//! The weights were fitted on trafilatura's evaluation set (lines holding its "must not
//! contain" snippets against lines holding its "must contain" ones) and checked on the
//! readability and wcxb-dev sets, which have full truth texts (see bench/runs/
//! 2026-12-07-precision3). `GANNET_DEBUG=boiler` prints every candidate's features.

use super::*;

/// Longest block (visible characters) judged as a boilerplate line.
const LINE_MAX: u32 = 500;
/// Shortest block judged (shorter ones are labels and controls, judged elsewhere).
const LINE_MIN: u32 = 20;
/// Prose (characters) after a block below which it stands at the story's end.
const TAIL_PROSE: u32 = 150;

/// Stems (lowercase) of what a site asks of its reader or says about itself, in the
/// languages of the development sets and a few more. Support only: a word alone never
/// removes a block.
const ASK_STEMS: &[&str] = &[
    // subscribe, follow, join, sign up
    "subscri",
    "abonn",
    "newsletter",
    "follow",
    "sign up",
    "signup",
    "register",
    "registr",
    "anmeld",
    "suscr",
    "únete",
    "unete",
    "hazte",
    "inscri",
    "zapisz",
    "subskryp",
    "prenumer",
    "zapraszam",
    "members",
    "mitglied",
    "miembro",
    "membre",
    // support, donate
    "support",
    "unterstütz",
    "spende",
    "spenden",
    "donat",
    "apoya",
    "apoyo",
    "soutien",
    "wesprzyj",
    "paywall",
    "bezahlschranke",
    // download, apps, channels
    "download",
    "herunterlad",
    "app ",
    "apps",
    "podcast",
    "whatsapp",
    "telegram",
    "facebook",
    "twitter",
    "instagram",
    "youtube",
    "linkedin",
    "tiktok",
    // share, comment, write to us
    "share",
    "teilen",
    "compart",
    "partag",
    "udostępnij",
    "comment",
    "kommentar",
    "komentarz",
    "letter",
    "leserbrief",
    "e-mail",
    "email",
    "contact",
    "kontakt",
    "contacto",
    // rights, advertising, disclaimers
    "copyright",
    "urheberrecht",
    "lizenz",
    "licen",
    "permission",
    "genehmigung",
    "nachdruck",
    "reprint",
    "przedruk",
    "werbung",
    "anzeige",
    "advertis",
    "sponsor",
    "affiliate",
    "provision",
    "commission",
    "compensation",
    "disclaimer",
    "haftung",
    "opinion",
    "meinung",
];

/// Second-person words (case-sensitive: German "Sie" as address is capitalised).
const YOU: &[&str] = &[
    "you", "You", "your", "Your", "yours", "Sie", "Ihr", "Ihre", "Ihnen", "Ihren", "Ihrem",
    "Ihrer", "du", "Du", "dich", "Dich", "dir", "Dir", "dein", "deine", "Dein", "Deine", "deinen",
    "deinem", "deiner", "euch", "euer", "eure", "vous", "Vous", "votre", "Votre", "vos", "tu",
    "Tu", "tú", "Tú", "usted", "Usted", "ustedes", "você", "Você", "ty", "cię", "Państwo",
    "Państwa",
];

/// The site speaking of itself: first person plural (lowercase).
const WE: &[&str] = &[
    "we", "our", "us", "wir", "uns", "unser", "unsere", "unseren", "unserem", "unserer", "unseres",
    "nous", "notre", "nos", "nosotros", "nuestro", "nuestra", "nuestros", "nuestras", "nós",
    "nosso", "nossa", "nasz", "nasze", "naszego", "naszej", "naszym",
];

/// Class/id words of boxes that hold a site's own text (support only).
const BOX_NAMES: WordSet = WordSet::new(&[
    "promo",
    "newsletter",
    "subscri",
    "donat",
    "support",
    "cta",
    "bio",
    "author",
    "disclaimer",
    "copyright",
    "legal",
    "notice",
    "hinweis",
    "info",
    "box",
    "banner",
    "teaser",
    "signup",
    "paywall",
    "member",
    "social",
    "follow",
    "footer",
    "meta",
    "credit",
    "note",
]);

/// The features of one candidate block.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LineFeatures {
    /// Visible characters.
    pub(super) len: u32,
    /// Prose (characters) after it in the article, and before it.
    pub(super) after: u32,
    pub(super) before: u32,
    /// At least 90% of its text in bold or italics.
    pub(super) emphasis: bool,
    /// Characters inside links.
    pub(super) link: u32,
    /// Asks and site-talk stems ([`ASK_STEMS`]).
    pub(super) asks: u32,
    /// Second-person words ([`YOU`]).
    pub(super) you: u32,
    /// First-person plural words ([`WE`]).
    pub(super) we: u32,
    /// An e-mail address, a handle or a web address in the text.
    pub(super) address: bool,
    /// Sentences (ends of sentences).
    pub(super) sentences: u32,
    /// Ends with `?` or `!`.
    pub(super) exclaims: bool,
    /// A box name ([`BOX_NAMES`]) on it or an ancestor inside the article.
    pub(super) boxed: bool,
    /// Words.
    pub(super) words: u32,
    /// Prose (characters) of its parent block besides its own: the story's paragraphs
    /// are siblings; a box holds its line alone.
    pub(super) siblings: u32,
    /// The article's prose (characters).
    pub(super) total: u32,
}

/// The names of the model's inputs, in the order of [`inputs`] and [`WEIGHTS`].
pub(super) const INPUTS: [&str; 23] = [
    "bias",
    "tail",
    "lead",
    "emphasis",
    "link",
    "mostly link",
    "asks",
    "you",
    "we",
    "address",
    "short",
    "long",
    "exclaims",
    "boxed",
    "many sentences",
    "one sentence",
    "tail × asks",
    "tail × voice",
    "tail × emphasis",
    "tail × boxed",
    "voice × asks",
    "emphasis × asks",
    "among the story's prose",
];

/// The weights of a logistic model over [`inputs`], fitted on trafeval's lines (a "must
/// not contain" snippet: 1; a "must contain" one: 0, counted twice, since a snippet lost
/// costs the score about as much as two leaked). See bench/runs/2026-12-07-precision3.
pub(super) const WEIGHTS: [f32; 23] = [
    -2.82, 0.25, -0.61, 0.17, 0.58, 0.70, 0.75, 0.04, -0.10, -0.21, 1.13, -0.52, -0.53, 1.01, 0.33,
    0.18, 0.41, 0.08, 0.39, 0.53, -0.10, 0.16, -1.28,
];

/// Score above which a line goes: above the model's even odds, so that a line goes only
/// when the evidence is clear (the readability set keeps author notes that trafeval drops).
pub(super) const THRESHOLD: f32 = 0.75;

/// The model's inputs for a line's features.
pub(super) fn inputs(f: &LineFeatures) -> [f32; 23] {
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    let tail = f.after < TAIL_PROSE;
    let lead = f.before == 0 && !tail;
    let asks = f.asks.min(3) as f32;
    let voice = f.you > 0 || f.we > 0;
    [
        1.0,
        b(tail),
        b(lead),
        b(f.emphasis),
        b(f.link > 0),
        b(f.link * 2 > f.len),
        asks,
        f.you.min(2) as f32,
        f.we.min(2) as f32,
        b(f.address),
        b(f.len < 150),
        b(f.len > 300),
        b(f.exclaims),
        b(f.boxed),
        b(f.sentences > 3),
        b(f.sentences == 1),
        b(tail) * asks,
        b(tail && voice),
        b(tail && f.emphasis),
        b(tail && f.boxed),
        b(voice) * f.asks.min(2) as f32,
        b(f.emphasis && f.asks > 0),
        b(f.siblings * 2 > f.total),
    ]
}

/// Which of [`inputs`] depend on the words of a line.
const FROM_WORDS: [bool; 23] = [
    false, false, false, false, false, false, true, true, true, true, false, false, true, false,
    true, true, true, true, false, false, true, true, false,
];

/// Which of [`inputs`] depend on what costs a walk of the line to learn: its words, its
/// emphasis, a box around it. The rest (its place, size, links) the measures give.
const FROM_WALKS: [bool; 23] = [
    false, false, false, true, false, false, true, true, true, true, false, false, true, true,
    true, true, true, true, true, true, true, true, false,
];

/// The highest [`line_score`] a line can reach whatever it turns out to be in the inputs
/// `unknown` marks (not yet learnt): each counts at its largest value, and only when its
/// weight is positive.
pub(super) fn best_score(f: &LineFeatures, unknown: &[bool; 23]) -> f32 {
    let most = LineFeatures {
        asks: 3,
        you: 2,
        we: 2,
        address: true,
        exclaims: true,
        sentences: 4,
        emphasis: f.emphasis || unknown[3],
        boxed: f.boxed || unknown[13],
        ..*f
    };
    // "One sentence" and "many sentences" cannot both hold; the bound counts both.
    let one = LineFeatures {
        sentences: 1,
        ..most
    };
    let (x, y) = (inputs(&most), inputs(&one));
    (0..WEIGHTS.len())
        .map(|i| {
            if unknown[i] {
                (WEIGHTS[i] * x[i]).max(WEIGHTS[i] * y[i]).max(0.0)
            } else {
                WEIGHTS[i] * x[i]
            }
        })
        .sum()
}

/// The boilerplate score of a line: above [`THRESHOLD`], it is the site talking.
pub(super) fn line_score(f: &LineFeatures) -> f32 {
    inputs(f).iter().zip(WEIGHTS).map(|(x, w)| x * w).sum()
}

/// The text features of a line: asks, voice, addresses, sentences.
pub(super) fn text_features(text: &str, f: &mut LineFeatures) {
    let lower = text.to_lowercase();
    f.asks = ASK_STEMS.iter().filter(|s| lower.contains(*s)).count() as u32;
    for w in text
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
        .filter(|w| !w.is_empty())
    {
        let bare = w.trim_matches('.');
        if bare.contains('@') || bare.starts_with("www.") {
            f.address = true;
        }
        let word = bare.trim_start_matches('@');
        if YOU.contains(&word) {
            f.you += 1;
        } else if WE.iter().any(|x| word.eq_ignore_ascii_case(x)) {
            f.we += 1;
        }
        f.words += 1;
    }
    let t = text.trim_end();
    f.exclaims = t.ends_with(['?', '!', '¿', '¡']);
    f.sentences = t
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?') && t[i + 1..].starts_with(char::is_whitespace)
        })
        .count() as u32
        + 1;
}

impl<'d, 'i> Extractor<'d, 'i> {
    /// Remove the blocks whose [`line_score`] says they are the site talking.
    pub(super) fn remove_boilerplate_lines(&mut self, article: NodeId) {
        let total = self.agg_of(article);
        if total.good == 0 {
            return;
        }
        // Prose before each node, in document order.
        let order: Vec<NodeId> = self.dom.descendants(article).collect();
        let mut before = vec![0u32; order.len()];
        let mut acc = 0u32;
        for (k, &d) in order.iter().enumerate() {
            before[k] = acc;
            if self.dom.is_text(d) {
                acc = acc.saturating_add(self.agg_of(d).good);
            }
        }
        let dump = debug_boiler();
        let mut found = Vec::new();
        let mut removed = 0u32;
        let mut skip: Option<NodeId> = None;
        for (k, &d) in order.iter().enumerate() {
            if skip.is_some_and(|s| self.dom.is_ancestor(s, d)) {
                continue;
            }
            if !matches!(
                self.dom.tag(d),
                Some(Tag::P | Tag::Div | Tag::Blockquote | Tag::Center | Tag::Small | Tag::Address)
            ) {
                continue;
            }
            let a = self.agg_of(d);
            if a.block || a.keep || a.text < LINE_MIN || a.text > LINE_MAX {
                continue;
            }
            skip = Some(d);
            if self
                .within
                .get(d.index())
                .is_some_and(|w| w & (IN_TABLE | IN_CODE | IN_FIGURE) != 0)
            {
                continue;
            }
            let mut f = LineFeatures {
                len: a.text,
                before: before[k],
                after: total.good.saturating_sub(before[k] + a.good),
                link: a.link,
                siblings: self
                    .dom
                    .parent(d)
                    .map_or(0, |p| self.agg_of(p).good.saturating_sub(a.good)),
                total: total.good,
                ..LineFeatures::default()
            };
            // Most lines are the story's: settled by their place and size alone, without
            // walking them or reading their words.
            if !dump && best_score(&f, &FROM_WALKS) <= THRESHOLD {
                continue;
            }
            f.emphasis = self.emphasised(d, a.text);
            f.boxed = self.boxed(d, article);
            if !dump && best_score(&f, &FROM_WORDS) <= THRESHOLD {
                continue;
            }
            let text = self.dom.text_content(d);
            text_features(&text, &mut f);
            let score = line_score(&f);
            if dump {
                let fired: Vec<&str> = INPUTS
                    .iter()
                    .zip(inputs(&f))
                    .filter(|&(_, x)| x != 0.0)
                    .map(|(n, _)| *n)
                    .collect();
                tracing::trace!(
                    target: "gannet_extract::debug",
                    score,
                    features = ?f,
                    text = text.split_whitespace().collect::<Vec<_>>().join(" "),
                    fired = fired.join(", "),
                    "boiler"
                );
            }
            if score > THRESHOLD {
                removed += a.text;
                found.push(d);
            }
        }
        // Never most of the story.
        if removed * 5 > total.text {
            return;
        }
        for d in found {
            self.remove_line(d, "boilerplate line");
        }
    }

    /// Whether at least 90% of a block's text is in bold or italics.
    fn emphasised(&self, id: NodeId, text: u32) -> bool {
        let mut plain = 0u32;
        let mut walk = self.dom.descendants(id);
        while let Some(d) = walk.next() {
            if matches!(
                self.dom.tag(d),
                Some(Tag::Strong | Tag::B | Tag::Em | Tag::I)
            ) {
                walk.skip_subtree(d);
            } else if let Some(t) = self.dom.text(d) {
                plain += t.chars().filter(|c| !c.is_whitespace()).count() as u32;
            }
        }
        plain * 10 <= text
    }

    /// Whether the block or an ancestor inside the article has a box name.
    fn boxed(&self, id: NodeId, article: NodeId) -> bool {
        std::iter::once(id)
            .chain(self.dom.ancestors(id).take_while(|&a| a != article))
            .any(|a| {
                let (class, ident) = self.dom.class_and_id(a);
                BOX_NAMES.in_str(class) || BOX_NAMES.in_str(ident)
            })
    }
}

/// `GANNET_DEBUG=boiler`: print every candidate line's features and score.
fn debug_boiler() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GANNET_DEBUG").is_some_and(|v| v == "boiler"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> LineFeatures {
        let mut f = LineFeatures::default();
        text_features(text, &mut f);
        f
    }

    #[test]
    fn the_voice_of_a_line_in_several_languages() {
        assert_eq!(features("Gefällt dir unser Magazin?").you, 1);
        assert_eq!(features("Gefällt dir unser Magazin?").we, 1);
        // German "sie" (they) is not the reader; "Sie" is.
        assert_eq!(features("Dann gingen sie nach Hause.").you, 0);
        assert_eq!(features("Abonnieren Sie unseren Newsletter").you, 1);
        assert_eq!(features("Puede escribirnos: tú decides").you, 1);
        assert_eq!(features("Nous vous remercions").we, 1);
        assert!(features("Write to letters@example.com").address);
        assert!(features("Mehr unter www.example.de.").address);
        assert!(!features("The harbour opened in 1890.").address);
    }

    #[test]
    fn asks_sentences_and_exclamations() {
        let f = features("Sign up for our newsletter. Follow us on Twitter!");
        assert!(f.asks >= 3, "{f:?}");
        assert_eq!(f.sentences, 2);
        assert!(f.exclaims);
        let f = features("The tide came in at noon, and the boats went out");
        assert_eq!(f.asks, 0);
        assert_eq!(f.sentences, 1);
        assert!(!f.exclaims);
    }

    #[test]
    fn a_boxed_appeal_at_the_end_scores_above_the_threshold_and_a_story_line_below() {
        let appeal = LineFeatures {
            len: 60,
            after: 0,
            before: 2000,
            emphasis: true,
            link: 10,
            boxed: true,
            total: 2000,
            ..features("Never miss a story: sign up for our newsletter today!")
        };
        assert!(line_score(&appeal) > THRESHOLD, "{}", line_score(&appeal));
        // The same words in the middle of the story's own paragraphs.
        let story = LineFeatures {
            len: 240,
            after: 1500,
            before: 500,
            siblings: 1800,
            total: 2000,
            ..features(
                "The council asked residents to sign up for the newsletter, which will \
                 carry the harbour's timetable. Most of them did. The first issue went \
                 out on Monday, with the new tide tables.",
            )
        };
        assert!(line_score(&story) < THRESHOLD, "{}", line_score(&story));
        assert_eq!(INPUTS.len(), WEIGHTS.len());
        // The bound read before the words is never below the score.
        for f in [appeal, story] {
            assert!(best_score(&f, &FROM_WORDS) >= line_score(&f), "{f:?}");
            assert!(
                best_score(&f, &FROM_WALKS) >= best_score(&f, &FROM_WORDS),
                "{f:?}"
            );
        }
        // A paragraph among the story's own, not at its end, is settled by its shape.
        let middle = LineFeatures {
            len: 300,
            after: 1500,
            before: 500,
            siblings: 1800,
            total: 2000,
            ..LineFeatures::default()
        };
        assert!(
            best_score(&middle, &FROM_WALKS) <= THRESHOLD,
            "{}",
            best_score(&middle, &FROM_WALKS)
        );
    }
}
