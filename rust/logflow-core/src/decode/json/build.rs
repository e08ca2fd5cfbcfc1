//! Decoding JSON values straight into Arrow columns (the shared builders of
//! [`crate::decode::nested::build`]), by a [`Node`] plan: no value tree is built.

pub use crate::decode::nested::build::*;

use super::lex::{Lex, MAX_DEPTH};
use super::plan::{FieldPlan, Node, StructPlan};
use crate::schema::NullTokens;

/// A syntax failure at the cursor.
#[cold]
fn syntax(lex: &Lex<'_>, what: &'static str) -> Fail {
    Fail::Syntax(Syntax { at: lex.i, what })
}

#[cold]
fn shape_fail(what: &str, found: &str) -> Fail {
    Fail::Shape {
        path: String::new(),
        detail: format!("expected {what}, found {found}"),
    }
}

/// What the value at the cursor is, in words (for messages).
fn kind_at(lex: &Lex<'_>) -> &'static str {
    match lex.peek() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

impl Col {
    /// Decodes the value at the cursor (after whitespace) into this column.
    pub fn decode(
        &mut self,
        lex: &mut Lex<'_>,
        node: &Node,
        nulls: NullTokens,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let c = lex.ws();
        if c == Some(b'n') {
            lex.literal(b"null")?;
            self.push_null();
            return Ok(());
        }
        if let (Node::Struct(plan), Col::Struct { .. }) = (node, &*self) {
            if c == Some(b'{') {
                return self.decode_object(lex, plan, ctx, depth);
            }
        }
        match (node, self) {
            (Node::List(item), Col::List(offsets, child, valid)) if c == Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(lex, "nested too deeply"));
                }
                lex.i += 1;
                let mut k = 0usize;
                if lex.ws() == Some(b']') {
                    lex.i += 1;
                } else {
                    loop {
                        child
                            .decode(lex, item, NullTokens::EMPTY_ONLY, ctx, depth + 1)
                            .map_err(|f| f.within(&k.to_string()))?;
                        k += 1;
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b']') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return Err(syntax(lex, "',' or ']' expected in an array")),
                        }
                    }
                }
                close_nested(offsets, child.len(), valid, "list items")
            }
            (Node::Map(value), Col::Map(offsets, keys, values, valid)) if c == Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(lex, "nested too deeply"));
                }
                lex.i += 1;
                if lex.ws() == Some(b'}') {
                    lex.i += 1;
                } else {
                    loop {
                        if lex.ws() != Some(b'"') {
                            return Err(syntax(lex, "object key (a string) expected"));
                        }
                        let key_start = keys.data.len();
                        lex.string_into(&mut keys.data)?;
                        keys.close()?;
                        lex.expect(b':', "':' expected after an object key")?;
                        let seg =
                            String::from_utf8_lossy(keys.data.get(key_start..).unwrap_or_default())
                                .into_owned();
                        values
                            .decode(lex, value, NullTokens::EMPTY_ONLY, ctx, depth + 1)
                            .map_err(|f| f.within(&seg))?;
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b'}') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return Err(syntax(lex, "',' or '}' expected in an object")),
                        }
                    }
                }
                close_nested(offsets, values.len(), valid, "map entries")
            }
            (Node::Json, Col::Str(text, valid)) => {
                let start = lex.i;
                lex.skip_value(depth)?;
                text.data
                    .extend_from_slice(lex.b.get(start..lex.i).unwrap_or_default());
                text.close()?;
                valid.0.append_non_null();
                Ok(())
            }
            (Node::Struct(_) | Node::List(_) | Node::Map(_), _) => {
                let want = match node {
                    Node::Struct(_) | Node::Map(_) => "an object",
                    _ => "an array",
                };
                Err(shape_fail(want, kind_at(lex)))
            }
            (_, col) => col.decode_scalar(lex, node, nulls, ctx, depth),
        }
    }

    /// Decodes an object at the cursor into this struct column.
    fn decode_object(
        &mut self,
        lex: &mut Lex<'_>,
        plan: &StructPlan,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let Col::Struct {
            fields,
            stamp,
            len,
            valid,
        } = self
        else {
            return Err(shape_fail("an object", "another column"));
        };
        if depth >= MAX_DEPTH {
            return Err(syntax(lex, "nested too deeply"));
        }
        lex.i += 1;
        let row = *len + 1;
        let mut guess = 0usize;
        if lex.ws() == Some(b'}') {
            lex.i += 1;
        } else {
            loop {
                if lex.ws() != Some(b'"') {
                    return Err(syntax(lex, "object key (a string) expected"));
                }
                let (raw, escaped) = lex.string_raw()?;
                let key: &[u8] = if escaped {
                    ctx.scratch.clear();
                    super::lex::unescape(raw, &mut ctx.scratch)?;
                    &ctx.scratch
                } else {
                    raw
                };
                let found = match plan.fields.get(guess) {
                    Some(f) if f.key == key => Some(guess),
                    _ => plan.find(key),
                };
                let Some(i) = found else {
                    let name = String::from_utf8_lossy(key).into_owned();
                    return Err(Fail::Shape {
                        path: String::new(),
                        detail: format!("a field {name:?} that is not in the schema"),
                    }
                    .within(&name));
                };
                lex.expect(b':', "':' expected after an object key")?;
                let (Some(col), Some(f), Some(s)) =
                    (fields.get_mut(i), plan.fields.get(i), stamp.get_mut(i))
                else {
                    return Err(shape_fail("a known field", "a field out of range"));
                };
                if *s == row {
                    // A repeated key: the last value wins, as in most JSON readers.
                    col.truncate(row - 1);
                }
                col.decode(lex, &f.node, f.nulls, ctx, depth + 1)
                    .map_err(|e| e.within(&f.name))?;
                *s = row;
                guess = i + 1;
                match lex.ws() {
                    Some(b',') => lex.i += 1,
                    Some(b'}') => {
                        lex.i += 1;
                        break;
                    }
                    _ => return Err(syntax(lex, "',' or '}' expected in an object")),
                }
            }
        }
        for (col, s) in fields.iter_mut().zip(stamp.iter_mut()) {
            if *s != row {
                col.push_null();
                *s = row;
            }
        }
        *len += 1;
        valid.0.append_non_null();
        Ok(())
    }

    /// Decodes a scalar (or, for a text column, any scalar as its text).
    fn decode_scalar(
        &mut self,
        lex: &mut Lex<'_>,
        node: &Node,
        nulls: NullTokens,
        ctx: &mut Ctx,
        depth: usize,
    ) -> Decoded {
        let _ = depth;
        // The value's text: a string's decoded bytes, or a number's or literal's text.
        let c = lex.peek();
        let is_string = c == Some(b'"');
        let text: &[u8] = match c {
            Some(b'"') => {
                let (raw, escaped) = lex.string_raw()?;
                if escaped {
                    ctx.scratch.clear();
                    super::lex::unescape(raw, &mut ctx.scratch)?;
                    &ctx.scratch
                } else {
                    raw
                }
            }
            Some(b't') => {
                lex.literal(b"true")?;
                b"true"
            }
            Some(b'f') => {
                lex.literal(b"false")?;
                b"false"
            }
            Some(b'-' | b'0'..=b'9') => lex.number()?.text,
            Some(b'{' | b'[') => {
                return Err(shape_fail("a scalar", kind_at(lex)));
            }
            _ => return Err(syntax(lex, "a JSON value expected")),
        };
        let boolean = !is_string && matches!(c, Some(b't' | b'f'));
        if is_string && text.is_empty() && ctx.empty_as_null && matches!(node, Node::Str) {
            self.push_null();
            return Ok(());
        }
        if self.push_scalar(node, text, is_string, boolean, nulls, ctx.null_on_cast)? {
            ctx.nulled += 1;
        }
        Ok(())
    }
}

/// The plan of a record that is not an object: one column named `value`.
pub fn value_plan(node: Node) -> StructPlan {
    StructPlan::new(vec![FieldPlan {
        name: "value".into(),
        key: b"value".to_vec(),
        node,
        nulls: NullTokens::EMPTY_ONLY,
    }])
}
