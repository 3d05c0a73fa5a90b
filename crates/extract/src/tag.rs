//! Known HTML element names as a small enum, so that the parser and the extractor compare
//! tags as integers instead of strings. Unknown names become [`Tag::Other`] and keep their
//! name in the DOM.

macro_rules! tags {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// An HTML element name. `Other` is any name not listed here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Tag { $($variant,)* Other }

        impl Tag {
            /// The tag for a lowercase ASCII name.
            pub fn from_lowercase(name: &[u8]) -> Tag {
                match name {
                    $($name => Tag::$variant,)*
                    _ => Tag::Other,
                }
            }

            /// The lowercase name of a known tag; `""` for [`Tag::Other`].
            pub fn name(self) -> &'static str {
                match self {
                    $(Tag::$variant => {
                        // SAFETY-free: the literals are ASCII.
                        match std::str::from_utf8($name) { Ok(s) => s, Err(_) => "" }
                    })*
                    Tag::Other => "",
                }
            }
        }
    };
}

tags! {
    A = b"a", Abbr = b"abbr", Address = b"address", Applet = b"applet", Area = b"area",
    Article = b"article", Aside = b"aside", Audio = b"audio", B = b"b", Base = b"base",
    Bdi = b"bdi", Bdo = b"bdo", Blockquote = b"blockquote", Body = b"body", Br = b"br",
    Button = b"button", Canvas = b"canvas", Caption = b"caption", Center = b"center",
    Cite = b"cite", Code = b"code", Col = b"col", Colgroup = b"colgroup", Data = b"data",
    Dd = b"dd", Del = b"del", Details = b"details", Dfn = b"dfn", Dialog = b"dialog",
    Dir = b"dir", Div = b"div", Dl = b"dl", Dt = b"dt", Em = b"em", Embed = b"embed",
    Fieldset = b"fieldset", Figcaption = b"figcaption", Figure = b"figure", Font = b"font",
    Footer = b"footer", Form = b"form", Frame = b"frame", Frameset = b"frameset", H1 = b"h1",
    H2 = b"h2", H3 = b"h3", H4 = b"h4", H5 = b"h5", H6 = b"h6", Head = b"head",
    Header = b"header", Hgroup = b"hgroup", Hr = b"hr", Html = b"html", I = b"i",
    Iframe = b"iframe", Img = b"img", Input = b"input", Ins = b"ins", Kbd = b"kbd",
    Keygen = b"keygen", Label = b"label", Legend = b"legend", Li = b"li", Link = b"link",
    Main = b"main", Map = b"map", Mark = b"mark", Marquee = b"marquee", Math = b"math",
    Menu = b"menu", Meta = b"meta", Meter = b"meter", Nav = b"nav", Nobr = b"nobr",
    Noembed = b"noembed", Noframes = b"noframes", Noscript = b"noscript", Object = b"object",
    Ol = b"ol", Optgroup = b"optgroup", Option = b"option", Output = b"output", P = b"p",
    Param = b"param", Picture = b"picture", Plaintext = b"plaintext", Pre = b"pre",
    Progress = b"progress", Q = b"q", Rp = b"rp", Rt = b"rt", Ruby = b"ruby", S = b"s",
    Samp = b"samp", Script = b"script", Search = b"search", Section = b"section",
    Select = b"select", Slot = b"slot", Small = b"small", Source = b"source", Span = b"span",
    Strike = b"strike", Strong = b"strong", Style = b"style", Sub = b"sub",
    Summary = b"summary", Sup = b"sup", Svg = b"svg", Table = b"table", Tbody = b"tbody",
    Td = b"td", Template = b"template", Textarea = b"textarea", Tfoot = b"tfoot", Th = b"th",
    Thead = b"thead", Time = b"time", Title = b"title", Tr = b"tr", Track = b"track",
    Tt = b"tt", U = b"u", Ul = b"ul", Var = b"var", Video = b"video", Wbr = b"wbr",
    Xmp = b"xmp",
}

