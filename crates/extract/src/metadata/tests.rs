use super::*;

fn meta(html: &str) -> Metadata {
    extract_metadata(&Dom::parse(html), None)
}

#[test]
fn jsonld_graph_beats_meta() {
    let m = meta(
        r#"<html lang="en"><head><title>Doc title - Site</title>
        <meta property="og:title" content="OG title">
        <meta name="author" content="Meta Author">
        <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
          {"@type":"WebSite","name":"The Site"},
          {"@type":"Article","headline":"LD headline","author":[{"@type":"Person","name":"A"},{"name":"B"}],
           "publisher":{"name":"Pub"},"datePublished":"2020-01-02","description":"LD &amp; desc"}]}</script>
        </head><body><p>x</p></body></html>"#,
    );
    assert_eq!(m.title.as_deref(), Some("LD headline"));
    assert_eq!(m.byline.as_deref(), Some("A, B"));
    assert_eq!(m.site_name.as_deref(), Some("Pub"));
    assert_eq!(m.published_time.as_deref(), Some("2020-01-02"));
    assert_eq!(m.excerpt.as_deref(), Some("LD & desc"));
    assert_eq!(m.lang.as_deref(), Some("en"));
}

#[test]
fn jsonld_name_vs_headline_follows_the_document_title() {
    // aktualne.cz style: "name" is the site, "headline" the article.
    let m = meta(
        r#"<title>West Ham hrozí gigantům, okouzlil i Linekera - Aktuálně.cz</title>
        <script type="application/ld+json">{"@context":"http://schema.org","@type":"NewsArticle",
        "name":"Aktuálně.cz","headline":"West Ham hrozí gigantům, okouzlil i Linekera"}</script>"#,
    );
    assert_eq!(
        m.title.as_deref(),
        Some("West Ham hrozí gigantům, okouzlil i Linekera")
    );
}

#[test]
fn broken_jsonld_does_not_hide_meta() {
    let m = meta(
        r#"<script type="application/ld+json">{"@type": "Article", "headline": </script>
        <meta property="og:title" content=" The  OG title ">
        <meta property="og:site_name" content="Site">
        <meta property="og:description" content="Desc">
        <meta property="article:published_time" content="2019-05-06T07:08:09Z">"#,
    );
    assert_eq!(m.title.as_deref(), Some("The OG title"));
    assert_eq!(m.site_name.as_deref(), Some("Site"));
    assert_eq!(m.excerpt.as_deref(), Some("Desc"));
    assert_eq!(m.published_time.as_deref(), Some("2019-05-06T07:08:09Z"));
}

#[test]
fn dublin_core_and_space_separated_properties() {
    let m = meta(
        r#"<title>Title Element</title>
        <meta property="x:y og:title dc:title" content="Preferred title">
        <meta name="dc.creator" content="Creator Name">
        <meta name="twitter:title" content="Twitter">"#,
    );
    assert_eq!(m.title.as_deref(), Some("Preferred title"));
    assert_eq!(m.byline.as_deref(), Some("Creator Name"));
}

