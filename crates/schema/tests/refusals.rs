//! What gannet refuses, and how it stays bounded on hostile input.

#![allow(clippy::unwrap_used)] // Test helpers unwrap: a panic is a failed test.

use gannet_extract::Dom;
use gannet_schema::{ExtractError, RegexStrategy, Schema, SchemaError};
use serde_json::{Value, json};

fn css_err(schema: Value) -> SchemaError {
    Schema::css(&schema).unwrap_err()
}

fn field(f: Value) -> Value {
    json!({"name": "s", "baseSelector": "div", "fields": [f]})
}

#[test]
fn bad_schemas_are_typed_errors_naming_the_field() {
    assert!(matches!(css_err(json!([])), SchemaError::Invalid(_)));
    assert!(
        matches!(css_err(json!({"fields": []})), SchemaError::Invalid(m) if m.contains("baseSelector"))
    );
    assert!(
        matches!(css_err(json!({"baseSelector": "div"})), SchemaError::Invalid(m) if m.contains("fields"))
    );
    let cases = [
        (json!({"name": "t", "type": "txt"}), "unknown type \"txt\""),
        (
            json!({"name": "t", "type": "text", "transform": "title"}),
            "unknown transform",
        ),
        (
            json!({"name": "t", "type": "attribute"}),
            "needs `attribute`",
        ),
        (
            json!({"name": "t", "type": "nested", "fields": []}),
            "needs `selector`",
        ),
        (
            json!({"name": "t", "type": "list", "selector": "p"}),
            "needs `fields`",
        ),
        (json!({"type": "text"}), "has no `name`"),
        (
            json!({"name": "t", "selector": 3, "type": "text"}),
            "`selector` must be a string",
        ),
    ];
    for (f, says) in cases {
        let e = css_err(field(f.clone())).to_string();
        assert!(e.contains(says), "{f}: {e}");
    }
}

#[test]
fn computed_fields_are_refused_never_run() {
    for f in [
        json!({"name": "total", "type": "computed", "expression": "__import__('os').system('x')"}),
        json!({"name": "total", "type": "text", "expression": "1"}),
        json!({"name": "n", "type": "nested", "selector": "p", "fields": [{"name": "total", "type": "computed"}]}),
    ] {
        assert!(matches!(css_err(field(f)), SchemaError::Computed(_)));
    }
}

#[test]
fn bad_selectors_and_regexes_are_refused() {
    let e = css_err(field(
        json!({"name": "t", "selector": "p:hover", "type": "text"}),
    ));
    assert!(
        matches!(e, SchemaError::Selector { ref field, .. } if field == "t"),
        "{e}"
    );
    let e = Schema::xpath(&field(
        json!({"name": "t", "selector": "//p[$x]", "type": "text"}),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("variable $x"), "{e}");
    // crawl4ai's own CSS → XPath rewriting makes `p#x` `.//p#x`: not XPath. (`p.x` is
    // valid XPath: elements named "p.x", as in lxml.)
    let e = Schema::xpath(&field(
        json!({"name": "t", "selector": "p#x", "type": "text"}),
    ));
    assert!(e.is_err());
    for (pattern, says) in [
        ("(?=x)y", "look-ahead"),
        ("(a)\\1", "backreference"),
        ("\\d+", "no group 1"),
        ("(?P<v>\\d+)(", "bad regex"),
    ] {
        let e = css_err(field(
            json!({"name": "t", "type": "regex", "pattern": pattern}),
        ))
        .to_string();
        assert!(e.contains(says), "{pattern}: {e}");
    }
    // `group: 0` is the whole match; a named group by its name.
    assert!(
        Schema::css(&field(
            json!({"name": "t", "type": "regex", "pattern": "\\d+", "group": 0})
        ))
        .is_ok()
    );
    assert!(RegexStrategy::from_params(&json!({"pattern": "all"})).is_err());
    assert!(RegexStrategy::from_params(&json!({"custom": {"x": "(?<=a)b"}})).is_err());
}

#[test]
fn a_raising_base_field_fails_the_page_as_crawl4ai_does() {
    let s = Schema::css(&json!({
        "baseSelector": "li",
        "baseFields": [{"name": "k", "type": "attribute", "attribute": "data-k", "transform": "strip"}],
        "fields": [{"name": "t", "type": "text"}]
    }))
    .unwrap();
    let ok = s.extract(&Dom::parse("<li data-k=' 1 '>a</li>")).unwrap();
    assert_eq!(ok, vec![json!({"k": "1", "t": "a"})]);
    let err = s.extract(&Dom::parse("<li>a</li>")).unwrap_err();
    assert!(
        matches!(err, ExtractError::BaseField { ref field, .. } if field == "k"),
        "{err}"
    );
}

#[test]
fn hostile_pages_stay_bounded() {
    // 100,000 nested divs: the parser caps depth, nothing recurses.
    let deep = "<div>".repeat(100_000) + "<p>x</p>";
    let dom = Dom::parse(&deep);
    let css = Schema::css(&json!({"baseSelector": "div > div > p", "fields": [
        {"name": "t", "type": "text"}, {"name": "h", "type": "html"}]}))
    .unwrap();
    // (Below the depth cap the text is the p's sibling, as the parser documents.)
    assert_eq!(
        css.extract(&dom).unwrap(),
        vec![json!({"t": "", "h": "<p></p>"})]
    );
    let x = Schema::xpath(&json!({"baseSelector": "//div//div//p", "fields": [
        {"name": "t", "type": "text"}]}))
    .unwrap();
    assert_eq!(x.extract(&dom).unwrap(), vec![json!({"t": ""})]);
    // An XPath whose work grows with the square of the page runs out of its budget: an
    // error for the base selector, the default for a field.
    let wide = "<div>".repeat(500) + &"<p>x</p>".repeat(5_000);
    let dom = Dom::parse(&wide);
    let x = Schema::xpath(&json!({"baseSelector": "//div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]", "fields": [
        {"name": "t", "type": "text"}]}))
    .unwrap();
    assert!(matches!(x.extract(&dom), Err(ExtractError::Base(_))));
    let x = Schema::xpath(&json!({"baseSelector": "/html | /*", "fields": [
        {"name": "t", "selector": ".//div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]/ancestor::div/descendant::*[1]", "type": "text", "default": "too costly"}]}))
    .unwrap();
    assert_eq!(x.extract(&dom).unwrap(), vec![json!({"t": "too costly"})]);
    // So does a CSS `:has()` whose work grows with the square of the page.
    let css = Schema::css(&json!({"baseSelector": "div:has(span ~ p)", "fields": [
        {"name": "t", "type": "text"}]}))
    .unwrap();
    assert!(matches!(css.extract(&dom), Err(ExtractError::Base(_))));
    // A pattern that backtracks exponentially in Python is linear here.
    let re = Schema::css(&json!({"baseSelector": "p", "fields": [
        {"name": "t", "type": "regex", "pattern": "(a+)+$", "default": "no"}]}))
    .unwrap();
    let page = format!("<p>{}!</p>", "a".repeat(20_000));
    assert_eq!(
        re.extract(&Dom::parse(&page)).unwrap(),
        vec![json!({"t": "no"})]
    );
}
