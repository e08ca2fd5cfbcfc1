//! What XML records hold, and the plan to decode them with.
//!
//! An [`Elem`] is what the instances of one element (at one place in the records) showed:
//! their attributes and the text of each (a [`ColumnInference`], the CSV reader's, so XML
//! text is typed exactly as CSV cells are), their child elements (and whether one repeats
//! within an instance), and their text. The plan is the shared [`Node`]: an element with
//! neither attributes nor children is a scalar column of its text; any other is a struct
//! whose fields are its attributes, its children (a list when one repeats) and, when it has
//! text of its own beside them, `#text`. Field keys tell them apart (`@id` for an
//! attribute, `id` for a child, `#text`); column names are the local names (`creator` for
//! `dc:creator`) unless two fields of one struct would share one.
//!
//! [`join`] widens a plan by what a later chunk showed, as the JSON reader's join does, plus
//! what XML needs: a child seen once and later repeated becomes a list, and an element seen
//! as text and later with attributes becomes a struct whose `#text` holds the text.

use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::Event;

use super::dtd::Context;
use super::walk::{check_comment, check_name, is_xmlns, parse_attrs, syntax, Read, Tag, Walker};
use super::wf;
use crate::decode::nested::plan::{self, FieldPlan, Node, StructPlan};
use crate::schema::{ColumnInference, ColumnType, NullTokens};

/// Deepest nesting of elements inside a record that is read into columns.
pub const MAX_RECORD_DEPTH: usize = 256;

/// The key of an element's own text among its fields.
pub const TEXT_KEY: &[u8] = b"#text";

/// What the instances of one element showed; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Elem {
    /// Attributes by name, with what their values were.
    pub attrs: Vec<(Vec<u8>, ColumnInference)>,
    attr_index: HashMap<Vec<u8>, usize>,
    /// Child elements by name.
    pub children: Vec<(Vec<u8>, Elem)>,
    child_index: HashMap<Vec<u8>, usize>,
    /// The text of instances with neither attributes nor children, and the non-blank text
    /// of the others.
    pub text: ColumnInference,
    /// Instances with non-blank text.
    pub texts: u64,
    /// Instances seen.
    pub instances: u64,
    /// Appeared more than once in one instance of its parent.
    pub repeated: bool,
    /// The parent instance it was last seen in.
    last_parent: u64,
}

impl Elem {
    fn attr(&mut self, name: &[u8]) -> Option<&mut ColumnInference> {
        let i = match self.attr_index.get(name) {
            Some(&i) => i,
            None => {
                self.attrs.push((name.to_vec(), ColumnInference::default()));
                self.attr_index.insert(name.to_vec(), self.attrs.len() - 1);
                self.attrs.len() - 1
            }
        };
        self.attrs.get_mut(i).map(|(_, inf)| inf)
    }

    fn child(&mut self, name: &[u8]) -> Option<&mut Elem> {
        let i = match self.child_index.get(name) {
            Some(&i) => i,
            None => {
                self.children.push((name.to_vec(), Elem::default()));
                self.child_index
                    .insert(name.to_vec(), self.children.len() - 1);
                self.children.len() - 1
            }
        };
        self.children.get_mut(i).map(|(_, e)| e)
    }

    /// Whether no instance had attributes or children: a scalar.
    pub fn is_leaf(&self) -> bool {
        self.attrs.is_empty() && self.children.is_empty()
    }