#[test]
fn parsely_and_article_author() {
    let m = meta(
        r#"<meta name="parsely-title" content="Some Other Title">
        <meta name="parsely-author" content="Jane Doe">
        <meta name="parsely-pub-date" content="2020-03-04">"#,
    );
    assert_eq!(m.title.as_deref(), Some("Some Other Title"));
    assert_eq!(m.byline.as_deref(), Some("Jane Doe"));
    assert_eq!(m.published_time.as_deref(), Some("2020-03-04"));

    let m = meta(r#"<meta property="article:author" content="https://facebook.com/someone">"#);
    assert_eq!(m.byline, None);
    let m = meta(r#"<meta property="article:author" content="Laura June Topolsky">"#);
    assert_eq!(m.byline.as_deref(), Some("Laura June Topolsky"));
}

#[test]
fn title_separators_and_h1() {
    let m = meta("<title>Some longer article title here | Example Site</title>");
    assert_eq!(m.title.as_deref(), Some("Some longer article title here"));
    // Four words or fewer left: Readability keeps the whole title.
    let m = meta("<title>Four words title here | Example Site</title>");
    assert_eq!(
        m.title.as_deref(),
        Some("Four words title here | Example Site")
    );
    let m = meta("<title>Short</title><body><h1>The real headline of the page</h1></body>");
    assert_eq!(m.title.as_deref(), Some("The real headline of the page"));
    // Two h1s: no preference.
    let m = meta("<title>Short</title><body><h1>One</h1><h1>Two</h1></body>");
    assert_eq!(m.title.as_deref(), Some("Short"));
    // No <title> at all: the microdata headline or first h1.
    let m = meta("<body><h1>Only  heading</h1></body>");
    assert_eq!(m.title.as_deref(), Some("Only heading"));
    // <title> inside SVG is not the document title.
    let m = meta("<body><svg><title>icon</title></svg></body>");
    assert_eq!(m.title, None);
}

#[test]
fn byline_from_dom() {
    let html = r#"<html><body>
        <div class="header"><span class="author">Not this (unlikely region)</span></div>
        <div class="post-byline">By <a rel="author">Jane   Roe</a></div>
        <p>Text</p></body></html>"#;
    let dom = Dom::parse(html);
    let (m, nodes) = analyze(&dom, None, &MetadataOptions::default());
    assert_eq!(m.byline.as_deref(), Some("By Jane Roe"));
    let b = nodes.byline.expect("byline node");
    assert_eq!(dom.attr(b, "class"), Some("post-byline"));
    assert_eq!(byline_nodes(&dom), vec![b]);
}

#[test]
fn byline_dom_prefers_itemprop_name_and_skips_hidden_and_long() {
    let long = "word ".repeat(30);
    let html = format!(
        r#"<body><div class="author" style="display: none">Hidden Person</div>
        <div class="author-bio">{long}</div>
        <span itemprop="author" itemscope><span itemprop="name">Ann Smith</span>, staff</span></body>"#
    );
    let m = meta(&html);
    assert_eq!(m.byline.as_deref(), Some("Ann Smith"));
}

#[test]
fn dom_byline_node_not_reported_when_metadata_has_byline() {
    let dom = Dom::parse(
        r#"<meta name="author" content="Meta Person"><body><p class="byline">By Someone</p></body>"#,
    );
    let (m, nodes) = analyze(&dom, None, &MetadataOptions::default());
    assert_eq!(m.byline.as_deref(), Some("Meta Person"));
    assert_eq!(nodes.byline, None);
}

#[test]
fn title_heading_is_found() {
    let dom = Dom::parse(
        r#"<title>A Story About Many Things - News Site</title><body>
        <h2>Menu</h2><div><h1 class="title">A Story About Many Things</h1><p>x</p></div></body>"#,
    );
    let (m, nodes) = analyze(&dom, None, &MetadataOptions::default());
    assert_eq!(m.title.as_deref(), Some("A Story About Many Things"));
    let h = nodes.title_heading.expect("heading");
    assert!(dom.is(h, Tag::H1));
    assert!(is_title_heading(&dom, h, "A Story About Many Things"));
    assert!(is_title_heading(
        &dom,
        h,
        "A Story About Many Things | News Site"
    ));
    let first_h2 = dom.find_any(Tag::H2).expect("h2");
    assert!(!is_title_heading(
        &dom,
        first_h2,
        "A Story About Many Things"
    ));
}

#[test]
fn lang_dir_canonical_image() {
    let url = Url::parse("https://example.com/a/b.html").expect("url");
    let dom = Dom::parse(
        r#"<html dir="RTL"><head><meta http-equiv="content-language" content="de, en">
        <link rel="Canonical" href="/canon"><meta property="og:image" content="img/x.png"></head></html>"#,
    );
    let m = extract_metadata(&dom, Some(&url));
    assert_eq!(m.lang.as_deref(), Some("de"));
    assert_eq!(m.dir.as_deref(), Some("rtl"));
    assert_eq!(m.canonical.as_deref(), Some("https://example.com/canon"));
    assert_eq!(m.image.as_deref(), Some("https://example.com/a/img/x.png"));
}

#[test]
fn time_and_microdata_dates() {
    let m = meta(r#"<body><time pubdate datetime="2001-02-03">Feb 3</time></body>"#);
    assert_eq!(m.published_time.as_deref(), Some("2001-02-03"));
    let m = meta(r#"<body><span itemprop="datePublished" content="2002-03-04">x</span></body>"#);
    assert_eq!(m.published_time.as_deref(), Some("2002-03-04"));
}

#[test]
fn empty_values_are_none() {
    let m = meta(
        r#"<title>  </title><meta name="author" content="   "><meta name="description" content="">"#,
    );
    assert_eq!(m, Metadata::default());
    assert_eq!(meta(""), Metadata::default());
}

#[test]
fn double_escaped_entities_are_decoded_once_more() {
    let m = meta(r#"<meta property="og:title" content="Tom &amp;amp; Jerry &amp;#039;s">"#);
    assert_eq!(m.title.as_deref(), Some("Tom & Jerry 's"));
    assert_eq!(
        unescape_basic("a &#x41; &#65; &bogus; &"),
        "a A A &bogus; &"
    );
}

#[test]
fn property_and_name_patterns() {
    assert_eq!(
        readability_property_key("og:title").as_deref(),
        Some("og:title")
    );
    assert_eq!(
        readability_property_key(" dcterm : creator ").as_deref(),
        Some("dcterm:creator")
    );
    assert_eq!(readability_property_key("fb:app_id"), None);
    assert_eq!(
        readability_name_key("DC.Title").as_deref(),
        Some("dc:title")
    );
    assert_eq!(
        readability_name_key("parsely-pub-date").as_deref(),
        Some("parsely-pub-date")
    );
    assert_eq!(
        readability_name_key("weibo:article:title").as_deref(),
        Some("weibo:article:title")
    );
    assert_eq!(readability_name_key("viewport"), None);
}

#[test]
fn headline_style_prefers_the_visible_h1_and_strips_site_names() {
    let html = r#"<title>x</title><meta property="og:title" content="Big News Today Happened | Example Daily">
        <meta property="og:site_name" content="Example Daily">
        <body><h1>Big News Today Happened</h1></body>"#;
    let dom = Dom::parse(html);
    let readability = extract_metadata(&dom, None);
    assert_eq!(
        readability.title.as_deref(),
        Some("Big News Today Happened | Example Daily")
    );
    let opts = MetadataOptions {
        title: TitleStyle::Headline,
    };
    let headline = extract_metadata_with(&dom, None, &opts);
    assert_eq!(headline.title.as_deref(), Some("Big News Today Happened"));
    // No h1: the site name is cut off.
    let dom = Dom::parse(
        r#"<meta property="og:title" content="Example Daily: Big News Today"><meta property="og:site_name" content="Example Daily">"#,
    );
    let headline = extract_metadata_with(&dom, None, &opts);
    assert_eq!(headline.title.as_deref(), Some("Big News Today"));
}

#[test]
fn relaxed_byline_when_the_first_pass_finds_none() {
    // Readability's retry without unlikely-candidate pruning finds bylines in headers.
    let m = meta(
        r#"<body><header class="entry-header"><a rel="author" href="/a">Mike Conley</a></header>
        <article><p>Text</p></article></body>"#,
    );
    assert_eq!(m.byline.as_deref(), Some("Mike Conley"));
}

#[test]
fn jsonld_string_authors_come_after_the_dom() {
    let m = meta(
        r#"<script type="application/ld+json">{"@context":"https://schema.org","@type":"Article","author":"user123"}</script>
        <body><div class="byline">James Akinaka</div></body>"#,
    );
    assert_eq!(m.byline.as_deref(), Some("James Akinaka"));
    let m = meta(
        r#"<script type="application/ld+json">{"@context":"https://schema.org","@type":"Article","author":"user123"}</script>"#,
    );
    assert_eq!(m.byline.as_deref(), Some("user123"));
}

#[test]
fn form_labels_and_authorization_are_not_bylines() {
    let m = meta(
        r#"<body><div class="authorization-box">Sign in</div>
        <form><p class="comment-form-author"><label for="author">Name *</label><input name="author"></p></form>
        <p>Text</p></body>"#,
    );
    assert_eq!(m.byline, None);
}
