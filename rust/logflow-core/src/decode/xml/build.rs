//! Decoding XML records straight into Arrow columns (the shared builders of
//! [`crate::decode::nested::build`]) by a [`Node`] plan, event by event: attributes and
//! child elements go to their fields, repeated children into lists, text to the element's
//! scalar column or its `#text` field. Anything the plan does not have (a new attribute, a
//! child where text was, a value its column cannot hold) fails the record, which is then
//! cut back out of the columns whole.

use quick_xml::events::Event;

use super::dtd::Context;
use super::shape::{MAX_RECORD_DEPTH, TEXT_KEY};
use super::walk::{
    check_comment, check_name, is_xmlns, parse_attrs, push_normalised, syntax, Bad, Read, Tag,
    Walker,
};
use super::wf;
use crate::decode::nested::build::{Col, Fail};
use crate::decode::nested::plan::{Node, StructPlan};
use crate::schema::NullTokens;

/// Scratch space for decoding one chunk's records.
#[derive(Debug, Default)]
pub struct Scratch<'a> {
    /// Attributes of the tags being read (a stack: each level truncates back).
    pub attrs: Vec<(&'a [u8], &'a [u8])>,
    /// Text being gathered (a stack, as attributes).
    pub text: Vec<u8>,
    /// A field key being built (`@name`).
    pub key: Vec<u8>,
    /// A value the column cannot hold becomes null.
    pub null_on_cast: bool,
    /// Values set to null that way.
    pub nulled: u64,
    /// An empty element is null in a text column too (always when types are inferred; in
    /// text mode only with `empty_as_null`).
    pub empty_as_null: bool,
}

#[cold]
fn shape(path: &[u8], detail: String) -> Bad {
    Bad::Plan(Fail::Shape {
        path: format!("/{}", String::from_utf8_lossy(path)),
        detail,
    })
}

/// Pushes text into a scalar column, as its node types it.
#[inline]
fn push(
    col: &mut Col,
    node: &Node,
    text: &[u8],
    nulls: NullTokens,
    s: &mut Scratch<'_>,
) -> Read<()> {
    if col.push_scalar(node, text, true, false, nulls, s.null_on_cast)? {
        s.nulled += 1;
    }
    Ok(())
}

/// Decodes the element `tag` into `col`, which is of `node`'s shape.
pub fn decode_value<'a>(
    col: &mut Col,
    node: &Node,
    nulls: NullTokens,
    tag: &Tag<'a>,
    w: &mut Walker<'a>,
    s: &mut Scratch<'a>,
    depth: usize,
) -> Read<()> {
    if depth >= MAX_RECORD_DEPTH {
        return syntax(tag.at, "elements nested too deeply inside a record");
    }
    match node {
        Node::Struct(plan) => decode_struct(col, plan, tag, w, s, depth),
        Node::List(_) | Node::Map(_) | Node::Json => Err(shape(
            tag.name(),
            "an element where the schema has a list, map or JSON value".into(),
        )),
        _ => decode_leaf(col, node, nulls, tag, w, s),
    }
}

/// A scalar element: its text, to its end tag.
fn decode_leaf<'a>(
    col: &mut Col,
    node: &Node,
    nulls: NullTokens,
    tag: &Tag<'a>,
    w: &mut Walker<'a>,
    s: &mut Scratch<'a>,
) -> Read<()> {
    let first = s.attrs.len();
    parse_attrs(tag, &mut s.attrs)?;
    let has_attrs = s
        .attrs
        .get(first..)
        .unwrap_or_default()
        .iter()
        .any(|(n, _)| !is_xmlns(n));
    s.attrs.truncate(first);
    if has_attrs {
        return Err(shape(
            tag.name(),
            format!(
                "<{}> has attributes where the schema has text",
                String::from_utf8_lossy(tag.name())
            ),
        ));
    }
    let start = s.text.len();
    if !tag.empty {
        read_text(tag, w, s)?;
    }
    let text = std::mem::take(&mut s.text);
    let own = text.get(start..).unwrap_or_default();
    // An empty element is null in a typed column, and in a text one unless text mode keeps
    // it as written.
    let res = if own.is_empty() && (s.empty_as_null || !matches!(node, Node::Str)) {
        col.push_null();
        Ok(())
    } else {
        push(col, node, own, nulls, s)
    };
    s.text = text;
    s.text.truncate(start);
    res.map_err(|e| match e {
        Bad::Plan(f) => Bad::Plan(f.within(&String::from_utf8_lossy(tag.name()))),
        other => other,
    })
}