impl Tag {
    /// Elements that never have children (`<br>`, `<img>`, ...).
    pub fn is_void(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Area | Base
                | Br
                | Col
                | Embed
                | Hr
                | Img
                | Input
                | Keygen
                | Link
                | Meta
                | Param
                | Source
                | Track
                | Wbr
                | Frame
        )
    }

    /// Headings `h1`..`h6`.
    pub fn is_heading(self) -> bool {
        use Tag::*;
        matches!(self, H1 | H2 | H3 | H4 | H5 | H6)
    }

    /// The heading level (1..=6), or 0.
    pub fn heading_level(self) -> usize {
        use Tag::*;
        match self {
            H1 => 1,
            H2 => 2,
            H3 => 3,
            H4 => 4,
            H5 => 5,
            H6 => 6,
            _ => 0,
        }
    }

    /// Start tags that close an open `<p>` (the HTML tree builder's list).
    pub(crate) fn closes_p(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | Header
                | Hgroup
                | Hr
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Search
                | Section
                | Summary
                | Ul
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Pre
                | Table
                | Xmp
                | Plaintext
                | Li
                | Dd
                | Dt
        )
    }

    /// Block-level elements: rendering puts them on lines of their own.
    pub fn is_block(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Body
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Dd
                | Dt
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | Frameset
                | Header
                | Hgroup
                | Hr
                | Html
                | Li
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Pre
                | Search
                | Section
                | Summary
                | Table
                | Tbody
                | Thead
                | Tfoot
                | Tr
                | Td
                | Th
                | Caption
                | Ul
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Legend
                | Noscript
                | Xmp
                | Plaintext
                | Iframe
                | Video
                | Audio
                | Canvas
                | Picture
                | Select
                | Textarea
                | Option
                | Optgroup
        )
    }

    /// Elements whose content the tokenizer reads as raw text up to the matching end tag.
    pub(crate) fn is_raw_text(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Script | Style | Xmp | Iframe | Noembed | Noframes | Textarea | Title
        )
    }

    /// Raw-text elements whose character references are decoded (RCDATA).
    pub(crate) fn is_rcdata(self) -> bool {
        matches!(self, Tag::Textarea | Tag::Title)
    }

    /// "Special" elements of the tree builder, which stop the search for an open `<li>`
    /// (except `address`, `div` and `p`).
    pub(crate) fn is_special(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Address
                | Applet
                | Area
                | Article
                | Aside
                | Base
                | Blockquote
                | Body
                | Br
                | Button
                | Caption
                | Center
                | Col
                | Colgroup
                | Dd
                | Details
                | Dir
                | Div
                | Dl
                | Dt
                | Embed
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | Frame
                | Frameset
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Head
                | Header
                | Hgroup
                | Hr
                | Html
                | Iframe
                | Img
                | Input
                | Keygen
                | Li
                | Link
                | Main
                | Marquee
                | Menu
                | Meta
                | Nav
                | Noembed
                | Noframes
                | Noscript
                | Object
                | Ol
                | P
                | Param
                | Plaintext
                | Pre
                | Script
                | Search
                | Section
                | Select
                | Source
                | Style
                | Summary
                | Table
                | Tbody
                | Td
                | Template
                | Textarea
                | Tfoot
                | Th
                | Thead
                | Title
                | Tr
                | Track
                | Ul
                | Wbr
                | Xmp
        )
    }

    /// Formatting elements: the tree builder's adoption agency closes them without
    /// closing the blocks opened inside them.
    pub(crate) fn is_formatting(self) -> bool {
        use Tag::*;
        matches!(
            self,
            A | B | Code | Em | Font | I | Nobr | S | Small | Strike | Strong | Tt | U
        )
    }

    /// Scope boundaries: an end tag does not close elements beyond these. A `button` is
    /// not one (an unclosed button ends at its container's end tag, as in browsers); it
    /// bounds [button scope](Self::is_button_scope_boundary) only.
    pub(crate) fn is_scope_boundary(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Applet | Caption | Html | Table | Td | Th | Marquee | Object | Template
        )
    }

    /// Boundaries of the tree builder's "button scope": where a `p` (and, here, an `a` or
    /// a `button`) is looked for when a start tag or `</p>` implies closing it.
    pub(crate) fn is_button_scope_boundary(self) -> bool {
        self.is_scope_boundary() || self == Tag::Button
    }
}

#[cfg(test)]
mod tests {
    use super::Tag;

    #[test]
    fn names_round_trip() {
        for name in ["a", "div", "h3", "blockquote", "svg", "xmp"] {
            assert_eq!(Tag::from_lowercase(name.as_bytes()).name(), name);
        }
        assert_eq!(Tag::from_lowercase(b"custom-element"), Tag::Other);
    }
}