    /// Reads one instance (its start tag is `tag`) to its end tag, adding what it holds.
    /// `text` is scratch space for text, shared by the levels of the record.
    pub fn observe(
        &mut self,
        tag: &Tag<'_>,
        w: &mut Walker<'_>,
        text: &mut Vec<u8>,
        attrs: &mut Vec<(Vec<u8>, Vec<u8>)>,
        depth: usize,
    ) -> Read<()> {
        if depth >= MAX_RECORD_DEPTH {
            return syntax(tag.at, "elements nested too deeply inside a record");
        }
        self.instances += 1;
        let instance = self.instances;
        let values = w.values();
        let mut parsed = Vec::new();
        parse_attrs(tag, &mut parsed)?;
        let mut leaf = true;
        for (name, raw) in parsed {
            if is_xmlns(name) {
                continue;
            }
            leaf = false;
            let start = text.len();
            values.att_value(raw, tag.at, text)?;
            let value = text.get(start..).unwrap_or_default().to_vec();
            text.truncate(start);
            attrs.push((name.to_vec(), value));
        }
        for (name, value) in attrs.drain(..) {
            if let Some(inf) = self.attr(&name) {
                inf.observe(&value);
            }
        }
        let start = text.len();
        if !tag.empty {
            loop {
                let at = w.pos();
                match w.event()? {
                    ev @ (Event::Start(_) | Event::Empty(_)) => {
                        let child_tag = match ev {
                            Event::Empty(e) => Tag::new(&e, w.b, at, true),
                            Event::Start(e) => Tag::new(&e, w.b, at, false),
                            _ => return syntax(at, "internal error: not a start tag"),
                        };
                        let name = child_tag.name();
                        check_name(name, at)?;
                        leaf = false;
                        if let Some(child) = self.child(name) {
                            if child.last_parent == instance {
                                child.repeated = true;
                            }
                            child.last_parent = instance;
                            child.observe(&child_tag, w, text, attrs, depth + 1)?;
                        }
                    }
                    Event::End(e) => {
                        let name = e.name();
                        if name.as_ref() != tag.name() {
                            return syntax(at, "an end tag that does not match its start tag");
                        }
                        break;
                    }
                    Event::Text(t) => values.text(&t.into_inner(), at, text)?,
                    Event::CData(t) => super::walk::push_normalised(&t.into_inner(), text),
                    Event::GeneralRef(r) => {
                        values.reference(&r.into_inner(), at, Context::Content, text)?;
                    }
                    Event::Comment(c) => check_comment(&c.into_inner(), at)?,
                    Event::PI(p) => {
                        if let Err(what) = super::dtd::pi_ok(&p.into_inner()) {
                            return syntax(at, what);
                        }
                    }
                    Event::Decl(_) | Event::DocType(_) => {
                        return syntax(at, "a declaration inside an element");
                    }
                    Event::Eof => return syntax(at, "the element is never closed"),
                }
            }
        }
        let own = text.get(start..).unwrap_or_default();
        if leaf || !wf::all_space(own) {
            self.text.observe(own);
        }
        if !wf::all_space(own) {
            self.texts += 1;
        }
        text.truncate(start);
        Ok(())
    }

    /// The plan for this element's values. `name` is its name (epoch times are recognised
    /// by it); `null_ok`: a leaf whose values were all empty may be null-typed.
    pub fn node(&self, name: &[u8], typing: Typing) -> (Node, NullTokens) {
        if self.is_leaf() {
            return leaf_node(
                &self.text,
                &String::from_utf8_lossy(wf::local_name(name)),
                typing,
            );
        }
        (
            Node::Struct(Arc::new(self.struct_plan(typing))),
            NullTokens::EMPTY_ONLY,
        )
    }

    /// The plan of this element as a struct (a record's always is).
    pub fn struct_plan(&self, typing: Typing) -> StructPlan {
        let mut fields = Vec::new();
        for (name, inf) in &self.attrs {
            let (node, nulls) =
                leaf_node(inf, &String::from_utf8_lossy(wf::local_name(name)), typing);
            let mut key = b"@".to_vec();
            key.extend_from_slice(name);
            fields.push(FieldPlan {
                name: String::new(),
                key,
                node,
                nulls,
            });
        }
        for (name, child) in &self.children {
            let (node, nulls) = child.node(name, typing);
            let node = if child.repeated {
                Node::List(Box::new(node))
            } else {
                node
            };
            fields.push(FieldPlan {
                name: String::new(),
                key: name.clone(),
                node,
                nulls,
            });
        }
        if self.texts > 0 || (self.is_leaf() && self.instances > 0) {
            let (node, nulls) = leaf_node(&self.text, "#text", typing);
            fields.push(FieldPlan {
                name: String::new(),
                key: TEXT_KEY.to_vec(),
                node,
                nulls,
            });
        }
        name_fields(&mut fields, 0);
        StructPlan::new(fields)
    }
}

/// How scalars are typed from the text of their sampled values.
#[derive(Debug, Clone, Copy)]
pub struct Typing {
    /// The share of sampled values a type may fail to read (see
    /// [`ColumnInference::resolve_full`]).
    pub tolerance: f64,
    /// A scalar whose values were all empty may be null-typed.
    pub null_ok: bool,
    /// Text mode (`infer_types=false`): every scalar is text, as written.
    pub text: bool,
}