/// Reads an element's text to its end tag; a child element fails it.
fn read_text<'a>(tag: &Tag<'a>, w: &mut Walker<'a>, s: &mut Scratch<'a>) -> Read<()> {
    let values = w.values();
    loop {
        let at = w.pos();
        match w.event()? {
            Event::Text(t) => values.text(&t.into_inner(), at, &mut s.text)?,
            Event::CData(t) => push_normalised(&t.into_inner(), &mut s.text),
            Event::GeneralRef(r) => {
                values.reference(&r.into_inner(), at, Context::Content, &mut s.text)?;
            }
            Event::End(e) => {
                if e.name().as_ref() != tag.name() {
                    return syntax(at, "an end tag that does not match its start tag");
                }
                return Ok(());
            }
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                check_name(name.as_ref(), at)?;
                return Err(shape(
                    tag.name(),
                    format!(
                        "a child element <{}> where the schema has text",
                        String::from_utf8_lossy(name.as_ref())
                    ),
                ));
            }
            Event::Comment(c) => check_comment(&c.into_inner(), at)?,
            Event::PI(p) => {
                if let Err(what) = super::dtd::pi_ok(&p.into_inner()) {
                    return syntax(at, what);
                }
            }
            Event::Decl(_) | Event::DocType(_) => {
                return syntax(at, "a declaration inside an element")
            }
            Event::Eof => return syntax(at, "the element is never closed"),
        }
    }
}

/// The index of `key` in `plan`, trying `guess` (the field after the last one) first.
#[inline]
fn find(plan: &StructPlan, key: &[u8], guess: usize) -> Option<usize> {
    match plan.fields.get(guess) {
        Some(f) if f.key == key => Some(guess),
        _ => plan.find(key),
    }
}

/// An element with attributes or children, into a struct column.
pub fn decode_struct<'a>(
    col: &mut Col,
    plan: &StructPlan,
    tag: &Tag<'a>,
    w: &mut Walker<'a>,
    s: &mut Scratch<'a>,
    depth: usize,
) -> Read<()> {
    let Col::Struct {
        fields,
        stamp,
        len,
        valid,
    } = col
    else {
        return Err(shape(
            tag.name(),
            "an element where the schema has none".into(),
        ));
    };
    let row = *len + 1;
    let values = w.values();
    let first = s.attrs.len();
    parse_attrs(tag, &mut s.attrs)?;
    let mut guess = 0;
    let mut k = first;
    while let Some(&(name, raw)) = s.attrs.get(k) {
        k += 1;
        if is_xmlns(name) {
            continue;
        }
        s.key.clear();
        s.key.push(b'@');
        s.key.extend_from_slice(name);
        let Some(i) = find(plan, &s.key, guess) else {
            s.attrs.truncate(first);
            return Err(shape(
                &s.key,
                format!(
                    "an attribute {} that is not in the schema",
                    String::from_utf8_lossy(name)
                ),
            ));
        };
        guess = i + 1;
        let (Some(c), Some(f), Some(st)) =
            (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
        else {
            continue;
        };
        let start = s.text.len();
        let res = values.att_value(raw, tag.at, &mut s.text).and_then(|()| {
            let text = std::mem::take(&mut s.text);
            let r = push(
                c,
                &f.node,
                text.get(start..).unwrap_or_default(),
                f.nulls,
                s,
            );
            s.text = text;
            r
        });
        s.text.truncate(start);
        if let Err(e) = res {
            s.attrs.truncate(first);
            return Err(match e {
                Bad::Plan(fail) => Bad::Plan(fail.within(&f.name)),
                other => other,
            });
        }
        *st = row;
    }
    s.attrs.truncate(first);
    let text_start = s.text.len();
    if !tag.empty {
        let mut guess = 0;
        loop {
            let at = w.pos();
            let child = match w.event()? {
                Event::Start(e) => Tag::new(&e, w.b, at, false),
                Event::Empty(e) => Tag::new(&e, w.b, at, true),
                Event::End(e) => {
                    if e.name().as_ref() != tag.name() {
                        return syntax(at, "an end tag that does not match its start tag");
                    }
                    break;
                }
                Event::Text(t) => {
                    values.text(&t.into_inner(), at, &mut s.text)?;
                    continue;
                }
                Event::CData(t) => {
                    push_normalised(&t.into_inner(), &mut s.text);
                    continue;
                }
                Event::GeneralRef(r) => {
                    values.reference(&r.into_inner(), at, Context::Content, &mut s.text)?;
                    continue;
                }
                Event::Comment(c) => {
                    check_comment(&c.into_inner(), at)?;
                    continue;
                }
                Event::PI(p) => {
                    if let Err(what) = super::dtd::pi_ok(&p.into_inner()) {
                        return syntax(at, what);
                    }
                    continue;
                }
                Event::Decl(_) | Event::DocType(_) => {
                    return syntax(at, "a declaration inside an element")
                }
                Event::Eof => return syntax(at, "the element is never closed"),
            };
            let name = child.name();
            check_name(name, at)?;
            let Some(i) = find(plan, name, guess) else {
                return Err(shape(
                    name,
                    format!(
                        "an element <{}> that is not in the schema",
                        String::from_utf8_lossy(name)
                    ),
                ));
            };
            guess = i + 1;
            let (Some(c), Some(f), Some(st)) =
                (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
            else {
                continue;
            };
            let res = match (&f.node, &mut *c) {
                (Node::List(item), Col::List(_, items, _)) => {
                    decode_value(items, item, f.nulls, &child, w, s, depth + 1)
                }
                (node, c) => {
                    if *st == row {
                        return Err(shape(
                            name,
                            format!(
                                "<{}> repeated where the schema has one",
                                String::from_utf8_lossy(name)
                            ),
                        ));
                    }
                    decode_value(c, node, f.nulls, &child, w, s, depth + 1)
                }
            };
            if let Err(e) = res {
                return Err(match e {
                    Bad::Plan(fail) if !matches!(f.node, Node::Struct(_)) => Bad::Plan(fail),
                    other => other,
                });
            }
            *st = row;
        }
    }
    // The element's own text.
    let own = s.text.get(text_start..).unwrap_or_default();
    let blank = wf::all_space(own);
    let text_field = plan.find(TEXT_KEY);
    match text_field {
        Some(i) => {
            if let (Some(c), Some(f), Some(st)) =
                (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
            {
                // A struct's blank text is no text (indentation between children).
                let only_text = plan.fields.len() == 1;
                if !own.is_empty() && (!blank || only_text) {
                    let text = std::mem::take(&mut s.text);
                    let r = push(
                        c,
                        &f.node,
                        text.get(text_start..).unwrap_or_default(),
                        f.nulls,
                        s,
                    );
                    s.text = text;
                    r?;
                    *st = row;
                }
            }
        }
        None if !blank => {
            s.text.truncate(text_start);
            return Err(shape(
                TEXT_KEY,
                format!(
                    "text in <{}> where the schema has none",
                    String::from_utf8_lossy(tag.name())
                ),
            ));
        }
        None => {}
    }
    s.text.truncate(text_start);
    for (c, st) in fields.iter_mut().zip(stamp.iter_mut()) {
        if *st != row {
            c.push_null();
            *st = row;
        } else if let Col::List(offsets, items, v) = c {
            match i32::try_from(items.len()) {
                Ok(end) => offsets.push(end),
                Err(_) => {
                    return Err(Bad::Plan(Fail::Cast {
                        path: String::new(),
                        detail: "more than 2^31 list items in one chunk".into(),
                    }))
                }
            }
            v.push_valid();
        }
    }
    *len += 1;
    valid.push_valid();
    Ok(())
}