/// The plan of a scalar from what its values' text showed, typed as CSV cells are.
pub fn leaf_node(inf: &ColumnInference, name: &str, typing: Typing) -> (Node, NullTokens) {
    if typing.text {
        return (Node::Str, NullTokens::EMPTY_ONLY);
    }
    if inf.only_nulls() {
        let node = if typing.null_ok {
            Node::Null
        } else {
            Node::Str
        };
        return (node, NullTokens::EMPTY_ONLY);
    }
    let (ty, nulls, fmt) = inf.resolve_full(typing.tolerance);
    match ty {
        ColumnType::Int64 => match inf.epoch_format(name) {
            Some(f) => (
                Node::Timestamp {
                    fmt: f,
                    nanos: false,
                    utc: false,
                },
                nulls,
            ),
            None => (Node::Int, nulls),
        },
        ColumnType::Utf8 => (Node::Str, NullTokens::EMPTY_ONLY),
        other => (Node::of_type(other, fmt), nulls),
    }
}

/// The column name a field's key gives: local names, unless that makes two alike.
fn base_name(key: &[u8]) -> String {
    let k = key.strip_prefix(b"@").unwrap_or(key);
    let k = if key == TEXT_KEY {
        key
    } else {
        wf::local_name(k)
    };
    String::from_utf8_lossy(k).into_owned()
}

/// The name a field falls back to when its local name is taken: its qualified name, with
/// `@` for an attribute.
fn full_name(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Names the fields from `from` on (the earlier ones are named already): local names where
/// they are unique in the struct, qualified names otherwise, a number added as a last resort.
pub fn name_fields(fields: &mut [FieldPlan], from: usize) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for f in fields.iter().skip(from) {
        *counts.entry(base_name(&f.key)).or_insert(0) += 1;
    }
    let mut taken: std::collections::HashSet<String> =
        fields.iter().take(from).map(|f| f.name.clone()).collect();
    for f in fields.iter_mut().skip(from) {
        let base = base_name(&f.key);
        let mut name = if counts.get(&base).copied().unwrap_or(0) > 1 || taken.contains(&base) {
            full_name(&f.key)
        } else {
            base
        };
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{}_{n}", full_name(&f.key));
            n += 1;
        }
        taken.insert(name.clone());
        f.name = name;
    }
}

/// The record plan (the root struct): a record that is only ever text has one column named
/// after the record element.
pub fn record_plan(elem: &Elem, record_name: &[u8], typing: Typing) -> StructPlan {
    let mut plan = elem.struct_plan(typing);
    if let [only] = plan.fields.as_mut_slice() {
        if only.key == TEXT_KEY {
            only.name = String::from_utf8_lossy(wf::local_name(record_name)).into_owned();
        }
    }
    StructPlan::new(plan.fields)
}

/// The plan reading values of both `a` and `b`; see the module docs. `None` when no plan
/// reads both under the policy (never for XML's own shapes; kept for the shared lattice).
pub fn join(a: &Node, b: &Node, evolve: bool) -> Option<Node> {
    use Node::{List, Null, Struct};
    Some(match (a, b) {
        _ if a == b => a.clone(),
        (Null, x) | (x, Null) => x.clone(),
        (List(x), List(y)) => List(Box::new(join(x, y, evolve)?)),
        (List(x), y) | (y, List(x)) => List(Box::new(join(x, y, evolve)?)),
        (Struct(x), Struct(y)) => Struct(Arc::new(join_structs(x, y, evolve)?)),
        (Struct(s), y) => Struct(Arc::new(with_text(s, y, evolve)?)),
        (y, Struct(s)) => Struct(Arc::new(with_text(s, y, evolve)?)),
        _ => plan::join(a, b, evolve)?,
    })
}

fn join_structs(x: &StructPlan, y: &StructPlan, evolve: bool) -> Option<StructPlan> {
    let mut fields = x.fields.clone();
    let known = fields.len();
    for f in &y.fields {
        match x.find(&f.key) {
            Some(i) => {
                let mine = fields.get_mut(i)?;
                mine.node = join(&mine.node, &f.node, evolve)?;
            }
            None => fields.push(f.clone()),
        }
    }
    name_fields(&mut fields, known);
    Some(StructPlan::new(fields))
}

/// The struct `s` with a scalar `y` joined into its text.
fn with_text(s: &StructPlan, y: &Node, evolve: bool) -> Option<StructPlan> {
    let mut fields = s.fields.clone();
    match s.find(TEXT_KEY) {
        Some(i) => {
            let f = fields.get_mut(i)?;
            f.node = join(&f.node, y, evolve)?;
        }
        None => {
            let known = fields.len();
            fields.push(FieldPlan {
                name: String::new(),
                key: TEXT_KEY.to_vec(),
                node: y.clone(),
                nulls: NullTokens::EMPTY_ONLY,
            });
            name_fields(&mut fields, known);
        }
    }
    Some(StructPlan::new(fields))
}
